"""The chat shows a generated answer sentence by sentence (Chromium through Playwright, the
app on uvicorn, the model a scripted OpenAI-compatible server on 127.0.0.1): the sentences
that passed the check appear while the model writes, under the generated answer's label, and
the finished answer replaces them."""

from __future__ import annotations

import pytest
from helpers import Server, browser_tab, build_small_index

from assistant.core.assistant import Assistant
from assistant.core.messages import CHAT_PAGE_TEXT, CHAT_STOPPED, GENERATED_LABEL
from assistant.web.app import create_app
from assistant.web.chat import mount

pytest.importorskip("playwright")
from playwright.sync_api import expect

SENTENCE = "De burgemeester zit de cel voor [1]. "


@pytest.fixture(scope="module")
def server(tmp_path_factory, small_cache, embedder, scripted_model):
    folder = tmp_path_factory.mktemp("chat-stream")
    settings = build_small_index(folder, small_cache, embedder).replace(
        llm_url=scripted_model.url, llm_model="scripted", feedback_db=str(folder / "fb.db")
    )
    with Server(mount(create_app(settings), Assistant.open(settings, embedder=embedder), settings)) as running:
        yield running


def test_sentences_appear_while_the_model_writes(browser, server, model):
    model.reply(SENTENCE * 6, pieces=6, delay=0.25)  # about 1 s a sentence
    with browser_tab(browser, server.url + "/") as page:
        page.fill("#livc-question textarea", "Wie zit de cel voor?")
        page.press("#livc-question textarea", "Enter")
        writing = page.locator("#livc-chat .livc-writing")
        expect(writing).to_have_count(1, timeout=20_000)  # the first checked sentences, before the answer is done
        expect(writing).to_contain_text(GENERATED_LABEL)
        expect(writing).to_contain_text("De burgemeester zit de cel voor.")
        expect(writing).to_have_count(0, timeout=30_000)  # the finished answer replaced it
        reply = page.locator("#livc-chat [data-testid='bot']").last
        expect(reply).to_contain_text(GENERATED_LABEL)
        expect(reply.locator(".livc-answer")).to_contain_text("De burgemeester zit de cel voor.")


def test_stop_closes_the_stream_to_the_model(browser, server, model):
    """Stop while the model writes: the scripted server sees its stream closed, the sentences
    being written make way for the quoted answer with the note that it was stopped, and no
    generated text stays in the chat."""
    model.closed.clear()
    model.reply(SENTENCE * 40, pieces=6, delay=0.25)  # far longer than the test waits
    with browser_tab(browser, server.url + "/") as page:
        stop = page.get_by_role("button", name=CHAT_PAGE_TEXT["stop"])
        expect(stop).to_have_count(0)  # hidden before a question
        page.fill("#livc-question textarea", "Wie zit de cel voor?")
        page.press("#livc-question textarea", "Enter")
        writing = page.locator("#livc-chat .livc-writing")
        expect(writing).to_have_count(1, timeout=20_000)
        expect(stop).to_be_visible()
        stop.click()
        assert model.closed.wait(20), "the stream to the model stayed open after Stop"
        expect(page.locator("#livc-feedback-note")).to_contain_text(CHAT_STOPPED)
        expect(writing).to_have_count(0)
        expect(stop).to_have_count(0)
        reply = page.locator("#livc-chat [data-testid='bot']").last
        expect(reply).not_to_contain_text(GENERATED_LABEL)
        expect(reply.locator(".livc-answer")).to_be_visible()
