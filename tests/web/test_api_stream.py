"""POST /api/v1/ask with "stream": true: server-sent events over real HTTP (uvicorn on
127.0.0.1), the model a scripted OpenAI-compatible server (tests/llm_server.py): sentences
as they pass, then the citations and the answer; a fallback discards what was sent; a client
that leaves stops the stream to the model; the key and the question never reach the page."""

from __future__ import annotations

import json

import httpx
import pytest
from helpers import AppServer, build_small_index, client

from assistant.core.assistant import Assistant
from assistant.web.app import create_app

QUESTION = "Wie zit de cel voor?"
KEY = "sk-geheim-stream-42"


@pytest.fixture(scope="module")
def http(tmp_path_factory, small_cache, embedder, scripted_model):
    folder = tmp_path_factory.mktemp("stream")
    settings = build_small_index(folder, small_cache, embedder).replace(
        llm_url=scripted_model.url,
        llm_model="scripted",
        llm_api_key=KEY,
        rate_limit=0,
        feedback_db=str(folder / "fb.db"),
    )
    app = create_app(settings, Assistant.open(settings, embedder=embedder))
    with AppServer(app) as server, client(server) as c:
        yield c


def events(response: httpx.Response) -> list[tuple[str, object]]:
    out, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
    return out


def stream(http: httpx.Client, question: str = QUESTION) -> tuple[httpx.Response, list]:
    with http.stream("POST", "/api/v1/ask", json={"question": question, "stream": True}) as response:
        return response, events(response)


def test_sentences_then_citations_then_the_answer(http, model):
    model.reply("De burgemeester zit de cel voor [1]. De burgemeester richt de cel op [1].")
    response, got = stream(http)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert [name for name, _ in got] == ["sentence", "sentence", "citations", "answer"]
    answer = got[-1][1]
    assert answer["mode"] == "generative"
    assert answer["text"] == " ".join(data["text"] for name, data in got if name == "sentence")
    assert got[2][1] == answer["citations"] and answer["citations"][0]["n"] == 1
    assert KEY not in json.dumps(got)


def test_a_fallback_after_sent_sentences_is_announced(http, model):
    model.reply("De burgemeester zit de cel voor [1]. De cel telt 12 leden [1]. De cel vergadert 7 keer [1].")
    _, got = stream(http)
    assert [name for name, _ in got] == ["sentence", "discard", "citations", "answer"]
    assert got[-1][1]["mode"] == "extractive"
    assert "12" not in got[-1][1]["text"]


def test_an_unsupported_first_sentence_sends_only_the_extractive_answer(http, model):
    model.reply("The mayor chairs the cell [1].")
    _, got = stream(http)
    assert [name for name, _ in got] == ["citations", "answer"] and got[-1][1]["mode"] == "extractive"


def test_a_model_server_error_is_an_extractive_answer_not_an_error(http, model):
    model.reply(status=500)
    response, got = stream(http)
    assert response.status_code == 200 and got[-1][1]["mode"] == "extractive"
    assert KEY not in json.dumps(got) and "500" not in got[-1][1]["text"]


def test_without_stream_the_body_is_as_before(http, model):
    model.reply("De burgemeester zit de cel voor [1]. De burgemeester richt de cel op [1].")
    body = http.post("/api/v1/ask", json={"question": QUESTION}).json()
    assert body["mode"] == "generative" and set(body) >= {"text", "citations", "confidence"}


def test_a_client_that_leaves_stops_the_model(http, model):
    model.closed.clear()
    model.reply("De burgemeester zit de cel voor [1]. " * 60, pieces=4, delay=0.05)
    with http.stream("POST", "/api/v1/ask", json={"question": QUESTION, "stream": True}) as response:
        for line in response.iter_lines():
            if line.startswith("event: sentence"):
                break  # the first sentence arrived; leave
    assert model.closed.wait(10)


def test_invalid_stream_requests_are_plain_errors(http):
    response = http.post("/api/v1/ask", json={"question": "", "stream": True})
    assert response.status_code == 422 and response.json()["code"] == "invalid_question"


def test_openapi_names_the_event_stream(http):
    ask = http.get("/openapi.json").json()["paths"]["/api/v1/ask"]["post"]
    assert {"application/json", "text/event-stream"} <= set(ask["responses"]["200"]["content"])
    assert "stream" in http.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]["properties"]
