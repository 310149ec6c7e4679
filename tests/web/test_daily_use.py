"""The chat for daily use (issue 15), in a real browser: Debian's Chromium driven by
Playwright against the real app (real index of the shipped corpus, real model) on 127.0.0.1.

Copy puts plain text with the numbered sources on the clipboard; the conversation survives a
reload (sessionStorage) and is exported as Markdown and Word; "Lees als nieuwe vraag" re-asks
without the history; a marker's jump shows its card's header; and axe-core finds no serious or
critical violation on the chat, the embed page and the document viewer.

axe-core comes from the npm registry: scripts/test.sh installs it into tests/axe/ (git-ignored)
and Playwright injects it into each page. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ARTIFACTS, ROOT, Server, ask_in_chat, client

from assistant.web.app import create_app
from assistant.web.chat import mount
from assistant.web.feedback import FeedbackStore

pytest.importorskip("playwright")
from playwright.sync_api import expect

TIMEOUT = 30_000
AXE = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
GUIDE_QUESTION = "Hoe lang bewaren we de verslagen?"


@pytest.fixture(scope="module")
def app_settings(corpus_index, tmp_path_factory):
    return corpus_index.settings.replace(
        feedback_db=str(tmp_path_factory.mktemp("daily") / "feedback.sqlite"), rate_limit=0
    )


@pytest.fixture(scope="module")
def server(corpus_index, app_settings):
    settings = app_settings
    app = mount(create_app(settings, corpus_index.assistant), corpus_index.assistant, settings)
    with Server(app) as running:
        yield running


@pytest.fixture
def context(browser):
    context = browser.new_context(
        viewport={"width": 1366, "height": 768},
        locale="en-US",  # an English browser: everything read aloud must be Dutch anyway
        permissions=["clipboard-read", "clipboard-write"],
        accept_downloads=True,
    )
    yield context
    context.close()


@pytest.fixture
def page(context, server):
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT)
    tab.goto(server.url + "/")
    tab.wait_for_selector("#livc-question textarea")
    return tab


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def kept(page) -> list[dict]:
    return json.loads(page.evaluate("sessionStorage.getItem('livc-gesprek') || '[]'"))


def wait_kept(page, turns: int) -> list[dict]:
    for _ in range(100):
        records = kept(page)
        if len(records) >= turns:
            return records
        page.wait_for_timeout(100)
    raise AssertionError(f"sessionStorage never held {turns} answers: {len(kept(page))}")


def copy_reply(page, message_row: int) -> str:
    row = page.locator("#livc-chat .message-row").nth(message_row)
    row.hover()
    row.locator("button[title='Bericht kopiëren']").click()
    page.wait_for_timeout(500)  # ours replaces Gradio's copy 150 ms later
    return page.evaluate("navigator.clipboard.readText()")


def axe_violations(scope) -> list[dict]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations of the page in `scope`
    (a Page or Frame). Playwright evaluates axe's source through the DevTools protocol,
    which the page's Content-Security-Policy does not govern; the page's own policy stays on."""
    if not AXE.exists():
        pytest.fail(f"{AXE} not found: scripts/test.sh installs axe-core with npm")
    scope.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = scope.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))""",
        AXE_TAGS,
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


# ---------------------------------------------------------------------------
# Copy, keep, export


def ask_in_embed(context, server, question: str):
    """A new tab on the embed page that has asked `question` and shows its answer card."""
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT)
    tab.goto(server.url + "/embed")
    tab.locator("textarea").fill(question)
    tab.locator("textarea").press("Enter")
    expect(tab.locator(".msg.bot .card").first).to_be_visible()
    return tab


def test_copy_gives_plain_text_with_the_numbered_sources(page, server):
    reply = ask_in_chat(page, GUIDE_QUESTION)
    wait_kept(page, 1)
    text = copy_reply(page, 1)
    assert "<" not in text and "class=" not in text and "href" not in text, text
    assert "bewaartermijn" in text and "[1]" in text
    sources = text.split("Bronnen:" if "Bronnen:" in text else "\n[1] ", 1)[-1]
    assert "Draaiboek LIVC-R" in sources and "7.5 Bewaring en beveiliging" in sources and " › " in sources
    assert f"{server.url}/documenten/draaiboek-livc-r.md#75-bewaring-en-beveiliging" in sources
    # The answer's sentences are the ones shown (markers and lists as text).
    assert reply.inner_text().split("\n")[0].strip()[:40] in text


def test_a_reload_keeps_the_conversation_and_its_follow_ups(page):
    ask_in_chat(page, "Wat is de OCAD-lijst?")
    records = wait_kept(page, 1)
    assert records[0]["question"] == "Wat is de OCAD-lijst?" and records[0]["citations"]
    page.reload()
    page.wait_for_selector("#livc-question textarea")
    expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(1)
    expect(page.locator("#livc-sources #bron-0-1")).to_be_visible()
    assert page.locator("#livc-sources #bron-0-1 mark").count() >= 1  # the quote marked again
    # The restored question still counts as the history of a follow-up.
    reply = ask_in_chat(page, "Wie is daar verantwoordelijk voor?")
    assert "Gelezen als vervolg op uw vorige vraag: “Wat is de OCAD-lijst?”" in reply.inner_text()
    assert len(wait_kept(page, 2)) == 2
    screenshot(page, "chat-restored.png")
    # "Nieuw gesprek" forgets what the tab kept.
    page.click("#livc-new")
    expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(0)
    for _ in range(30):
        if not kept(page):
            break
        page.wait_for_timeout(100)
    assert kept(page) == []


def test_export_as_markdown_and_word(page, server, tmp_path):
    ask_in_chat(page, GUIDE_QUESTION)
    ask_in_chat(page, "Kan ik anoniem een zorg melden?")
    records = wait_kept(page, 2)
    with page.expect_download() as download:
        page.click("#livc-export-md")
    assert download.value.suggested_filename.endswith(".md")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Gesprek met de LIVC-assistent")
    assert f"## Vraag 1: {GUIDE_QUESTION}" in markdown and "## Vraag 2: Kan ik anoniem een zorg melden?" in markdown
    for record in records:
        for c in record["citations"]:
            assert f"[{c['n']}] {c['title']} › " in markdown
            assert f"<{server.url}{c['url']}>" in markdown
    with page.expect_download() as download:
        page.click("#livc-export-docx")
    assert download.value.suggested_filename.endswith(".docx")
    saved = tmp_path / "gesprek.docx"
    download.value.save_as(saved)
    import docx

    word = docx.Document(str(saved))
    text = "\n".join(p.text for p in word.paragraphs)
    assert word.core_properties.title == "Gesprek met de LIVC-assistent"
    assert GUIDE_QUESTION in text and "bewaartermijn" in text and "Vraag 24: Kan ik anoniem een zorg melden?" in text
    assert f"{server.url}/documenten/draaiboek-livc-r.md#75-bewaring-en-beveiliging" in text
    links = [r.target_ref for r in word.part.rels.values() if r.is_external]
    assert any(link.endswith("#75-bewaring-en-beveiliging") for link in links)


def test_read_as_a_new_question(page):
    ask_in_chat(page, "Wat is de OCAD-lijst?")
    reply = ask_in_chat(page, "Wie is daar verantwoordelijk voor?")
    link = reply.locator("a.livc-reask")
    expect(link).to_have_text("Lees als nieuwe vraag")
    screenshot(page, "follow-up-reask.png")
    link.click()
    replies = page.locator("#livc-chat [data-testid='bot']")
    expect(replies).to_have_count(3)
    again = replies.last.inner_text()
    assert "Gelezen als vervolg" not in again
    assert page.locator("#livc-chat [data-testid='user']").last.inner_text().strip() == (
        "Wie is daar verantwoordelijk voor?"
    )


def test_a_marker_shows_its_card_from_the_header(page):
    ask_in_chat(page, "Wat moet er in het huishoudelijk reglement staan?")
    ask_in_chat(page, "Wie leidt de LIVC-R?")
    marker = page.locator("#livc-chat [data-testid='bot']").first.locator("a.livc-marker").first
    marker.click()
    page.wait_for_timeout(900)  # smooth scrolling
    head = page.locator("#bron-0-1 .livc-card-head").bounding_box()
    panel = page.locator("#livc-sources .livc-sources").bounding_box()
    assert head["y"] >= max(0, panel["y"]) - 1 and head["y"] + head["height"] <= 768, (head, panel)


# ---------------------------------------------------------------------------
# Accessibility: axe-core, Dutch names, the skip link


def test_chat_has_no_serious_accessibility_violations(page):
    assert axe_violations(page) == []
    ask_in_chat(page, GUIDE_QUESTION)
    ask_in_chat(page, "Hoe vraag ik een parkeervergunning aan?")  # an abstention too
    page.wait_for_timeout(500)
    assert axe_violations(page) == []
    # Gradio's English and raw-HTML names are gone.
    labels = page.eval_on_selector_all("[aria-label]", "els => els.map(e => e.getAttribute('aria-label'))")
    assert not [label for label in labels if "message:" in label or "<" in label or "chatbot" in label], labels
    assert page.get_attribute("#livc-chat [role='log']", "aria-label") == "Gesprek"
    assert page.get_by_role("textbox", name="Uw vraag").count() == 1


def test_the_skip_link_reaches_the_latest_answer(page):
    ask_in_chat(page, GUIDE_QUESTION)
    wait_kept(page, 1)
    page.reload()  # nothing has the focus: the first Tab is the skip link (and the answer is restored)
    page.wait_for_selector("#livc-question textarea")
    expect(page.locator("#livc-chat [data-testid='bot']")).to_have_count(1)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Naar het laatste antwoord"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.getAttribute('data-testid')") == "bot"
    page.keyboard.press("Tab")  # the next stop: the answer's first marker
    assert page.evaluate("document.activeElement.className") == "livc-marker"


def test_thumbs_down_says_which_answer_and_takes_a_note_and_the_question_on_request(page, app_settings):
    reply = ask_in_chat(page, GUIDE_QUESTION)
    reply.hover()
    page.locator("#livc-chat button[title='Niet nuttig']").last.click()
    box = page.locator("#livc-reason")
    expect(box.locator(".livc-reason-about")).to_have_text(f"Over het antwoord op: “{GUIDE_QUESTION}”")
    box.get_by_label("iets anders").check()
    page.fill("#livc-reason-note textarea", "De termijn staat in ons reglement, niet hier.")
    page.locator("#livc-reason-share input").check()
    screenshot(page, "feedback-note.png")
    page.click("#livc-reason-send")
    expect(page.locator("#livc-feedback-note")).to_contain_text("Bedankt")
    expect(page.locator(".livc-thanks")).to_be_visible()  # beside the thumb too
    thumb = page.locator("#livc-chat button[title='Niet nuttig'], #livc-chat button[title^='Gemarkeerd']").last
    assert abs(page.locator(".livc-thanks").bounding_box()["y"] - thumb.bounding_box()["y"]) < 40
    store = FeedbackStore(Path(app_settings.feedback_db))
    for _ in range(50):
        records = [r for r in store.list() if r.note]
        if records:
            break
        page.wait_for_timeout(100)
    assert (records[0].reason, records[0].note) == ("iets anders", "De termijn staat in ons reglement, niet hier.")
    assert records[0].question == GUIDE_QUESTION


def test_embed_has_the_chats_essentials(context, server, app_settings):
    """Copy with sources, the whole passage behind "meer", thumbs with reasons (stored, the
    question only when the user sends it along), and the question kept in view."""
    tab = ask_in_embed(context, server, GUIDE_QUESTION)
    asked, log = tab.locator(".msg.user").bounding_box(), tab.locator(".log").bounding_box()
    assert log["y"] <= asked["y"] and asked["y"] + asked["height"] <= log["y"] + log["height"]
    more = tab.locator(".card details.more").first
    more.locator("summary").click()
    assert "bewaartermijn" in more.locator(".passage").inner_text()
    tab.locator("button.copy").click()
    tab.wait_for_timeout(300)
    text = tab.evaluate("navigator.clipboard.readText()")
    assert "Bronnen:" in text and f"{server.url}/documenten/draaiboek-livc-r.md#75-bewaring-en-beveiliging" in text
    tab.locator("button.down").click()
    tab.locator("label.reason", has_text="antwoord onvolledig").locator("input").check()
    tab.locator("label.share input").check()
    tab.screenshot(path=str(ARTIFACTS / "embed-feedback.png"))
    tab.locator("button.send-reason").click()
    expect(tab.locator(".thanks")).to_have_text("Bedankt voor uw feedback.")
    record = next(r for r in FeedbackStore(Path(app_settings.feedback_db)).list() if r.reason == "antwoord onvolledig")
    assert (record.rating, record.question) == (-1, GUIDE_QUESTION)
    assert record.citations[0]["doc"] == "draaiboek-livc-r.md"
    tab.locator("button.up").click()  # a thumbs up sends no question
    expect(tab.locator("button.up")).to_have_attribute("aria-pressed", "true")
    for _ in range(50):
        ups = [r for r in FeedbackStore(Path(app_settings.feedback_db)).list() if r.rating == 1]
        if ups:
            break
        tab.wait_for_timeout(100)
    assert ups and ups[0].question is None


def test_widget_feedback_is_checked(server):
    good = {"rating": -1, "reason": "bron klopt niet", "text": "x", "citations": []}
    with client(server) as http:
        assert http.post("/api/v1/feedback", json=good).status_code == 201
        for bad in ({**good, "reason": "slecht"}, {**good, "rating": 1}, {**good, "rating": 0}, {"rating": 1}):
            refused = http.post("/api/v1/feedback", json=bad)
            assert refused.status_code == 422 and refused.json()["code"], bad


def test_embed_page_has_no_serious_accessibility_violations(context, server):
    tab = ask_in_embed(context, server, GUIDE_QUESTION)
    assert axe_violations(tab) == []


def test_document_viewer_has_no_serious_accessibility_violations(page):
    ask_in_chat(page, GUIDE_QUESTION)
    page.locator("#bron-0-1 a.livc-open").click()
    page.wait_for_url("**/documenten/**")
    expect(page.locator("mark#citaat")).to_have_count(1)
    assert axe_violations(page) == []
