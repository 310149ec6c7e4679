"""The REST API over a real uvicorn on 127.0.0.1 and the real index of the shipped corpus:
answers, search, documents, health, the OpenAPI description and its offline docs page,
Dutch JSON errors, and a property-based run (Schemathesis) that finds no 500.

Also home of the helpers the other intranet tests share: ``AppServer`` (uvicorn as
app.py runs it, with ``proxy_headers`` off) and ``client``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re

import httpx
import pytest
from helpers import CORPUS, FAQ, GUIDE, AppServer, client, settings_for

from assistant.core.assistant import MAX_QUESTION_CHARS
from assistant.web.app import create_app
from assistant.web.schemas import answer_json

GUIDE_QUESTION = "Hoe lang bewaren we de verslagen?"
OUT_OF_SCOPE = "Hoe vraag ik een parkeervergunning aan?"


@pytest.fixture(scope="module")
def api_settings(corpus_index, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api")
    return corpus_index.settings.replace(feedback_db=str(folder / "feedback.sqlite"), rate_limit=0)


@pytest.fixture(scope="module")
def server(corpus_index, api_settings):
    with AppServer(create_app(api_settings, corpus_index.assistant)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with client(server) as c:
        yield c


def ask(http: httpx.Client, question, **body) -> httpx.Response:
    return http.post("/api/v1/ask", json={"question": question, **body})


# ---------------------------------------------------------------------------
# Answers


def test_ask_answers_with_citations_like_the_assistant_itself(http, server, corpus_index):
    response = ask(http, GUIDE_QUESTION)
    assert response.status_code == 200
    data = response.json()
    direct = corpus_index.assistant.ask(GUIDE_QUESTION)
    assert data["text"] == direct.text  # the same Assistant.ask() as the chat
    assert data["abstained"] is False and data["mode"] in ("faq", "extractive")
    assert set(data["timings"]) >= {"retrieval", "answer", "total"}
    assert data["citations"], data
    for n in re.findall(r"\[(\d+)\]", data["text"]):
        assert any(c["n"] == int(n) for c in data["citations"])
    first = data["citations"][0]
    assert first["document"] == GUIDE and first["title"].startswith("Draaiboek LIVC-R")
    assert len(first["section_path"]) >= 2 and first["section_path"][-1] == first["section"]
    assert first["quote"] and first["quote"].split(". ")[0] in first["passage"]
    assert first["url"] == f"{server.url}/documenten/{GUIDE}#{first['anchor']}"
    # The anchor URL lands on the section's heading in the document viewer.
    page = http.get(first["url"])
    assert page.status_code == 200 and f'id="{first["anchor"]}"' in page.text
    # One JSON shape of an answer: the body is answer_json() (what `livc ask --json` prints).
    same = answer_json(direct, corpus_index.settings, server.url)
    assert {**data, "timings": None} == {**same, "timings": None}


def test_out_of_scope_question_abstains_with_suggestions(http):
    data = ask(http, OUT_OF_SCOPE).json()
    assert data["abstained"] is True and data["citations"] == []
    assert data["suggestions"] and all("/documenten/" in s["url"] for s in data["suggestions"])


def test_history_makes_a_follow_up_understood(http):
    data = ask(http, "Wie is daar verantwoordelijk voor?", history=["Wat is de OCAD-lijst?"]).json()
    assert data["notice"] == "Gelezen als vervolg op uw vorige vraag: “Wat is de OCAD-lijst?”"
    assert "OCAD" in data["text"]


def test_search_ranks_passages_with_scores(http):
    data = http.get("/api/v1/search", params={"q": "bewaartermijn verslagen", "k": 3}).json()
    results = data["results"]
    assert [r["rank"] for r in results] == [1, 2, 3]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert results[0]["document"] in (GUIDE, FAQ) and results[0]["text"]
    assert results[0]["url"].endswith(f"/documenten/{results[0]['document']}#{results[0]['anchor']}")


def test_documents_lists_what_is_indexed(http, corpus_index):
    data = http.get("/api/v1/documents").json()
    files = {d["file"]: d for d in data["documents"]}
    assert set(files) == {GUIDE, FAQ}
    for name, entry in files.items():
        assert entry["sha256"] == hashlib.sha256((CORPUS / name).read_bytes()).hexdigest()
        assert entry["indexed_at"] == data["built_at"] == corpus_index.assistant.store.manifest.built_at
        assert entry["passages"] > 0 and entry["title"]


def test_health_and_readiness(http, tmp_path):
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz").json()
    assert ready["status"] == "ready" and ready["passages"] > 0
    # An app without a loaded index is alive but not ready.
    with AppServer(create_app(settings_for(CORPUS, tmp_path / "index"))) as bare, client(bare) as c:
        assert c.get("/healthz").status_code == 200
        not_ready = c.get("/readyz")
        assert not_ready.status_code == 503 and not_ready.json()["status"] == "not_ready"


# ---------------------------------------------------------------------------
# Errors: JSON, stable code, Dutch message, never a 500


@pytest.mark.parametrize(
    "body, status, code, words",
    [
        ({"question": ""}, 422, "invalid_question", "Typ eerst een vraag"),
        ({"question": "   \u200b "}, 422, "invalid_question", "Typ eerst een vraag"),
        ({"question": "?!"}, 422, "invalid_question", "geen woorden"),
        ({"question": "x " * MAX_QUESTION_CHARS}, 422, "question_too_long", "te lang"),
        ({"question": "x" * 30_000}, 422, "invalid_request", "te lang"),
        ({}, 422, "invalid_request", "de vraag ontbreekt"),
        ({"question": 42}, 422, "invalid_request", "moet tekst zijn"),
        ({"question": "Wie?", "history": "Wat?"}, 422, "invalid_request", "lijst"),
        ({"question": "Wie?", "history": ["Wat?"] * 21}, 422, "invalid_request", "te veel"),
        ([1, 2], 422, "invalid_request", "JSON-object"),
    ],
)
def test_bad_questions_get_a_dutch_4xx(http, body, status, code, words):
    response = http.post("/api/v1/ask", json=body)
    assert response.status_code == status, response.text
    data = response.json()
    assert data["code"] == code and words in data["message"], data


def test_malformed_json_unknown_paths_and_methods(http):
    bad = http.post("/api/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_json"
    missing = http.get("/api/v1/bestaat-niet")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert "bestaat niet" in missing.json()["message"]
    wrong = http.get("/api/v1/ask")
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"
    for params in ({"q": ""}, {"q": "verslag", "k": 0}, {"q": "verslag", "k": "veel"}, {}):
        response = http.get("/api/v1/search", params=params)
        assert response.status_code == 422 and response.json()["message"].startswith(("Het verzoek", "Typ")), params


def test_history_items_that_are_not_questions_are_left_out(http):
    data = ask(http, GUIDE_QUESTION, history=["", "  ", "x" * 5000]).json()
    assert data["abstained"] is False and data["notice"] is None
    # A lone surrogate (not text) is refused, not passed on.
    body = json.dumps({"question": GUIDE_QUESTION, "history": ["\ud800"]})  # json escapes it
    refused = http.post("/api/v1/ask", content=body, headers={"Content-Type": "application/json"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_request"
    body = json.dumps({"question": "Wie \ud800 leidt de LIVC-R?"})
    assert http.post("/api/v1/ask", content=body, headers={"Content-Type": "application/json"}).status_code == 422


def test_questions_are_not_logged_unless_the_operator_says_so(http, caplog):
    secret = "Mag ik Jan Janssens uit de Kerkstraat aanmelden?"
    with caplog.at_level(logging.DEBUG):
        assert ask(http, secret).status_code == 200
        assert http.get("/api/v1/search", params={"q": secret}).status_code == 200
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("livc", "assistant", "uvicorn")))
    assert '"event": "answered"' in ours and '"source": "api"' in ours  # the structured event (assistant.web.logs)
    assert "Janssens" not in ours


def test_personal_data_is_masked_or_refused(http, corpus_index, tmp_path):
    question = "Mag ik jan.janssens@stad.be aanmelden bij de LIVC-R?"
    warned = ask(http, question)
    assert warned.status_code == 200 and warned.json()["masked"], warned.json()
    assert "janssens" not in warned.text.lower()
    searched = http.get("/api/v1/search", params={"q": question})
    assert searched.status_code == 200 and "janssens" not in searched.text.lower()
    assert "[e-mail]" in searched.json()["query"]
    strict = corpus_index.settings.replace(privacy_guard="refuse", feedback_db=str(tmp_path / "f.sqlite"))
    assistant = dataclasses.replace(corpus_index.assistant, settings=strict)  # same index, refusing guard
    with AppServer(create_app(strict, assistant)) as refusing, client(refusing) as c:
        refused = [ask(c, question), c.get("/api/v1/search", params={"q": question})]
    for response in refused:
        assert response.status_code == 422 and response.json()["code"] == "personal_data"
        assert "janssens" not in response.text.lower()


# ---------------------------------------------------------------------------
# OpenAPI and its docs page, offline


def test_openapi_describes_the_api(http):
    spec = http.get("/openapi.json").json()
    assert {"/api/v1/ask", "/api/v1/search", "/api/v1/documents", "/healthz", "/readyz"} <= set(spec["paths"])
    assert not any(p.startswith("/documenten") for p in spec["paths"])
    ask_op = spec["paths"]["/api/v1/ask"]["post"]
    assert {"200", "400", "401", "422", "429"} <= set(ask_op["responses"])


def test_docs_page_loads_its_assets_from_the_app_only(http):
    page = http.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/") for s in sources), sources
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
    for name, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css"), ("favicon.png", "png")):
        asset = http.get(f"/docs/{name}")
        assert asset.status_code == 200 and kind in asset.headers["Content-Type"] and len(asset.content) > 1000
    assert http.get("/docs/../pyproject.toml").status_code == 404
    assert http.get("/docs/redoc.standalone.js").status_code == 404


# ---------------------------------------------------------------------------
# Schemathesis: whatever the spec allows (and what it does not), no 500.
# Driven through Hypothesis directly (schemathesis' pytest plugin does not run on pytest 9).


# uvicorn's own answer to a request it cannot parse (e.g. a URL over its size limit);
# the app never sees such a request.
UVICORN_400 = "Invalid HTTP request received."


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_input_makes_a_server_error(server, mode):
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings

    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/ask", "/api/v1/search", "/api/v1/documents"}
    strategy = hypothesis_strategies.one_of(
        [op.as_strategy(generation_mode=schemathesis.GenerationMode(mode)) for op in operations]
    )
    seen = []

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def run(case):
        response = case.call(base_url=server.url, timeout=60)
        seen.append((case.method, case.path, response.status_code))
        assert response.status_code < 500, (case.method, case.path, case.body, case.query, response.text[:300])
        if response.status_code >= 400 and case.path.startswith("/api/") and response.text != UVICORN_400:
            data = response.json()
            assert set(data) == {"code", "message"} and data["message"], data

    run()
    assert {path for _, path, _ in seen} >= {"/api/v1/ask", "/api/v1/search"}
    if mode == "negative":
        assert any(400 <= status < 500 for _, _, status in seen)


import hypothesis.strategies as hypothesis_strategies  # noqa: E402
