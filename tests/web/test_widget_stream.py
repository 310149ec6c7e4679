"""The widget streams a generated answer (Chromium through Playwright, the app on uvicorn, the
model a scripted OpenAI-compatible server on 127.0.0.1): the checked sentences show while the
model writes, then the finished answer with its sources; Stop aborts the request, which closes
the server's stream to the model, and leaves no generated text behind."""

from __future__ import annotations

import pytest
from helpers import AppServer, ask_widget, build_small_index

from assistant.core.assistant import Assistant
from assistant.core.messages import GENERATED_LABEL
from assistant.web.app import create_app

pytest.importorskip("playwright")
from playwright.sync_api import expect

SENTENCE = "De burgemeester zit de cel voor [1]. "
QUESTION = "Wie zit de cel voor?"
STOPPED = "Gestopt."  # the start of the widget's line after Stop (its TEXT.stopped)


@pytest.fixture(scope="module")
def server(tmp_path_factory, small_cache, embedder, scripted_model):
    folder = tmp_path_factory.mktemp("widget-stream")
    settings = build_small_index(folder, small_cache, embedder).replace(
        llm_url=scripted_model.url, llm_model="scripted", rate_limit=0, feedback_db=str(folder / "fb.db")
    )
    with AppServer(create_app(settings, Assistant.open(settings, embedder=embedder))) as running:
        yield running


@pytest.fixture
def page(browser, server):
    context = browser.new_context(locale="nl-BE")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url + "/embed")
    yield page
    context.close()


def ask(page, question: str) -> None:
    page.locator("textarea.question").fill(question)
    page.locator("textarea.question").press("Enter")


def test_sentences_stream_then_the_answer_with_its_sources(page, model):
    model.reply(SENTENCE * 4, pieces=6, delay=0.2)  # about a second a sentence
    ask(page, QUESTION)
    writing = page.locator(".msg.bot.writing")
    expect(writing.locator(".written")).to_contain_text("De burgemeester zit de cel voor.", timeout=20_000)
    expect(writing.locator(".generated-label")).to_have_text(GENERATED_LABEL)
    reply = page.locator(".msg.bot:not(.pending)")
    expect(reply).to_have_count(1, timeout=30_000)  # the finished answer replaced what was written
    expect(writing).to_have_count(0)
    expect(reply.locator(".generated-label")).to_have_text(GENERATED_LABEL)
    expect(reply.locator(".text")).to_contain_text("De burgemeester zit de cel voor.")
    expect(reply.locator(".card").first).to_be_visible()
    expect(page.get_by_role("button", name="Stop het antwoord")).to_have_count(0)


def test_stop_aborts_and_closes_the_stream_to_the_model(page, model):
    model.closed.clear()
    model.reply(SENTENCE * 40, pieces=6, delay=0.25)  # far longer than the test waits
    ask(page, QUESTION)
    expect(page.locator(".msg.bot.writing .written")).to_contain_text("De burgemeester", timeout=20_000)
    page.get_by_role("button", name="Stop het antwoord").click()
    assert model.closed.wait(20), "the stream to the model stayed open after Stop"
    reply = page.locator(".msg.bot:not(.pending)")
    expect(reply).to_have_count(1)
    expect(reply).to_have_class("msg bot stopped")
    expect(reply).to_contain_text(STOPPED)
    expect(page.locator(".written")).to_have_count(0)
    expect(page.locator(".generated-label")).to_have_count(0)
    # The widget asks again as usual afterwards.
    model.reply(SENTENCE, pieces=0)
    again = ask_widget(page, QUESTION)
    expect(again.locator(".card").first).to_be_visible()
