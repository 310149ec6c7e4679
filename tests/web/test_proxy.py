"""Behind a real nginx (Debian's, started by this module with deploy/nginx-livc.conf) under
/livc/, with single sign-on: nginx logs the user in (its own auth_basic stands in for an
SSO module), passes the user name in X-Remote-User and connects to the app from
127.0.0.2, the only address the app trusts. Chat, assets, API, documents, docs page,
embed page and widget must all work through it, with the forwarded headers a real setup
sends; the same header sent straight to the app is refused.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from helpers import (
    GUIDE,
    ROOT,
    AppServer,
    HostSite,
    Nginx,
    ask_in_chat,
    ask_widget,
    client,
    free_port,
    host_pages,
    shot,
)

from assistant.web.app import create_app
from assistant.web.chat import mount

pytest.importorskip("playwright")
from playwright.sync_api import expect

pytestmark = pytest.mark.server  # nginx

TEMPLATE = ROOT / "deploy" / "nginx-livc.conf"
PROXY_ADDRESS = "127.0.0.2"
USER, PASSWORD = "an.peeters", "intranet-wachtwoord"
TIMEOUT = 30_000


def ssha(password: str) -> str:
    """An nginx/RFC 2307 {SSHA} password hash."""
    salt = os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def render_site(folder: Path, listen: int, upstream: int) -> str:
    """deploy/nginx-livc.conf for this test: other ports, nginx's own login standing in for
    SSO (not for CORS preflights, which browsers send without credentials), and the
    connection to the app made from the proxy address."""
    text = TEMPLATE.read_text(encoding="utf-8")
    replacements = {
        "listen 127.0.0.1:8080;": f"listen 127.0.0.1:{listen};",
        "proxy_pass http://127.0.0.1:7860/;": f"proxy_pass http://127.0.0.1:{upstream}/;\n"
        f"        proxy_bind {PROXY_ADDRESS};",
        "access_log /var/log/nginx/livc.access.log livc;": f"access_log {folder}/access.log livc;",
        "proxy_set_header X-Remote-User $remote_user;    # LIVC:sso": "proxy_set_header X-Remote-User $remote_user;    # LIVC:sso\n"
        f'        limit_except OPTIONS {{ auth_basic "Intranet"; auth_basic_user_file {folder}/htpasswd; }}',
    }
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx-livc.conf lost the line {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def host_port():
    return free_port()


@pytest.fixture(scope="module")
def app_server(corpus_index, tmp_path_factory, host_port):
    origin = f"http://127.0.0.1:{host_port}"
    settings = corpus_index.settings.replace(
        feedback_db=str(tmp_path_factory.mktemp("proxy") / "feedback.sqlite"),
        root_path="/livc",
        auth="header",
        trusted_proxies=(PROXY_ADDRESS,),
        allowed_origins=(origin,),
        frame_origins=(origin,),
        rate_limit=0,
    )
    app = mount(create_app(settings, corpus_index.assistant), corpus_index.assistant, settings)
    with AppServer(app) as running:
        yield running


@pytest.fixture(scope="module")
def nginx(app_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx")
    (folder / "htpasswd").write_text(f"{USER}:{ssha(PASSWORD)}\n", encoding="utf-8")
    with Nginx(folder, lambda port: render_site(folder, port, app_server.port)) as running:
        yield running


@pytest.fixture(scope="module")
def proxied(nginx):
    with httpx.Client(base_url=nginx.url, auth=(USER, PASSWORD), timeout=60) as http:
        yield http


# ---------------------------------------------------------------------------
# HTTP through the proxy


def test_every_part_answers_under_livc(proxied, nginx):
    assert proxied.get("/livc").headers["Location"].endswith("/livc/")
    chat = proxied.get("/livc/")
    assert chat.status_code == 200 and "<html" in chat.text.lower()
    for path, kind in (
        ("/livc/embed", "text/html"),
        ("/livc/widget.js", "javascript"),
        (f"/livc/documenten/{GUIDE}", "text/html"),
        ("/livc/docs", "text/html"),
        ("/livc/openapi.json", "json"),
        ("/livc/readyz", "json"),
        ("/livc/api/v1/documents", "json"),
    ):
        response = proxied.get(path)
        assert response.status_code == 200 and kind in response.headers["Content-Type"], path
    docs = proxied.get("/livc/docs").text
    assert "/livc/openapi.json" in docs and "/livc/docs/swagger-ui-bundle.js" in docs
    assert proxied.get("/livc/docs/swagger-ui-bundle.js").status_code == 200
    assert proxied.get("/livc/openapi.json").json()["servers"] == [{"url": "/livc"}]


def test_api_answers_with_links_through_the_proxy(proxied, nginx):
    data = proxied.post("/livc/api/v1/ask", json={"question": "Hoe lang bewaren we de verslagen?"}).json()
    url = data["citations"][0]["url"]
    assert url.startswith(f"{nginx.url}/livc/documenten/{GUIDE}#"), url
    page = proxied.get(url)
    assert page.status_code == 200 and f'id="{urlparse(url).fragment}"' in page.text
    assert 'href="/livc/"' in page.text  # "back to the assistant" stays under the prefix
    documents = proxied.get("/livc/api/v1/documents").json()["documents"]
    assert all(d["url"].startswith(f"{nginx.url}/livc/documenten/") for d in documents)


def test_single_sign_on_only_through_the_proxy(nginx, app_server):
    with httpx.Client(base_url=nginx.url, timeout=30) as anonymous:
        refused = anonymous.get("/livc/api/v1/documents", headers={"X-Remote-User": "mallory"})
        assert refused.status_code == 401  # nginx's login, before the app
    with client(app_server) as direct:
        forged = direct.get("/api/v1/documents", headers={"X-Remote-User": USER, "X-Forwarded-For": PROXY_ADDRESS})
        assert forged.status_code == 401 and forged.json()["code"] == "unauthorized"
        assert direct.get("/", headers={"X-Remote-User": USER, "Accept": "text/html"}).status_code == 401
    log = (nginx.folder / "access.log").read_text(encoding="utf-8")
    assert USER in log and "?" not in log  # who, but never a query string (search questions)


# ---------------------------------------------------------------------------
# In the browser


@pytest.fixture
def context(browser):
    """A signed-in browser (nginx's login), recording requests and failed responses."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 860},
        locale="nl-BE",
        http_credentials={"username": USER, "password": PASSWORD},
    )
    ctx.requests, ctx.failures = [], []
    ctx.on("request", lambda request: ctx.requests.append(request.url))
    ctx.on("response", lambda r: r.status >= 400 and r.status != 401 and ctx.failures.append((r.status, r.url)))
    yield ctx
    ctx.close()


def test_chat_works_under_livc(context, nginx, app_server):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(nginx.url + "/livc/")
    reply = ask_in_chat(page, "Hoe lang bewaren we de verslagen?")
    expect(reply.locator("a.livc-marker").first).to_be_visible()
    link = page.locator("#livc-sources a.livc-open").first
    assert link.get_attribute("href").startswith(f"/livc/documenten/{GUIDE}?sectie=")
    shot(page, "proxy-chat.png")
    link.click()  # the viewer opens in the same tab, at the first quoted sentence
    page.wait_for_url(f"{nginx.url}/livc/documenten/{GUIDE}?*")
    assert page.url.endswith("#citaat") and page.locator("mark:target").count() == 1
    hosts = {urlparse(u).netloc for u in context.requests if u.startswith("http")}
    assert hosts == {f"127.0.0.1:{nginx.port}"}, hosts  # nothing bypasses the proxy
    assert context.failures == [], context.failures


def test_widget_and_embed_on_another_origin_through_the_proxy(context, nginx, host_port):
    with HostSite(host_pages(nginx.url + "/livc"), host_port) as site:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(site.url + "/")
        page.locator(".launcher").click()
        reply = ask_widget(page, "Wie leidt de LIVC-R?")
        expect(reply.locator(".card").first).to_be_visible()
        href = reply.locator(".card a.open").first.get_attribute("href")
        assert href.startswith(f"{nginx.url}/livc/documenten/"), href
        shot(page, "proxy-widget.png")
        framed = context.new_page()
        framed.set_default_timeout(TIMEOUT)
        framed.goto(site.url + "/frame")
        frame = framed.frame_locator("#chat")
        answer = ask_widget(frame, "Wie leidt de LIVC-R?")
        expect(answer.locator(".card").first).to_be_visible()
    assert context.cookies() == []  # single sign-on without any cookie of ours
    assert context.failures == [], context.failures
