"""The widget and the embed page in a real browser (Debian's Chromium via Playwright),
on host pages served from other local ports, i.e. other origins: one that the app
allows (CORS and framing), one that it does not.

The host page carries hostile CSS; the widget must look the same anyway, and leave the
host page alone. Text in answers and documents that looks like HTML must stay text.
One browser for the module; screenshots land in tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from helpers import (
    GUIDE,
    AppServer,
    HostSite,
    ask_widget,
    free_port,
    host_pages,
    settings_for,
    shot,
    write_small_corpus,
)

from assistant.core.assistant import Assistant
from assistant.core.index import build_index
from assistant.web.app import create_app

pytest.importorskip("playwright")
from playwright.sync_api import expect

TIMEOUT = 30_000
QUESTION = "Hoe lang bewaren we de verslagen?"


# ---------------------------------------------------------------------------
# Fixtures: an allowed and a foreign origin, one app, one browser


@pytest.fixture(scope="module")
def ports():
    return {"allowed": free_port(), "foreign": free_port()}


@pytest.fixture(scope="module")
def app_server(corpus_index, ports, tmp_path_factory):
    allowed = f"http://127.0.0.1:{ports['allowed']}"
    settings = corpus_index.settings.replace(
        feedback_db=str(tmp_path_factory.mktemp("widget") / "feedback.sqlite"),
        rate_limit=0,
        allowed_origins=(allowed,),
        frame_origins=(allowed,),
    )
    with AppServer(create_app(settings, corpus_index.assistant)) as running:
        yield running


@pytest.fixture(scope="module")
def sites(app_server, ports):
    pages = host_pages(app_server.url)
    with HostSite(pages, ports["allowed"]) as allowed, HostSite(pages, ports["foreign"]) as foreign:
        yield {"allowed": allowed, "foreign": foreign}


@pytest.fixture
def context(browser):
    """A fresh browser context that records every request and every dialog."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="nl-BE")
    ctx.requests, ctx.dialogs = [], []
    ctx.on("request", lambda request: ctx.requests.append(request.url))
    ctx.on("page", lambda page: page.on("dialog", lambda d: (ctx.dialogs.append(d.message), d.dismiss())))
    yield ctx
    ctx.close()


def open_page(context, url: str):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.on("dialog", lambda d: (context.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    return page


def assert_local(requests: list[str]) -> None:
    assert requests and all(urlparse(u).hostname == "127.0.0.1" for u in requests if u.startswith("http")), requests


# ---------------------------------------------------------------------------
# The widget on another origin


def test_widget_on_an_allowed_origin_asks_and_cites(context, sites, app_server):
    page = open_page(context, sites["allowed"].url + "/")
    launcher = page.locator(".launcher")
    expect(launcher).to_have_text("?Vraag het draaiboek")
    expect(page.locator(".panel")).to_be_hidden()
    shot(page, "widget-closed.png")
    launcher.click()
    expect(page.locator(".panel")).to_be_visible()
    assert launcher.get_attribute("aria-expanded") == "true"
    reply = ask_widget(page, QUESTION)
    expect(reply.locator(".card").first).to_be_visible()
    assert "bewaartermijn" in reply.locator(".text").inner_text()
    card = reply.locator(".card").first
    assert card.locator(".doc").inner_text() == "Draaiboek LIVC-R"
    assert " › " in card.locator(".path").inner_text()
    assert card.locator(".quote").inner_text().strip()
    href = card.locator("a.open").get_attribute("href")
    assert href.startswith(f"{app_server.url}/documenten/{GUIDE}#"), href
    assert card.locator("a.open").get_attribute("target") == "_blank"
    # A marker shows its source.
    reply.locator("button.marker").first.click()
    focused = page.evaluate("document.querySelector('[data-livc-widget]').shadowRoot.activeElement.id")
    assert focused == "livc-0-1"
    page.wait_for_timeout(800)  # smooth scrolling inside the panel's log
    seen = page.evaluate("""() => {
        const root = document.querySelector('[data-livc-widget]').shadowRoot;
        const card = root.getElementById('livc-0-1').getBoundingClientRect();
        const log = root.querySelector('.log').getBoundingClientRect();
        return card.top >= log.top - 1 && card.top < log.bottom;
    }""")
    assert seen, "the cited source did not scroll into the panel"
    assert page.evaluate("scrollY") == 0  # the host page did not move
    shot(page, "widget-answer.png")
    # The host page's CSS did not reach in, and the widget left the host page alone.
    font = launcher.evaluate("el => getComputedStyle(el).fontFamily")
    assert "serif" != font.split(",")[0].strip().strip('"'), font
    assert page.locator(".title").evaluate("el => getComputedStyle(el).color") == "rgb(255, 255, 255)"
    assert page.locator(".launcher").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(11, 110, 79)"
    assert page.evaluate("getComputedStyle(document.getElementById('host-title')).color") == "rgb(255, 0, 0)"
    # Follow-up: the widget sends the conversation's earlier questions along.
    follow = ask_widget(page, "En wie heeft daar toegang toe?")
    assert follow.locator(".card").count() >= 1 or "niet in de gids" in follow.inner_text()
    # Escape closes the panel and gives focus back to the button.
    page.locator("textarea.question").press("Escape")
    expect(page.locator(".panel")).to_be_hidden()
    assert_local(context.requests)
    assert context.cookies() == [] and context.dialogs == []


def test_widget_on_a_foreign_origin_gets_no_answers(context, sites):
    page = open_page(context, sites["foreign"].url + "/")
    page.locator(".launcher").click()
    reply = ask_widget(page, QUESTION)
    expect(reply).to_have_class("msg bot error")
    assert "niet bereikbaar" in reply.inner_text()


# ---------------------------------------------------------------------------
# The embed page in an iframe


def test_embed_in_an_allowed_frame_fits_360_by_560_and_answers(context, sites):
    page = open_page(context, sites["allowed"].url + "/frame")
    frame = page.frame_locator("#chat")
    expect(frame.locator(".panel")).to_be_visible()
    expect(frame.locator(".launcher")).to_have_count(0)  # no floating button inside a frame
    reply = ask_widget(frame, QUESTION)
    expect(reply.locator(".card").first).to_be_visible()
    inner = page.frames[1]
    sizes = inner.evaluate("""() => {
        const root = document.querySelector('[data-livc-widget]').shadowRoot;
        const box = el => root.querySelector(el).getBoundingClientRect().toJSON();
        return {scroll: document.documentElement.scrollWidth, width: innerWidth, height: innerHeight,
                panel: box('.panel'), input: box('textarea.question'), send: box('button.send')};
    }""")
    assert sizes["width"] <= 360 and sizes["scroll"] <= sizes["width"], sizes
    for part in ("panel", "input", "send"):
        box = sizes[part]
        assert box["right"] <= sizes["width"] + 0.5 and box["bottom"] <= sizes["height"] + 0.5, (part, sizes)
    shot(page, "embed-frame.png")
    assert context.cookies() == []


def test_a_foreign_origin_cannot_frame_the_app(context, sites):
    page = open_page(context, sites["foreign"].url + "/frame")
    page.wait_for_timeout(1500)
    frame = page.frames[1]
    assert frame.url != "" and "/embed" not in frame.evaluate("location.href"), frame.url  # an error page
    assert page.frame_locator("#chat").locator("[data-livc-widget]").count() == 0


# ---------------------------------------------------------------------------
# HTML in answers and documents stays text


XSS_DOC = """# Notities <img src=x onerror=alert('titel')> over de cel

## 1. Het verslag van de cel

De verslaggever schrijft het verslag van de cel altijd letterlijk over: <script>alert('xss')</script> blijft gewoon \
tekst. Ook een afbeelding <img src=x onerror=alert('img')> blijft tekst in het verslag.
"""
XSS_QUESTION = "Hoe schrijft de verslaggever het verslag van de cel over?"


@pytest.fixture(scope="module")
def xss_server(embedder, small_cache, tmp_path_factory, ports):
    """An app over the small corpus plus a document full of HTML."""
    base = tmp_path_factory.mktemp("xss")
    write_small_corpus(base / "corpus")
    (base / "corpus" / "notities.md").write_text(XSS_DOC, encoding="utf-8")
    (base / "index").mkdir()
    (base / "index" / "embed-cache.sqlite").write_bytes(Path(small_cache[0]).read_bytes())
    settings = settings_for(
        base / "corpus", base / "index", rate_limit=0, allowed_origins=(f"http://127.0.0.1:{ports['allowed']}",)
    )
    build_index(settings, embedder, progress=False)
    assistant = Assistant.open(settings, embedder=embedder)
    with AppServer(create_app(settings, assistant)) as running:
        yield running


def test_html_in_answers_and_documents_is_shown_as_text(context, xss_server):
    page = open_page(context, xss_server.url + "/embed")
    reply = ask_widget(page, XSS_QUESTION)
    expect(reply.locator(".card").first).to_be_visible()
    text = reply.inner_text()
    assert "<script>alert('xss')</script>" in text
    assert "<img src=x onerror=alert('img')>" in text
    card = reply.locator(".card").first
    assert card.locator(".doc").get_attribute("title") == "Notities <img src=x onerror=alert('titel')> over de cel"
    counts = page.evaluate("""() => {
        const root = document.querySelector('[data-livc-widget]').shadowRoot;
        return {script: root.querySelectorAll('script').length, img: root.querySelectorAll('img').length,
                page: document.querySelectorAll('script').length};
    }""")
    assert counts == {"script": 0, "img": 0, "page": 1}, counts
    # The document viewer shows the same text escaped.
    doc = open_page(context, card.locator("a.open").get_attribute("href"))
    assert "<script>alert('xss')</script>" in doc.inner_text("main")
    assert doc.locator("main script, main img").count() == 0
    page.wait_for_timeout(300)
    shot(page, "widget-html-as-text.png")
    assert context.dialogs == []
