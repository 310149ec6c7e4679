"""The chat in a real browser: Debian's Chromium driven by Playwright, against the real app
(real index of the shipped corpus, real model) served by uvicorn on 127.0.0.1.

One server and one browser (conftest's ``browser``) per module; each test gets a fresh
browser context (its own conversation). Every request any page makes is recorded, and
every one must go to 127.0.0.1. Screenshots of the main states land in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from helpers import ARTIFACTS, ROOT, Server, ask_in_chat, browser_tab

from assistant.web.app import create_app
from assistant.web.chat import EXAMPLES, mount
from assistant.web.feedback import FeedbackStore

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect

TIMEOUT = 30_000  # ms, for an answer to appear

OUT_OF_SCOPE = "Hoe vraag ik een parkeervergunning aan?"
GUIDE_QUESTION = "Hoe lang bewaren we de verslagen?"  # answered from the draaiboek, section 7.5


# ---------------------------------------------------------------------------
# Fixtures: one app, one browser


@pytest.fixture(scope="module")
def app_settings(corpus_index, tmp_path_factory):
    """The corpus index's settings with a feedback database of this module's own."""
    folder = tmp_path_factory.mktemp("ui")
    return corpus_index.settings.replace(feedback_db=str(folder / "feedback.sqlite"))


@pytest.fixture(scope="module")
def server(corpus_index, app_settings):
    app = mount(create_app(app_settings), corpus_index.assistant, app_settings)
    with Server(app) as running:
        yield running


@pytest.fixture(scope="module")
def requests_seen() -> list[str]:
    return []


def chat_tab(browser, server, requests_seen, **context_options):
    """A tab of a fresh browser context on the chat, its requests recorded, ready for a question."""
    return browser_tab(browser, server.url + "/", "#livc-question textarea", requests_seen, **context_options)


@pytest.fixture
def page(browser, server, requests_seen):
    """A fresh context (an English browser: the interface must be Dutch anyway) on the chat."""
    with chat_tab(browser, server, requests_seen, viewport={"width": 1440, "height": 900}, locale="en-US") as tab:
        yield tab


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def in_viewport(page: Page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        """el => {
        const r = el.getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight && r.height > 0;
    }""",
    )


# ---------------------------------------------------------------------------
# Tests


def test_start_page_explains_itself_in_dutch(page):
    assert page.evaluate("document.documentElement.lang") == "nl"
    header = page.inner_text("#livc-header")
    assert "draaiboek" in header and "vraag-en-antwoordfiche" in header and "juli 2021" in header
    assert "citeert letterlijk" in header
    privacy = page.inner_text("#livc-privacy")
    assert "geen namen" in privacy and "niet bewaard" in privacy
    # Example questions on the empty chat, and a way to start over.
    for example in EXAMPLES:
        expect(page.locator("#livc-chat").get_by_text(example, exact=True)).to_be_visible()
    expect(page.locator("#livc-new")).to_have_text("Nieuw gesprek")
    screenshot(page, "start.png")


def test_answer_with_markers_and_sources(page):
    reply = ask_in_chat(page, GUIDE_QUESTION)
    assert re.search(r"\[1\]", reply.inner_text())
    assert "bewaartermijn" in reply.inner_text()
    card = page.locator("#livc-sources #bron-0-1")
    expect(card).to_be_visible()
    path = card.locator(".livc-path").inner_text()
    assert " › " in path, path  # chapter › section
    assert card.locator(".livc-doc").inner_text().startswith("Draaiboek LIVC-R")
    assert card.locator("mark").count() >= 1  # the quoted sentence(s), highlighted
    expect(card.locator("a.livc-open")).to_have_text("Open in het document")
    # Every marker in the answer has a card.
    for n in re.findall(r"\[(\d+)\]", reply.inner_text()):
        expect(page.locator(f"#livc-sources #bron-0-{n}")).to_have_count(1)
    screenshot(page, "answer.png")


def test_clicking_a_marker_brings_its_source_into_view(page):
    ask_in_chat(page, GUIDE_QUESTION)
    ask_in_chat(page, "Wie leidt de LIVC-R?")  # the first answer's sources are now folded away
    assert not in_viewport(page, "#bron-0-1") or not page.is_visible("#bron-0-1")
    first_marker = page.locator("#livc-chat [data-testid='bot']").first.locator("a.livc-marker").first
    first_marker.scroll_into_view_if_needed()
    first_marker.click()
    page.wait_for_timeout(800)  # smooth scrolling
    assert page.is_visible("#bron-0-1")
    assert in_viewport(page, "#bron-0-1")
    assert page.evaluate("document.activeElement.id") == "bron-0-1"
    # Keyboard: Enter on a focused marker does the same.
    marker = page.locator("#livc-chat [data-testid='bot']").last.locator("a.livc-marker").first
    marker.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(800)
    assert page.evaluate("document.activeElement.id") == "bron-1-1"


def test_open_in_the_document_marks_the_quoted_sentences(page):
    """The viewer opens in the same tab at the section, its quoted sentences marked and the
    first of them in view; back in the chat the conversation is still there."""
    ask_in_chat(page, GUIDE_QUESTION)
    card = page.locator("#bron-0-1")
    section = card.locator(".livc-path").inner_text().split(" › ")[-1]
    quoted = card.locator("mark").all_inner_texts()
    card.locator("a.livc-open").click()
    page.wait_for_url("**/documenten/**")
    url = urlparse(page.url)
    assert url.hostname == "127.0.0.1" and url.path == "/documenten/draaiboek-livc-r.md"
    assert url.fragment == "citaat"
    heading = page.locator("h1.cited, h2.cited, h3.cited, h4.cited")
    expect(heading).to_have_count(1)
    assert heading.inner_text().strip() == section
    marks = page.locator("main mark")
    assert marks.count() >= 1
    assert page.evaluate("document.querySelector(':target').tagName") == "MARK"
    assert in_viewport(page, "mark#citaat")
    shown = " ".join(marks.all_inner_texts())
    assert any(q.strip()[:40] in shown for q in quoted), (quoted, shown)
    page.screenshot(path=str(ARTIFACTS / "document.png"))
    page.get_by_role("link", name="← Terug naar de LIVC-assistent").click()
    page.wait_for_selector("#livc-question textarea")
    expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(1)
    expect(page.locator("#livc-sources #bron-0-1")).to_be_visible()


def test_faq_answers_say_where_they_come_from(page):
    reply = ask_in_chat(page, "Kan ik anoniem een zorg melden?")
    label = reply.locator(".livc-faq-label")
    expect(label).to_contain_text("vraag-en-antwoordfiche")
    expect(label).to_contain_text("Vraag 24: Kan ik anoniem een zorg melden?")
    expect(page.locator("#bron-0-1 .livc-kind")).to_have_text("vraag-en-antwoordfiche")


def test_out_of_scope_question_gets_a_visible_abstention_with_suggestions(page):
    reply = ask_in_chat(page, OUT_OF_SCOPE)
    box = reply.locator(".livc-abstain")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Dit staat niet in de gids")
    links = box.locator("a[href*='/documenten/']")
    assert links.count() >= 1
    assert reply.locator("a.livc-marker").count() == 0
    # Looks different from an answer: its own background colour.
    background = box.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    expect(page.locator("#livc-sources .livc-suggestion").first).to_be_visible()
    # A suggestion leads into the document.
    href = links.first.get_attribute("href")
    assert re.fullmatch(r"/documenten/[\w.-]+#[\w-]+", href), href
    screenshot(page, "abstention.png")


def test_follow_up_question(page):
    ask_in_chat(page, "Wat is een LIVC-R?")
    reply = ask_in_chat(page, "En wie zit die voor?")
    assert "burgemeester" in reply.inner_text().lower()
    # When the earlier question's subject is added, the reply says how it read the question.
    ask_in_chat(page, "Wat is de OCAD-lijst?")
    reply = ask_in_chat(page, "Wie is daar verantwoordelijk voor?")
    assert "Gelezen als vervolg op uw vorige vraag: “Wat is de OCAD-lijst?”" in reply.inner_text()
    assert "OCAD" in reply.inner_text()
    screenshot(page, "follow-up.png")


def test_new_conversation_starts_over(page):
    ask_in_chat(page, "Wie leidt de LIVC-R?")
    page.click("#livc-new")
    expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(0)
    expect(page.locator("#livc-sources .livc-card")).to_have_count(0)
    # An example question starts the new conversation.
    page.locator("#livc-chat").get_by_text(EXAMPLES[4], exact=True).click()
    expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(1)
    expect(page.locator("#livc-sources .livc-card").first).to_be_visible()
    # The chat's own clear button starts over too (and forgets the conversation).
    page.get_by_role("button", name="Gesprek wissen").click()
    expect(page.locator("#livc-sources .livc-card")).to_have_count(0)
    reply = ask_in_chat(page, "En wie zit die voor?")
    assert "Gelezen als vervolg" not in reply.inner_text()


def test_thumbs_down_with_a_reason_is_stored(page, app_settings):
    reply = ask_in_chat(page, GUIDE_QUESTION)
    reply.hover()
    page.locator("#livc-chat button[title='Niet nuttig']").last.click()
    box = page.locator("#livc-reason")
    expect(box).to_be_visible()
    box.get_by_label("bron klopt niet").check()
    screenshot(page, "feedback.png")
    page.click("#livc-reason-send")
    expect(page.locator("#livc-feedback-note")).to_contain_text("Bedankt")
    expect(box).to_be_hidden()

    store = FeedbackStore(Path(app_settings.feedback_db))
    deadline = time.time() + 10
    while time.time() < deadline and not any(r.reason for r in store.list()):
        time.sleep(0.2)
    record = next(r for r in store.list() if r.reason)
    assert (record.rating, record.reason, record.mode) == (-1, "bron klopt niet", "extractive")
    assert "bewaartermijn" in record.answer
    assert record.citations and record.citations[0]["doc"] == "draaiboek-livc-r.md"
    assert record.question is None  # log_questions is off
    raw = sqlite3.connect(app_settings.feedback_db).execute("SELECT * FROM feedback").fetchall()
    assert not any(GUIDE_QUESTION in str(v) for row in raw for v in row)


def test_phone_width(browser, server, requests_seen):
    phone = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
    with chat_tab(browser, server, requests_seen, locale="nl-BE", **phone) as tab:
        screenshot(tab, "phone-start.png")
        ask_in_chat(tab, "Wie leidt de LIVC-R?", press_enter=False)
        # Nothing wider than the screen; the sources sit below the chat.
        assert tab.evaluate("document.documentElement.scrollWidth") <= 375
        chat_box = tab.locator("#livc-chat").bounding_box()
        sources_box = tab.locator("#livc-sources").bounding_box()
        assert sources_box["y"] >= chat_box["y"] + chat_box["height"] - 1
        assert sources_box["width"] <= 375
        body_size = tab.eval_on_selector("#livc-sources .livc-quote", "el => parseFloat(getComputedStyle(el).fontSize)")
        assert body_size >= 14
        screenshot(tab, "phone.png")


def test_wide_screen(browser, server, requests_seen):
    with chat_tab(browser, server, requests_seen, viewport={"width": 1920, "height": 1080}, locale="nl-BE") as tab:
        ask_in_chat(tab, "Wie moet er minstens aan tafel zitten?")
        chat_box = tab.locator("#livc-chat").bounding_box()
        sources_box = tab.locator("#livc-sources").bounding_box()
        assert sources_box["x"] > chat_box["x"] + chat_box["width"] - 1  # side by side
        screenshot(tab, "wide.png")


def test_questions_are_answered_in_parallel(browser, corpus_index, app_settings):
    """Three officials asking at once are served at once, not one after the other: each
    answer waits until all three are being answered (a barrier), which only a server
    with room for three concurrent answers can pass."""
    barrier = threading.Barrier(3, timeout=15)

    class Together:
        generator = None  # no model: answers come whole

        def ask(self, question, history=None, listener=None):
            barrier.wait()
            return corpus_index.assistant.ask(question, history)

    settings = app_settings.replace(concurrency=3)
    with Server(mount(create_app(settings), Together(), settings)) as running:
        context = browser.new_context(locale="nl-BE")
        try:
            tabs = [context.new_page() for _ in range(3)]
            for tab in tabs:
                tab.set_default_timeout(TIMEOUT)
                tab.goto(running.url + "/")
                tab.wait_for_selector("#livc-question textarea")
            for tab in tabs:
                tab.fill("#livc-question textarea", "Wie leidt de LIVC-R?")
                tab.press("#livc-question textarea", "Enter")
            for tab in tabs:
                expect(tab.locator("#livc-sources .livc-card").first).to_be_visible()
            assert not barrier.broken
        finally:
            context.close()


def test_dutch_interface_in_an_english_browser(page):
    reply = ask_in_chat(page, "Wie leidt de LIVC-R?")
    reply.hover()
    titles = page.eval_on_selector_all("#livc-chat button[title]", "els => els.map(e => e.title)")
    assert "Nuttig" in titles and "Niet nuttig" in titles
    assert not {"Like", "Dislike", "Liked", "Disliked", "Clear", "Copy message", "Vind ik leuk"} & set(titles)


def test_no_request_leaves_127_0_0_1(page, requests_seen):
    """Runs last: by now every page state above (answers, abstention, document viewer,
    phone and wide screens) has been loaded."""
    ask_in_chat(page, OUT_OF_SCOPE)
    page.locator("#livc-sources a.livc-open").first.click()
    page.wait_for_url("**/documenten/**")
    page.wait_for_load_state()
    assert requests_seen
    outside = sorted(
        {
            u
            for u in requests_seen
            if urlparse(u).hostname != "127.0.0.1" and not u.startswith(("data:", "blob:", "about:"))
        }
    )
    assert outside == []


def test_document_route_in_the_full_app_refuses_paths_outside_the_corpus(server):
    for path in (
        "/documenten/../pyproject.toml",
        "/documenten/..%2Fpyproject.toml",
        "/documenten/SOURCES.md",
        "/documenten/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ):
        status, body, _ = server.get(path)
        assert status == 404, path
        assert "[project]" not in body and "root:" not in body


# ---------------------------------------------------------------------------
# Without a browser: settings and rendering


def _blocks(**overrides):
    from assistant.core.settings import Settings
    from assistant.web.chat import build_ui

    settings = Settings.load(overrides=overrides, environ={}, config_file=_empty_config())
    return build_ui(SimpleNamespace(generator=None), settings, FeedbackStore(Path("/nonexistent/feedback.sqlite")))


def _empty_config() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "empty.toml"
    path.write_text("", encoding="utf-8")
    return path


def test_concurrency_is_set_deliberately():
    demo = _blocks(concurrency=6, queue_size=20)
    assert demo._queue.default_concurrency_limit == 6 and demo._queue.max_size == 20
    answering = [fn for fn in demo.fns.values() if fn.name == "answer"]
    assert answering and all(fn.queue and fn.concurrency_id == "ask" for fn in answering)


def test_privacy_line_follows_the_setting():
    from assistant.web.chat import PRIVACY_OFF, PRIVACY_ON

    def texts(demo):
        return " ".join(str(b.value) for b in demo.blocks.values() if isinstance(getattr(b, "value", None), str))

    assert PRIVACY_OFF in texts(_blocks()) and PRIVACY_ON not in texts(_blocks())
    assert PRIVACY_ON in texts(_blocks(log_questions=True))


def test_question_text_reaches_the_log_only_when_enabled(caplog):
    from assistant.core.settings import Settings
    from assistant.core.types import Answer
    from assistant.web.chat import _log_answer

    answer = Answer(question="Mag ik over mijn buurman Jan spreken?", text="…", timings={"total": 12.0})
    with caplog.at_level("INFO", logger="livc.ui"):
        _log_answer(answer, Settings())
        assert "buurman" not in caplog.text and "answered" in caplog.text
        _log_answer(answer, Settings(log_questions=True))
        assert "buurman" in caplog.text


def test_markers_link_to_their_cards_and_lists_end_before_the_next_sentence():
    from assistant.core.chunking import Passage
    from assistant.core.settings import Settings
    from assistant.core.types import Answer, Citation
    from assistant.web.render import render_reply

    p = Passage(
        id="p",
        doc="d.md",
        title="Draaiboek LIVC-R: lang",
        section="5.2 B",
        section_path=["5. A", "5.2 B"],
        anchor="52-b",
        kind="guide",
        text="x",
        sentences=["x"],
    )
    answer = Answer(
        question="q",
        text="- een punt. [1] Daarna volgt tekst. [2]",
        citations=[Citation(1, p, "x"), Citation(2, p, "x")],
    )
    reply = render_reply(answer, 3, Settings())
    assert '<a class="livc-marker" href="#bron-3-1" title="Bron 1: 5. A › 5.2 B">[1]</a>' in reply
    assert "</a></li></ul><p>Daarna volgt tekst. <a" in reply  # the sentence after the item: a paragraph of its own
    plain = render_reply(
        Answer(question="q", text="gewone zin [1] en meer", citations=[Citation(1, p, "x")]), 0, Settings()
    )
    assert "<p>gewone zin <a" in plain and "</a> en meer</p>" in plain and "<li>" not in plain


@pytest.mark.server
def test_python_app_py_serves_the_chat(corpus_index):
    """The README's run command: `python app.py`, here with the port from LIVC_PORT."""
    import subprocess
    import urllib.request

    from helpers import PYTHON, cli_env, free_port

    port = free_port()
    env = cli_env(LIVC_PORT=str(port), LIVC_CONFIG=str(_empty_config()))
    process = subprocess.Popen(
        [
            PYTHON,
            "app.py",
            "--index",
            str(corpus_index.settings.index_dir),
            "--corpus",
            str(corpus_index.settings.corpus_dir),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"app.py did not come up:\n{process.stdout.read()}") from None
                time.sleep(0.5)
        assert "LIVC-assistent" in page and 'Navigator.prototype,"language"' in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/documenten/draaiboek-livc-r.md", timeout=5) as response:
            assert response.status == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_two_browsers_never_share_a_conversation(browser, server):
    """Each session gets its own copy of the conversation state: a follow-up in a second
    browser is not read against the first browser's question, and its sources panel does
    not show the first browser's question."""
    first, second = browser.new_context(locale="nl-BE"), browser.new_context(locale="nl-BE")
    try:
        one, two = first.new_page(), second.new_page()
        for tab in (one, two):
            tab.set_default_timeout(TIMEOUT)
            tab.goto(server.url + "/")
            tab.wait_for_selector("#livc-question textarea")
        ask_in_chat(one, "Wat is de OCAD-lijst?")
        assert (
            "Gelezen als vervolg" in ask_in_chat(one, "Wie is daar verantwoordelijk voor?").inner_text()
        )  # in one session
        reply = ask_in_chat(two, "Wie is daar verantwoordelijk voor?")
        assert "Gelezen als vervolg" not in reply.inner_text()
        assert "OCAD-lijst?" not in two.locator("#livc-sources").inner_text()
    finally:
        first.close()
        second.close()
