"""The chat's own (Gradio) routes under the app's rules (assistant.web.guard), and text from
documents and questions shown as text (assistant.web.chat): real uvicorn on 127.0.0.1, a real
index of the small corpus plus hostile documents, real Chromium.

- A page on another origin (another port) can neither read the chat's routes nor ask or
  upload through them; with a Host that is not localhost, Gradio's CORS headers are gone.
- Gradio routes the chat does not use (upload, deep links, file= fetches, ...) are 404s.
- Chat questions count in the API's rate limit and are refused over the API's size limit
  before Gradio keeps them; a body that stalls is cut off.
- A session hash used by another signed-in user reaches nothing of the first user's.
- Forwarded headers count only from a configured proxy.
- HTML and Markdown in documents and in the question are shown as text in the chat; a
  low-confidence answer and a language note are shown (chat, API, widget).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest
from helpers import (
    ARTIFACTS,
    AppProcess,
    AppServer,
    HostSite,
    ask_in_chat,
    browser_tab,
    client,
    settings_for,
    write_small_corpus,
)

from assistant.core.assistant import Assistant
from assistant.core.chunking import Passage
from assistant.core.index import build_index
from assistant.core.settings import Settings
from assistant.core.types import Answer, Citation
from assistant.web import guard
from assistant.web.app import create_app
from assistant.web.chat import mount
from assistant.web.render import LOW_CONFIDENCE_LABEL, render_question, render_reply
from assistant.web.serving import HEADER_TIMEOUT

TIMEOUT = 30_000
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "nl-BE"}
PROXY = "127.0.0.2"
EVIL_HOST = {"Host": "assistent.stad.be", "Origin": "https://evil.example"}
UPLOAD_MARKER = f"zebra-upload-{uuid.uuid4().hex[:12]}"  # new every run: no file of an earlier run counts

HOSTILE_MD = """# Zebra-notities

## 1. De zebrakwestie

De zebrakwestie wordt <div id="zebra-overlay" style="position:fixed;top:0;left:0;width:100%;height:100%;\
background:rgba(255,0,0,.5);z-index:9999">ZEBRA OVERLAY</div> altijd getoond.
De zebrakwestie meldt u in het formulier <form id="zebra-form" action="http://127.0.0.9:9/steal"><input name="pw">\
<button>Verstuur</button></form> van de stad.
De zebrakwestie staat op <a id="zebra-link" href="http://127.0.0.9:9/phish">de officiële pagina</a> en \
[deze pagina](http://127.0.0.9:9/md-phish) van de zebrakwestie.
De zebrakwestie heeft een beeld <img id="zebra-img" src="x" onerror="window.__pwned=1"> bij https://127.0.0.9/auto.
"""
HOSTILE_HTML = """<!doctype html><html><head><title>Zebra op het web</title></head><body><main>
<h1>Zebra op het web</h1><h2>De zebrakwestie online</h2>
<p>De zebrakwestie online toont &lt;img id="zebra-web" src=x onerror=alert(1)&gt; en &lt;b id="zebra-bold"&gt;vet&lt;/b&gt;.</p>
</main></body></html>
"""
ZEBRA_QUESTION = "Wat is de zebrakwestie?"


class Flagged:
    """The real assistant with its confidence set by the question: one with "onzeker" in
    it is answered with low confidence and an English language note, every other one with
    high confidence and none (the answer itself is the real one)."""

    NOTE = "The guide is in Dutch; this answer quotes it."

    def __init__(self, assistant):
        self._assistant = assistant

    def __getattr__(self, name):
        return getattr(self._assistant, name)

    def ask(self, question, history=None, listener=None):
        answer = self._assistant.ask(question, history)
        if "onzeker" in question:
            return dataclasses.replace(answer, confidence="low", language="en", language_note=self.NOTE)
        return dataclasses.replace(
            answer, confidence="low" if answer.abstained else "high", language="nl", language_note=None
        )


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder, small_cache):
    """The small corpus plus a Markdown and a web page full of HTML; index built."""
    base = tmp_path_factory.mktemp("guard")
    write_small_corpus(base / "corpus")
    (base / "corpus" / "zebra.md").write_text(HOSTILE_MD, encoding="utf-8")
    (base / "corpus" / "zebra-web.html").write_text(HOSTILE_HTML, encoding="utf-8")
    (base / "index").mkdir()
    (base / "index" / "embed-cache.sqlite").write_bytes(Path(small_cache[0]).read_bytes())
    settings = settings_for(base / "corpus", base / "index", rate_limit=0, feedback_db=str(base / "feedback.sqlite"))
    build_index(settings, embedder, progress=False)
    return settings, Assistant.open(settings, embedder=embedder)


@pytest.fixture(scope="module")
def server(hostile):
    settings, assistant = hostile
    flagged = Flagged(assistant)
    with AppServer(mount(create_app(settings, flagged), flagged, settings)) as running:
        yield running


@pytest.fixture(scope="module")
def header_server(hostile, tmp_path_factory):
    """Header sign-on from PROXY, at most 3 questions a minute per user (API and chat)."""
    settings, assistant = hostile
    settings = settings.replace(auth="header", trusted_proxies=(PROXY,), rate_limit=3, rate_window=60)
    with AppServer(mount(create_app(settings, assistant), assistant, settings)) as running:
        yield running


def gradio_ids(http: httpx.Client, headers=None) -> dict[str, int]:
    """The chat's Gradio event ids by function name (take_question, answer, ...)."""
    config = http.get("/config", headers=headers).json()
    return {d["api_name"]: d["id"] for d in config["dependencies"]}


def take_question(http, ids, session: str, question: str, headers=None) -> httpx.Response:
    return http.post(
        "/gradio_api/run/predict",
        headers=headers,
        json={"data": [question, []], "fn_index": ids["take_question"], "trigger_id": 12, "session_hash": session},
    )


def join(http, ids, session: str, headers=None) -> httpx.Response:
    return http.post(
        "/gradio_api/queue/join",
        headers=headers,
        # The answer's inputs: the pending question, the chat, the conversation, "asked alone" (all but the chat state).
        json={"data": [None, [], None, None], "fn_index": ids["answer"], "trigger_id": 12, "session_hash": session},
    )


def listen(http, session: str, headers=None) -> list[dict]:
    """The messages of a session's event stream until it closes."""
    messages = []
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}, headers=headers) as response:
        if response.status_code != 200:
            return [{"msg": "status", "status": response.status_code}]
        for line in response.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                messages.append(message)
                if message.get("msg") in ("close_stream", "unexpected_error"):
                    break
    return messages


def completed(messages: list[dict]) -> str:
    """Everything the answer event sent back (chat, sources panel), as one string."""
    done = [m for m in messages if m.get("msg") == "process_completed"]
    return json.dumps(done[0]["output"], ensure_ascii=False) if done else ""


def ask_over_gradio(http, ids, session: str, question: str, headers=None) -> str:
    assert take_question(http, ids, session, question, headers).status_code == 200
    assert join(http, ids, session, headers).status_code == 200
    return completed(listen(http, session, headers))


# ---------------------------------------------------------------------------
# 1. Origins: headers (httpx) and a foreign page (Chromium)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/config"),
        ("GET", "/"),
        ("GET", "/gradio_api/info"),
        ("GET", "/documenten/"),
        ("GET", "/embed"),
        ("GET", "/openapi.json"),
    ],
)
def test_a_foreign_origin_is_refused_on_every_route_outside_the_api(server, method, path):
    with client(server) as http:
        refused = http.request(method, path, headers=EVIL_HOST)
        own = http.request(method, path, headers={"Host": "assistent.stad.be", "Origin": "https://assistent.stad.be"})
    assert refused.status_code == 403, (path, refused.status_code)
    assert refused.json()["message"] == "Deze pagina mag de LIVC-assistent niet gebruiken."
    assert own.status_code == 200, (path, own.status_code)
    for response in (refused, own):
        assert not [k for k in response.headers if k.lower().startswith("access-control-")], dict(response.headers)
        assert response.headers["x-content-type-options"] == "nosniff"


def test_preflights_of_the_chat_routes_from_a_foreign_origin_get_no_cors(server):
    with client(server) as http:
        for path in ("/gradio_api/queue/join", "/gradio_api/run/predict", "/gradio_api/upload", "/config"):
            preflight = http.options(
                path,
                headers={
                    **EVIL_HOST,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            )
            assert preflight.status_code == 403, path
            assert "access-control-allow-origin" not in preflight.headers, path
            assert "access-control-allow-credentials" not in preflight.headers, path
        # Origin "null" (sandboxed frames, file: pages) is foreign too.
        assert http.get("/config", headers={"Origin": "null"}).status_code == 403
        # Without an Origin (a page load, a program), nothing changes.
        assert http.get("/config", headers={"Host": "assistent.stad.be"}).status_code == 200


def test_the_api_keeps_its_own_cors_for_allowed_origins(hostile):
    settings, assistant = hostile
    settings = settings.replace(allowed_origins=("https://intranet.stad.be",))
    with AppServer(mount(create_app(settings, assistant), assistant, settings)) as running, client(running) as http:
        allowed = http.get("/api/v1/documents", headers={"Origin": "https://intranet.stad.be"})
        assert allowed.headers["access-control-allow-origin"] == "https://intranet.stad.be"
        foreign = http.get("/api/v1/documents", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in foreign.headers
        # The chat's routes are not the widget's: an allowed origin gets no CORS there either.
        chat = http.get("/config", headers={"Origin": "https://intranet.stad.be"})
        assert chat.status_code == 403 and "access-control-allow-origin" not in chat.headers


FOREIGN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Elders</title></head><body><p>elders</p>
<script>
const APP = "{app}";
async function attempt(name, run) {{
  try {{ window.results[name] = await run(); }} catch (e) {{ window.results[name] = "blocked"; }}
}}
window.results = {{}};
window.done = (async () => {{
  await attempt("config", async () => (await fetch(APP + "/config", {{credentials: "include"}})).text());
  await attempt("predict", async () => (await fetch(APP + "/gradio_api/run/predict", {{
    method: "POST", credentials: "include", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{data: ["Wie zit de cel voor?", []], fn_index: {take}, trigger_id: 12,
                          session_hash: "elders1"}})}})).text());
  await attempt("join", async () => (await fetch(APP + "/gradio_api/queue/join", {{
    method: "POST", credentials: "include", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{data: [null, [], null], fn_index: {answer}, trigger_id: 12, session_hash: "elders1"}})
  }})).text());
  await attempt("data", async () => (await fetch(APP + "/gradio_api/queue/data?session_hash=elders1",
                                                 {{credentials: "include"}})).text());
  await attempt("upload", async () => {{
    const form = new FormData();
    form.append("files", new Blob(["<p>elders</p>"], {{type: "text/html"}}), "{marker}.html");
    return (await fetch(APP + "/gradio_api/upload", {{method: "POST", body: form, credentials: "include"}})).text();
  }});
  await attempt("upload_blind", async () => {{
    const form = new FormData();
    form.append("files", new Blob(["<p>elders</p>"], {{type: "text/html"}}), "{marker}-blind.html");
    await fetch(APP + "/gradio_api/upload", {{method: "POST", body: form, mode: "no-cors", credentials: "include"}});
    return "sent";
  }});
  return window.results;
}})();
</script></body></html>"""


def test_a_page_on_another_origin_cannot_read_ask_or_upload(browser, server):
    from gradio.utils import get_upload_folder

    with client(server) as http:
        ids = gradio_ids(http)
    page_html = FOREIGN_PAGE.format(
        app=server.url, take=ids["take_question"], answer=ids["answer"], marker=UPLOAD_MARKER
    )
    with HostSite({"/": page_html}) as site:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(site.url + "/")
            results = page.evaluate("window.done")
        finally:
            context.close()
    assert results == {
        "config": "blocked",
        "predict": "blocked",
        "join": "blocked",
        "data": "blocked",
        "upload": "blocked",
        "upload_blind": "sent",
    }, results
    # Not even the blind upload (sent without reading the answer) left a file behind.
    folder = Path(get_upload_folder())
    assert not folder.exists() or not list(folder.rglob(f"{UPLOAD_MARKER}*"))


# ---------------------------------------------------------------------------
# 5. Gradio routes the chat does not use


UNUSED = [
    ("POST", "/gradio_api/upload"),
    ("GET", "/gradio_api/upload_progress?upload_id=x"),
    ("GET", "/gradio_api/deep_link?session_hash=abc"),
    ("GET", "/?deep_link=aBBbvERhTaw"),
    ("GET", "/gradio_api/file=https://example.org/"),
    ("GET", "/gradio_api/file=/etc/passwd"),
    ("GET", "/gradio_api/proxy=https://example.org/x"),
    ("GET", "/gradio_api/startup-events"),
    ("POST", "/gradio_api/call/take_question"),
    ("POST", "/gradio_api/component_server"),
    ("POST", "/gradio_api/process_recording"),
    ("POST", "/gradio_api/stream/x"),
    ("GET", "/gradio_api/openapi.json"),
    ("POST", "/gradio_api/vibe-edit"),
    ("GET", "/gradio_api/mcp/schema"),
    ("GET", "/monitoring"),
    ("POST", "/login"),
    ("GET", "/logout"),
    ("GET", "/gradio_api/run/predict"),
    ("POST", "/gradio_api/api/predict"),
]


@pytest.mark.parametrize("method, path", UNUSED, ids=[f"{m} {p}" for m, p in UNUSED])
def test_gradio_routes_the_chat_does_not_use_are_refused(server, method, path):
    with client(server) as http:
        if path == "/gradio_api/upload":
            response = http.post(path, files={"files": (f"{UPLOAD_MARKER}.bin", b"x" * 1000)})
        else:
            response = http.request(method, path)
    assert response.status_code == 404, (path, response.status_code, response.text[:200])
    assert UPLOAD_MARKER not in response.text and "root:" not in response.text


def test_a_session_hash_used_by_another_user_reaches_nothing(header_server):
    alice = {"X-Remote-User": "alice"}
    bob = {"X-Remote-User": "bob"}
    session = "gedeelde-sessie-123"
    with client(header_server, source=PROXY) as http:
        ids = gradio_ids(http, alice)
        # Alice's question waits in her session's stream; bob listens on her hash first.
        assert take_question(http, ids, session, "Wie zit de cel voor?", alice).status_code == 200
        assert join(http, ids, session, alice).status_code == 200
        eavesdropped = listen(http, session, bob)
        assert "burgemeester" not in json.dumps(eavesdropped), eavesdropped
        assert completed(eavesdropped) == ""
        assert "burgemeester" in completed(listen(http, session, alice))  # alice still gets her answer
        # Bob asking through her hash starts a conversation of his own: her question is not in it.
        bobs = ask_over_gradio(http, ids, session, "Hoe vaak vergadert de cel?", bob)
        assert "Hoe vaak vergadert de cel?" in bobs and "Wie zit de cel voor?" not in bobs
        # Alice's conversation goes on where it was.
        hers = ask_over_gradio(http, ids, session, "Wordt er een verslag gemaakt?", alice)
        assert "Wie zit de cel voor?" in hers and "Hoe vaak vergadert" not in hers


# ---------------------------------------------------------------------------
# 4. Rate and size


def test_over_the_limit_the_chat_says_so_and_keeps_the_conversation(browser, hostile):
    from playwright.sync_api import expect

    settings, assistant = hostile
    settings = settings.replace(rate_limit=1, rate_window=60)
    with AppServer(mount(create_app(settings, assistant), assistant, settings)) as running:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-BE")
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT)
            page.goto(running.url + "/")
            page.wait_for_selector("#livc-question textarea")
            first = ask_in_chat(page, "Wie zit de cel voor?")
            page.fill("#livc-question textarea", "Hoe vaak vergadert de cel?")
            page.press("#livc-question textarea", "Enter")
            expect(page.get_by_text("U hebt te veel vragen na elkaar gesteld", exact=False)).to_be_visible()
            page.wait_for_timeout(1000)
            expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(1)  # no second answer
            expect(first).to_be_visible()
            assert "burgemeester" in first.inner_text()
            box = first.bounding_box()  # nothing covers the conversation
            assert page.evaluate(
                "([x, y]) => !!document.elementFromPoint(x, y).closest(\"[data-testid='bot']\")",
                [box["x"] + 20, box["y"] + 10],
            )
            page.screenshot(path=str(ARTIFACTS / "chat-rate-limited.png"))
        finally:
            context.close()


def test_chat_questions_count_in_the_api_rate_limit(header_server):
    """rate_limit 3 per minute per user, for API and chat questions together."""
    jan = {"X-Remote-User": "jan-rate"}
    els = {"X-Remote-User": "els-rate"}
    with client(header_server, source=PROXY) as http:
        ids = gradio_ids(http, jan)
        assert http.post("/api/v1/ask", json={"question": "Wie zit de cel voor?"}, headers=jan).status_code == 200
        assert http.post("/api/v1/ask", json={"question": "Wie zit de cel voor?"}, headers=jan).status_code == 200
        assert "burgemeester" in ask_over_gradio(http, ids, "jan-1", "Wie zit de cel voor?", jan)  # the third
        # A flood of joins: each refused before it reaches the queue.
        floods = [join(http, ids, f"jan-flood-{i}", jan) for i in range(20)]
        assert {r.status_code for r in floods} == {429}
        refused = floods[0]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "te veel vragen" in refused.json()["detail"] and refused.json()["code"] == "rate_limited"
        assert http.post("/api/v1/ask", json={"question": "Wie zit de cel voor?"}, headers=jan).status_code == 429
        # Another user is answered as usual.
        assert "burgemeester" in ask_over_gradio(http, ids, "els-1", "Wie zit de cel voor?", els)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_oversized_chat_requests_are_refused_before_anything_is_kept(server):
    """The server runs in this process: its memory is ours to measure."""
    with client(server) as http:
        ids = gradio_ids(http)
        body = json.dumps(
            {
                "data": ["x" * 20 * 2**20, []],
                "fn_index": ids["take_question"],
                "trigger_id": 12,
                "session_hash": "groot",
            }
        ).encode()
        started = time.monotonic()
        declared = http.post("/gradio_api/run/predict", content=body, headers={"Content-Type": "application/json"})
        assert declared.status_code == 413 and "te lang" in declared.json()["detail"]
        del body

        def chunks(n: int):
            head = (
                json.dumps(
                    {"fn_index": ids["take_question"], "trigger_id": 12, "session_hash": f"groot-{n}", "data": []}
                )[:-2].encode()
                + b'["'
            )
            yield head
            for _ in range(20):
                yield b"x" * 2**20
            yield b'", []]}'

        before = _rss_mb()
        for n in range(10):  # 10 x 20 MB, streamed (no Content-Length)
            streamed = http.post(
                "/gradio_api/run/predict", content=chunks(n), headers={"Content-Type": "application/json"}
            )
            assert streamed.status_code == 413, streamed.text[:200]
        assert _rss_mb() - before < 60, (before, _rss_mb())
        assert time.monotonic() - started < 60
        # A question over the API's limit, in a body of normal size.
        long = take_question(http, ids, "lang", "wie " * 5001)
        assert long.status_code == 413
        # The page's own requests still work, and a question the chat can take is taken.
        assert take_question(http, ids, "gewoon", "Wie zit de cel voor?").status_code == 200


def test_a_request_body_that_stalls_is_cut_off(server, monkeypatch):
    """uvicorn has no body timeout of its own: the guard gives each part BODY_TIMEOUT
    seconds (the chat's routes answer 408; the API's body reader turns it into a 400)."""
    monkeypatch.setattr(guard, "BODY_TIMEOUT", 1.0)
    for path, status in ((b"/gradio_api/run/predict", b"408"), (b"/api/v1/ask", b"400")):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(
                b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"data": ['
            )
            started = time.monotonic()
            reply = s.recv(65536)
        assert reply.startswith(b"HTTP/1.1 " + status), (path, reply[:200])
        assert time.monotonic() - started < 8


def test_the_body_timeout_leaves_disconnect_checks_working():
    """Gradio's event streams ask Starlette's is_disconnected(), which peeks at receive()
    in a cancelled scope: the timed receive must still hand over a message that is there."""
    import asyncio

    from starlette.requests import Request

    async def receive():
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"10")]}
    assert guard._has_body(scope)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own (Playwright's may be running here)
        seen = pool.submit(asyncio.run, Request(scope, guard.timed(receive)).is_disconnected()).result()
    assert seen is True


@pytest.mark.server
def test_app_py_closes_connections_whose_headers_are_slow_or_huge(hostile, tmp_path):
    """python app.py as an operator runs it: a client that sends a header line every two
    seconds is cut off after HEADER_TIMEOUT, one that sends 100 kB of headers gets a 400."""
    settings, _ = hostile
    with AppProcess(settings, tmp_path) as app:
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started, closed = time.monotonic(), False
            s.settimeout(2)
            while not closed and time.monotonic() - started < HEADER_TIMEOUT + 20:
                try:
                    s.sendall(b"X-Langzaam: ja\r\n")
                    closed = s.recv(1) == b""
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
            elapsed = time.monotonic() - started
        assert closed and HEADER_TIMEOUT - 1 < elapsed < HEADER_TIMEOUT + 6, (closed, elapsed)
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Groot: " + b"a" * 100_000 + b"\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 400")
        assert httpx.get(f"{app.url}/healthz").status_code == 200


# ---------------------------------------------------------------------------
# 10. Forwarded headers only from a configured proxy


def test_forwarded_for_counts_only_from_a_configured_proxy(hostile):
    settings, assistant = hostile
    plain = settings.replace(rate_limit=3, rate_window=60)  # trusted_proxies left at its default
    assert plain.sources["trusted_proxies"] == "default"
    proxied = plain.replace(trusted_proxies=(PROXY,))
    with AppServer(create_app(plain, assistant)) as local, client(local) as http:
        statuses = [
            http.get("/api/v1/documents", headers={"X-Forwarded-For": f"10.1.0.{i}"}).status_code for i in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429], statuses  # one local client, whatever it claims
    with AppServer(create_app(proxied, assistant)) as behind:
        with client(behind, source=PROXY) as via_proxy:
            statuses = [
                via_proxy.get("/api/v1/documents", headers={"X-Forwarded-For": f"10.2.0.{i}"}).status_code
                for i in range(5)
            ]
        assert statuses == [200] * 5, statuses  # five clients behind the proxy
        with client(behind) as direct:
            statuses = [
                direct.get("/api/v1/documents", headers={"X-Forwarded-For": f"10.3.0.{i}"}).status_code
                for i in range(5)
            ]
        assert statuses == [200, 200, 200, 429, 429], statuses


# ---------------------------------------------------------------------------
# 2. Text from documents and questions is text, in the chat


def test_html_in_documents_and_questions_stays_text_in_the_chat(browser, server):

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-BE")
    violations = []
    context.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(server.url + "/")
        page.wait_for_selector("#livc-question textarea")
        question = '<div id="q-overlay" style="position:fixed;inset:0">Wat is</div> de **zebrakwestie**?'
        reply = ask_in_chat(page, question)
        text = reply.inner_text()
        assert "zebrakwestie" in text, text
        shown = [tag for tag in ("<div", "<form", "<a ", "<img", "[deze pagina](") if tag in text]
        assert len(shown) >= 2, text  # the hostile sentences are quoted, as text
        for selector in (
            "#zebra-overlay",
            "#zebra-form",
            "#zebra-link",
            "#zebra-img",
            "form",
            "input",
            "img",
            "#zebra-web",
            "#zebra-bold",
            "#q-overlay",
        ):
            assert page.locator(f"#livc-chat {selector}").count() == 0, selector
        links = reply.locator("a")
        assert links.count() >= 1
        for i in range(links.count()):  # the only links are [n] markers to the source cards
            assert links.nth(i).get_attribute("class") == "livc-marker"
            assert links.nth(i).get_attribute("href").startswith("#bron-0-")
        bubble = page.locator("#livc-chat [data-testid='user']").last
        assert question in bubble.inner_text()
        assert bubble.locator("strong, div#q-overlay").count() == 0
        assert page.evaluate("window.__pwned") is None
        # The web page's text too.
        reply = ask_in_chat(page, "Wat toont de zebrakwestie online?")
        assert page.locator("#livc-chat #zebra-web, #livc-chat #zebra-bold, #livc-chat img").count() == 0
        assert "<img" in reply.inner_text() or "<b " in reply.inner_text() or "zebra" not in reply.inner_text()
        page.screenshot(path=str(ARTIFACTS / "chat-html-as-text.png"))
        assert not [v for v in violations if "script-src-attr" in v], violations
    finally:
        context.close()


def test_copying_a_message_copies_its_text_not_its_html(browser, server):
    clipboard = {"permissions": ["clipboard-read", "clipboard-write"]}
    with browser_tab(browser, server.url + "/", "#livc-question textarea", **DESKTOP, **clipboard) as page:
        reply = ask_in_chat(page, "Wie zit de cel voor?")
        reply.hover()
        page.locator("#livc-chat .bot-row button[title='Bericht kopiëren']").last.click()
        page.wait_for_timeout(600)
        copied = page.evaluate("navigator.clipboard.readText()")
        # The answer's text as shown, then its numbered sources (title > section path, link).
        answer, sources = copied.split("\n\nBronnen:\n", 1)
        assert reply.inner_text().strip().startswith(answer.strip()), copied
        assert "burgemeester" in answer and "[1]" in answer and sources.startswith("[1] ")
        assert "<" not in copied and "livc-" not in copied


def test_a_low_confidence_answer_is_set_apart_in_the_chat(browser, server):
    with browser_tab(browser, server.url + "/", "#livc-question textarea", **DESKTOP) as page:
        sure = ask_in_chat(page, "Wie zit de cel voor?")
        unsure = ask_in_chat(page, "Wie zit de cel voor, onzeker?")
        abstained = ask_in_chat(page, "Hoe vraag ik een parkeervergunning aan?")
        assert LOW_CONFIDENCE_LABEL not in sure.inner_text()
        label = unsure.locator(".livc-low-label")
        assert label.inner_text() == LOW_CONFIDENCE_LABEL
        note = unsure.locator(".livc-language")
        assert note.inner_text() == Flagged.NOTE and note.get_attribute("lang") == "en"
        # The note sits above the quotes.
        assert note.bounding_box()["y"] < unsure.locator("a.livc-marker").first.bounding_box()["y"]

        def look(locator):
            return locator.evaluate("""el => { const s = getComputedStyle(el);
                return [s.backgroundColor, s.borderLeftColor, s.borderLeftStyle, s.borderLeftWidth].join(' '); }""")

        styles = {
            look(unsure.locator(".livc-low")),
            look(abstained.locator(".livc-abstain")),
            look(sure.locator(".livc-answer")),
        }
        assert len(styles) == 3, styles  # distinct from an answer and from an abstention
        assert "rgba(0, 0, 0, 0)" not in look(unsure.locator(".livc-low")).split(" 1px")[0]
        page.screenshot(path=str(ARTIFACTS / "chat-low-confidence.png"))


def test_the_widget_shows_low_confidence_and_the_language_note(browser, server):
    from playwright.sync_api import expect

    with browser_tab(browser, server.url + "/embed", **DESKTOP) as page:
        replies = page.locator(".msg.bot:not(.pending)")
        for question in ("Wie zit de cel voor?", "Wie zit de cel voor, onzeker?"):
            before = replies.count()
            page.locator("textarea.question").fill(question)
            page.locator("textarea.question").press("Enter")
            expect(replies).to_have_count(before + 1, timeout=TIMEOUT)
        sure, unsure = replies.nth(0), replies.nth(1)
        assert LOW_CONFIDENCE_LABEL not in sure.inner_text() and sure.locator(".language").count() == 0
        expect(unsure).to_have_class("msg bot low")
        assert unsure.locator(".low-label").inner_text() == LOW_CONFIDENCE_LABEL
        note = unsure.locator(".language")
        assert note.inner_text() == Flagged.NOTE and note.get_attribute("lang") == "en"
        assert note.bounding_box()["y"] < unsure.locator(".text").bounding_box()["y"]
        colours = [r.evaluate("el => getComputedStyle(el).backgroundColor") for r in (sure, unsure)]
        assert colours[0] != colours[1], colours


def test_the_api_answer_carries_confidence_and_language(server):
    with client(server) as http:
        sure = http.post("/api/v1/ask", json={"question": "Wie zit de cel voor?"}).json()
        unsure = http.post("/api/v1/ask", json={"question": "Wie zit de cel voor, onzeker?"}).json()
        schema = http.get("/openapi.json").json()["components"]["schemas"]["AnswerOut"]
    assert (sure["confidence"], sure["language"], sure["language_note"]) == ("high", "nl", None)
    assert (unsure["confidence"], unsure["language"], unsure["language_note"]) == ("low", "en", Flagged.NOTE)
    assert {"confidence", "language", "language_note"} <= set(schema["required"])
    assert schema["properties"]["confidence"]["enum"] == ["high", "low"]


# ---------------------------------------------------------------------------
# The renderers, without a browser


def _passage(**extra) -> Passage:
    values = dict(
        id="p",
        doc="d.md",
        title="Gids",
        section="2.1 B",
        section_path=["2. A", "2.1 B"],
        anchor="21-b",
        kind="guide",
        text="x",
        sentences=["x"],
    )
    return Passage(**{**values, **extra})


def test_answer_text_is_escaped_and_only_our_markup_is_kept():
    p = _passage()
    answer = Answer(
        question="q",
        citations=[Citation(1, p, "x"), Citation(2, p, "x")],
        text=(
            "- Een punt <img src=x onerror=alert(1)>. [1] Daarna **vet** en [klik](http://evil) of https://evil. [2]\n"
            '1. eerste\n2. tweede [1]\n\n> <div style="position:fixed">overlay</div> [3]'
        ),
        notice="Gelezen als vervolg op uw vorige vraag: “<b>x</b>”",
    )
    html_ = render_reply(answer, 0, Settings())
    assert "\n" not in html_ and html_.startswith(
        '<div class="livc-reply" id="antwoord-0">'
    )  # one HTML block: no Markdown read
    assert "<img" not in html_ and "<div style" not in html_ and "<b>" not in html_
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_ and "&lt;div style=&quot;position:fixed&quot;&gt;" in html_
    assert "[klik](http://evil)" in html_ and 'href="http' not in html_
    assert "<strong>vet</strong>" in html_
    assert '<a class="livc-marker" href="#bron-0-1" title="Bron 1: 2. A › 2.1 B">[1]</a>' in html_
    assert "[3]" in html_ and "#bron-0-3" not in html_  # no such citation: no link
    assert "</a></li></ul><p>Daarna <strong>vet</strong>" in html_  # the sentence after the item: its own paragraph
    assert '<ol><li value="1">eerste</li><li value="2">tweede' in html_
    assert '<p class="livc-notice"><em>Gelezen als vervolg op uw vorige vraag: “&lt;b&gt;x&lt;/b&gt;”</em> ' in html_
    assert '<a class="livc-reask" href="#opnieuw-0" ' in html_ and ">Lees als nieuwe vraag</a></p>" in html_
    assert LOW_CONFIDENCE_LABEL not in html_ and "livc-language" not in html_


def test_a_low_confidence_answer_and_a_language_note_are_rendered():
    p = _passage()
    low = Answer(
        question="q",
        text="De cel vergadert. [1]",
        citations=[Citation(1, p, "De cel vergadert.")],
        confidence="low",
        language="fr",
        language_note="Le guide est en néerlandais <b>;</b> il est cité.",
    )
    html_ = render_reply(low, 2, Settings())
    assert html_.index("livc-language") < html_.index("livc-low-label") < html_.index("livc-marker")
    assert (
        '<p class="livc-language" lang="fr">Le guide est en néerlandais &lt;b&gt;;&lt;/b&gt; il est cité.</p>' in html_
    )
    assert f'<div class="livc-answer livc-low"><p class="livc-low-label">{LOW_CONFIDENCE_LABEL}</p>' in html_
    high = dataclasses.replace(low, confidence="high")
    assert "livc-low" not in render_reply(high, 2, Settings())
    abstained = dataclasses.replace(
        low,
        abstained=True,
        citations=[],
        suggestions=[Citation(1, _passage(section_path=["<i>Kop</i> [x](http://evil)"]), "x")],
    )
    html_ = render_reply(abstained, 2, Settings())
    assert "livc-abstain" in html_ and "livc-low" not in html_ and "livc-language" in html_
    assert "&lt;i&gt;Kop&lt;/i&gt; [x](http://evil)</a>" in html_ and "\n" not in html_


def test_the_question_bubble_is_escaped():
    assert render_question("<img src=x onerror=alert(1)> **vet**\nregel twee") == (
        '<div class="livc-question-text">&lt;img src=x onerror=alert(1)&gt; **vet**<br>regel twee</div>'
    )
