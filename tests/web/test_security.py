"""Security of the served app: real uvicorn on 127.0.0.1, real index, real Chromium.

- Every response (the chat page, Gradio's API and assets, the REST API, its docs, the embed
  page, the widget, health checks, 401s, 404s and 500s) carries one Content-Security-Policy
  that ends in the framing rule, ``nosniff`` and a Referrer-Policy.
- The chat works under its policy in Chromium without a single violation, and the policy
  is enforced (a script without the page's nonce does not run).
- Gradio's monitoring pages are not served.
- No path, however encoded, and no link in the corpus folder reaches a file outside the
  corpus. Those requests go out as raw bytes on a socket, so no client normalises them.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import httpx
import pytest
from docgen import scanned_pdf
from helpers import ARTIFACTS, GUIDE, AppServer, ask_in_chat, client, settings_for, write_small_corpus

from assistant.core.assistant import Assistant
from assistant.core.index import build_index
from assistant.web.app import create_app
from assistant.web.chat import mount

TIMEOUT = 30_000  # ms, for an answer to appear in the browser
MARKER = "zeeslang-tomaat-4711"  # only in the file outside the corpus
PASSWD = b"root:x:0:0"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "SAMEORIGIN",
}


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    out = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def scripts_allowed(policy: str) -> list[str] | None:
    """The sources scripts may come from (script-src, else default-src), None if unrestricted."""
    parsed = directives(policy)
    return parsed.get("script-src", parsed.get("default-src"))


# ---------------------------------------------------------------------------
# The full app over the shipped corpus, with two routes that fail


def broken() -> None:
    raise RuntimeError("a bug in a route")


@pytest.fixture(scope="module")
def server(corpus_index, tmp_path_factory):
    settings = corpus_index.settings.replace(
        feedback_db=str(tmp_path_factory.mktemp("security") / "feedback.sqlite"), rate_limit=0
    )
    app = create_app(settings, corpus_index.assistant)
    for path in ("/kapot", "/api/kapot"):  # before the chat is mounted at "/", which takes every other path
        app.add_api_route(path, broken, include_in_schema=False)
    with AppServer(mount(app, corpus_index.assistant, settings)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with client(server) as c:
        yield c


@pytest.fixture(scope="module")
def gradio_module(http) -> str:
    """The path of the chat page's main script (its name carries a build hash)."""
    return "/" + re.search(r'src="\./(assets/index-[^"]+\.js)"', http.get("/").text).group(1)


ROUTES = [
    ("GET", "/", None, 200),  # the chat
    ("GET", "/config", None, 200),  # Gradio's own API and files
    ("GET", "/gradio_api/info", None, 200),
    ("GET", "/gradio_api/queue/status", None, 200),
    ("GET", "/theme.css", None, 200),
    ("GET", "/manifest.json", None, 200),
    ("GET", "/static/img/logo.svg", None, 200),
    ("GET", "{gradio_module}", None, 200),
    ("GET", "/gradio_api/file=/etc/passwd", None, 404),  # Gradio routes the chat does not use (assistant.web.guard)
    ("POST", "/gradio_api/upload", None, 404),
    ("GET", "/gradio_api/deep_link?session_hash=x", None, 404),
    ("GET", "/bestaat-niet", None, 404),
    ("GET", "/monitoring", None, 404),
    ("POST", "/api/v1/ask", {"question": "Wie zit de LIVC-R voor?"}, 200),  # the REST API
    ("GET", "/api/v1/search?q=verslagen&k=2", None, 200),
    ("GET", "/api/v1/documents", None, 200),
    ("POST", "/api/v1/ask", b"{geen json", 400),
    ("POST", "/api/v1/ask", {"question": ""}, 422),
    ("GET", "/api/v1/ask", None, 405),
    ("GET", "/api/v1/bestaat-niet", None, 404),
    ("GET", "/docs", None, 200),
    ("GET", "/docs/swagger-ui.css", None, 200),
    ("GET", "/docs/bestaat-niet.js", None, 404),
    ("GET", "/openapi.json", None, 200),
    ("GET", "/embed", None, 200),
    ("GET", "/widget.js", None, 200),
    ("GET", "/healthz", None, 200),
    ("GET", "/readyz", None, 200),
    ("GET", "/documenten/", None, 200),
    ("GET", f"/documenten/{GUIDE}", None, 200),
    ("GET", "/documenten/bestaat-niet.md", None, 404),
    ("GET", "/documenten/bestaat-niet.pdf", None, 404),
    ("GET", "/kapot", None, 500),
    ("GET", "/api/kapot", None, 500),
]


def send(http: httpx.Client, method: str, path: str, body, **headers) -> httpx.Response:
    if isinstance(body, bytes):
        return http.request(method, path, content=body, headers={"Content-Type": "application/json", **headers})
    return http.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("method, path, body, status", ROUTES, ids=[f"{m} {p} {s}" for m, p, _, s in ROUTES])
def test_every_response_carries_the_security_headers(http, gradio_module, method, path, body, status):
    response = send(http, method, path.format(gradio_module=gradio_module), body)
    assert response.status_code == status, response.text[:300]
    policies = response.headers.get_list("content-security-policy")
    assert len(policies) == 1, policies  # one policy: the framing rule is part of it, not a second header
    policy = policies[0]
    assert policy.endswith("frame-ancestors 'self'") and policy.count("frame-ancestors") == 1, policy
    assert "'unsafe-eval'" not in policy, policy
    assert "'unsafe-inline'" not in scripts_allowed(policy), policy
    assert "*" not in policy and "http" not in policy, policy  # nothing from anywhere else
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value], (name, response.headers.get_list(name))
    if "text/html" not in response.headers.get("content-type", ""):
        assert directives(policy)["default-src"] == ["'none'"], policy  # data and files run nothing


def test_the_chat_page_allows_only_its_own_scripts_by_a_nonce_made_per_request(http):
    first, second = http.get("/"), http.get("/")
    nonces = []
    for page in (first, second):
        sources = scripts_allowed(page.headers["content-security-policy"])
        nonce = next(s for s in sources if s.startswith("'nonce-"))[7:-1]
        assert set(sources) == {"'self'", f"'nonce-{nonce}'"}, sources
        tags = re.findall(r"<script\b[^>]*>", page.text)
        assert tags and all(f'nonce="{nonce}"' in tag for tag in tags), tags
        nonces.append(nonce)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 22


def test_the_document_viewer_keeps_its_stricter_policy(http):
    chat = directives(http.get("/").headers["content-security-policy"])
    viewer = directives(http.get(f"/documenten/{GUIDE}").headers["content-security-policy"])
    assert viewer["default-src"] == ["'none'"] and "script-src" not in viewer  # no script at all
    assert chat["default-src"] == ["'self'"]
    assert viewer["base-uri"] == ["'none'"] and viewer["form-action"] == ["'none'"]


def test_an_unknown_token_is_refused_with_the_headers_too(http):
    for path in ("/api/v1/documents", "/", f"/documenten/{GUIDE}"):
        refused = http.get(path, headers={"Authorization": "Bearer onbekend"})
        assert refused.status_code == 401
        assert refused.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'self'"
        assert refused.headers["x-content-type-options"] == "nosniff"


def test_a_failing_route_answers_a_dutch_500_with_the_headers(http, caplog):
    with caplog.at_level("ERROR", logger="livc.web"):
        page = http.get("/kapot")
        api = http.get("/api/kapot")  # on the same connection: it stays usable
    assert page.status_code == 500 and page.text == "Er ging iets mis in de LIVC-assistent. Probeer het later opnieuw."
    assert api.status_code == 500 and api.json()["code"] == "internal_error"
    logged = [r for r in caplog.records if r.name == "livc.web"]
    assert [str(r.exc_info[1]) for r in logged] == ["a bug in a route"] * 2  # the traces go to the log
    for response in (page, api):
        assert "a bug in a route" not in response.text  # no trace to the client
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'self'"
        assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    "path",
    [
        "/monitoring",
        "/monitoring/summary",
        "/monitoring/dashboard",
        "/gradio_api/monitoring",
        "/gradio_api/monitoring/summary",
    ],
)
def test_gradio_monitoring_is_not_served(http, path):
    response = http.get(path)
    assert response.status_code in (403, 404), (path, response.status_code)
    assert "location" not in response.headers  # no way on to a dashboard
    assert "event_analytics" not in response.text and "<html" not in response.text.lower()


def test_the_chat_offers_no_gradio_api_endpoint(http):
    """The REST API under /api/v1 is the one programmable surface; Gradio lists none
    (a callable gr.State default would add a public /lambda)."""
    info = http.get("/gradio_api/info")
    assert info.status_code == 200
    assert info.json() == {"named_endpoints": {}, "unnamed_endpoints": {}}


# ---------------------------------------------------------------------------
# In Chromium: the chat under its policy


RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + e.sourceFile));
"""


@pytest.fixture
def context(browser):
    """An English browser (the page makes itself Dutch with its own script) on a phone-sized
    screen, recording every CSP violation, console message and page error."""
    ctx = browser.new_context(viewport={"width": 390, "height": 740}, locale="en-US")
    ctx.add_init_script(RECORD_VIOLATIONS)
    ctx.messages = []
    ctx.on("console", lambda m: ctx.messages.append(f"{m.type}: {m.text}"))
    ctx.on("weberror", lambda e: ctx.messages.append(f"pageerror: {e.error}"))
    yield ctx
    ctx.close()


def csp_trouble(context, pages) -> list[str]:
    """Every CSP violation the pages saw, and every console line about one."""
    seen = [v for page in pages for v in page.evaluate("window.__csp || []")]
    said = [m for m in context.messages if "Content Security Policy" in m or "Refused to" in m]
    return seen + said


def in_viewport(page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        """el => {
        const r = el.getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight && r.height > 0;
    }""",
    )


def test_the_chat_works_under_its_policy_without_a_violation(context, server):
    from playwright.sync_api import expect

    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url + "/")
    reply = ask_in_chat(page, "Hoe lang bewaren we de verslagen?")
    marker = reply.locator("a.livc-marker").first
    expect(marker).to_be_visible()
    card = page.locator("#livc-sources #bron-0-1")
    expect(card).to_be_visible()
    assert card.locator("mark").count() >= 1 and "Open in het document" in card.inner_text()
    # Our own script runs (with the nonce): a marker brings its source card into focus ...
    marker.click()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'bron-0-1'")
    # ... the interface is Dutch in an English browser ...
    reply.hover()
    thumbs_down = page.locator("#livc-chat button[title='Niet nuttig']").last
    # ... and after a thumbs down the reasons are scrolled into view.
    thumbs_down.click()
    expect(page.locator("#livc-reason")).to_be_visible()
    page.wait_for_function("""() => { const r = document.querySelector('#livc-reason').getBoundingClientRect();
                                      return r.top >= 0 && r.top < innerHeight; }""")
    page.screenshot(path=str(ARTIFACTS / "csp-chat.png"))
    # The API docs, the embed page and the document viewer under their own policies.
    docs = context.new_page()
    docs.goto(server.url + "/docs")
    expect(docs.locator(".swagger-ui .info .title")).to_contain_text("LIVC-assistent")
    embed = context.new_page()
    embed.goto(server.url + "/embed")
    expect(embed.locator("[data-livc-widget]")).to_have_count(1)
    viewer = context.new_page()
    viewer.goto(f"{server.url}/documenten/{GUIDE}")
    expect(viewer.locator("main h1")).to_be_visible()
    pages = [page, docs, embed, viewer]
    assert csp_trouble(context, pages) == []
    assert not [m for m in context.messages if m.startswith(("error:", "pageerror:"))], context.messages
    # The policy is enforced: a script without the nonce does not run, and is reported.
    ran = page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__injected = true'; document.head.appendChild(s); return !!window.__injected; }""")
    assert ran is False
    page.wait_for_function("window.__csp.length > 0")
    assert any(v.startswith("script-src") for v in page.evaluate("window.__csp"))


# ---------------------------------------------------------------------------
# Nothing outside the corpus: raw paths, and links in the corpus folder


@pytest.fixture(scope="module")
def linked(tmp_path_factory, embedder, small_cache):
    """The small corpus with three links out of the folder to a file holding MARKER (and to
    /etc/passwd), a link within it, and a scanned PDF; its index is built."""
    base = tmp_path_factory.mktemp("links")
    corpus = base / "corpus"
    write_small_corpus(corpus)
    outside = base / "outside.md"
    outside.write_text(
        f"# Buiten de gids\n\n## De kluis\n\nHet wachtwoord van de kluis is {MARKER}.\n", encoding="utf-8"
    )
    (corpus / "secret.md").symlink_to(outside)  # absolute
    (corpus / "omweg.md").symlink_to(Path("..") / "outside.md")  # relative
    (corpus / "passwd.md").symlink_to("/etc/passwd")
    (corpus / "kopie.md").symlink_to("gids.md")  # within the folder: the same document, indexed once
    scanned_pdf(corpus / "scan.pdf")  # no text to index, but the viewer serves it
    index = base / "index"
    index.mkdir()
    shutil.copyfile(small_cache[0], index / "embed-cache.sqlite")
    settings = settings_for(corpus, index, rate_limit=0, feedback_db=str(base / "feedback.sqlite"))
    report = build_index(settings, embedder, progress=False)
    return settings, report, outside


@pytest.fixture(scope="module")
def linked_server(linked, embedder):
    settings, _, _ = linked
    assistant = Assistant.open(settings, embedder=embedder)
    with AppServer(mount(create_app(settings, assistant), assistant, settings)) as running:
        yield running


def raw_get(port: int, target: bytes) -> tuple[int, bytes]:
    """GET `target` exactly as given (no client normalises or re-encodes it): status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if re.search(rb"(?im)^transfer-encoding:\s*chunked", head):
        body = dechunk(body)
    return int(head.split(b" ", 2)[1]), body


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out, body = out + rest[:n], rest[n + 2 :]
    return out


def assert_nothing_leaked(body: bytes) -> None:
    assert MARKER.encode() not in body and PASSWD not in body, body[:300]


def traversals(outside: Path) -> list[bytes]:
    out = str(outside).encode()
    return [
        b"/documenten/../outside.md",
        b"/documenten/..%2Foutside.md",
        b"/documenten/..%2foutside.md",
        b"/documenten/%2e%2e%2foutside.md",
        b"/documenten/%2E%2E/outside.md",
        b"/documenten/%252e%252e%252foutside.md",  # double-encoded
        b"/documenten/..%252Foutside.md",
        b"/documenten/%25252e%25252e%25252foutside.md",  # triple
        b"/documenten/..\\outside.md",  # backslashes
        b"/documenten/..%5Coutside.md",
        b"/documenten/%5C..%5C..%5Coutside.md",
        b"/documenten/..%c0%afoutside.md",  # overlong UTF-8 slash
        b"/documenten/....//outside.md",
        b"/documenten/./secret.md",
        b"/documenten//etc/passwd",  # absolute paths
        b"/documenten/%2Fetc%2Fpasswd",
        b"/documenten/%2fetc%2fpasswd",
        b"/documenten/" + out,
        b"/documenten/" + out.replace(b"/", b"%2F"),
        b"/documenten/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/documenten/secret.md",  # links out of the corpus folder
        b"/documenten/omweg.md",
        b"/documenten/passwd.md",
        b"/documenten/secret.md%00.md",  # NUL bytes
        b"/documenten/gids.md%00/../../outside.md",
        b"/documenten/%00",
        b"/documenten/gids.md\x00../../outside.md",  # a raw NUL in the request line
        b"/documenten/scan.pdf/../../outside.md",
        b"/docs/..%2F..%2Foutside.md",  # the other routes that serve files
        b"/docs/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        b"/static/../../../../etc/passwd",
        b"/assets/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        b"/gradio_api/file=/etc/passwd",
        b"/gradio_api/file=" + out,
        b"/gradio_api/file=../../../../../../etc/passwd",
        b"/gradio_api/file=%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ]


def test_no_encoding_of_a_path_reaches_a_file_outside_the_corpus(linked, linked_server):
    _, _, outside = linked
    for target in traversals(outside):
        status, body = raw_get(linked_server.port, target)
        assert 400 <= status < 500, (target, status, body[:200])
        assert_nothing_leaked(body)
    # The same server does serve the corpus (so the refusals above are not an accident).
    status, body = raw_get(linked_server.port, b"/documenten/gids.md")
    assert status == 200 and b"De burgemeester richt de cel op" in body


def test_links_out_of_the_corpus_are_neither_indexed_nor_listed(linked, linked_server):
    settings, report, _ = linked
    assert {d["name"] for d in report.manifest.documents} == {"gids.md", "vragen.md"}
    skipped = dict(report.skipped)  # the operator's `livc index` says why they were left out
    assert skipped["kopie.md"] == "the same file as gids.md, which is indexed"
    assert all("outside the corpus folder" in skipped[name] for name in ("secret.md", "omweg.md", "passwd.md"))
    for path in Path(settings.index_dir).rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path
    with client(linked_server) as http:
        responses = [
            http.get("/documenten/"),
            http.get("/api/v1/documents"),
            http.get("/api/v1/search", params={"q": "wachtwoord van de kluis", "k": 50}),
            http.post("/api/v1/ask", json={"question": "Wat is het wachtwoord van de kluis?"}),
        ]
    for response in responses:
        assert response.status_code == 200
        assert_nothing_leaked(response.content)
        assert "secret.md" not in response.text and "omweg.md" not in response.text and "passwd" not in response.text
    assert 'href="/documenten/gids.md"' in responses[0].text


def test_a_pdf_keeps_only_the_framing_rule_so_the_browser_can_show_it(linked_server):
    with client(linked_server) as http:
        pdf = http.get("/documenten/scan.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-security-policy"] == "frame-ancestors 'self'"
    assert pdf.headers["x-content-type-options"] == "nosniff" and pdf.headers["referrer-policy"] == "no-referrer"
