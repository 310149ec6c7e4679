"""Generated answers (assistant.core.generation): what models write made regular, the
sentence check, and the whole path through Assistant.ask() against a scripted
OpenAI-compatible server on 127.0.0.1 (real HTTP and server-sent events) for what a real
model cannot be made to do on demand. The real llama.cpp server: tests/ops/test_model_serve.py.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from helpers import build_small_index
from llm_server import ScriptedModel

from assistant.core.assistant import Assistant
from assistant.core.chunking import Passage
from assistant.core.generation import Listener
from assistant.core.generation.citations import SentenceStream, clean, normalise_markers, parse, units
from assistant.core.generation.client import endpoint
from assistant.core.generation.verify import dates, evidence, missing_facts, negated, numbers
from assistant.core.messages import GENERATED_LANGUAGE_NOTES
from assistant.core.settings import Settings

QUESTION = "Wie zit de cel voor?"
CHAIR = "De burgemeester richt de cel op en zit ze voor."


# ---------------------------------------------------------------------------
# What models write


@pytest.mark.parametrize(
    "written, expected",
    [
        ("De burgemeester zit voor [ID:1].", "De burgemeester zit voor [1]."),
        ("De burgemeester zit voor【1】.", "De burgemeester zit voor[1]."),
        ("De burgemeester zit voor【2†bron】.", "De burgemeester zit voor[2]."),
        ("De burgemeester zit voor [1, 2].", "De burgemeester zit voor [1][2]."),
        ("De burgemeester zit voor [1-3].", "De burgemeester zit voor [1][2][3]."),
        ("De burgemeester zit voor (1).", "De burgemeester zit voor [1]."),
        ("De burgemeester zit voor [^2].", "De burgemeester zit voor [2]."),
        ("De burgemeester zit voor [bron 2].", "De burgemeester zit voor [2]."),
        ("Volgens lid (2) van artikel 5 zit hij voor [1].", "Volgens lid (2) van artikel 5 zit hij voor [1]."),
    ],
)
def test_markers_are_normalised(written, expected):
    assert normalise_markers(written) == expected


def test_thinking_is_stripped_also_while_open():
    assert clean("<think>de vraag gaat over [9]</think>De burgemeester [1].") == "De burgemeester [1]."
    assert clean("De burgemeester [1]. <think>nog bezig") == "De burgemeester [1]. "


def test_sentences_keep_markers_written_after_the_full_stop():
    pieces = units(clean("De burgemeester zit voor. [1] De korpschef neemt deel [2]."))
    assert [parse(p) for p in pieces] == [
        parse("De burgemeester zit voor [1]."),
        parse("De korpschef neemt deel [2]."),
    ]
    assert parse(pieces[0]).text == "De burgemeester zit voor." and parse(pieces[0]).cited == (1,)


def test_a_sentence_is_given_once_the_next_has_begun():
    stream, got = SentenceStream(), []
    for delta in ["De burgemeester zit ", "voor. ", "[", "1] ", "De korp", "schef neemt deel [2]."]:
        got += stream.feed(delta)
        if delta == "[":
            assert got == []  # "[" may start the first sentence's marker
    assert [s.cited for s in got] == [(1,)]
    assert [s.cited for s in stream.finish()] == [(2,)]


# ---------------------------------------------------------------------------
# Facts in Dutch formats


def test_dutch_formats_are_normalised():
    assert dates("op 12 maart 2024") == dates("op 12/03/2024") == {"2024-03-12"}
    assert dates("sinds maart 2024") == {"2024-03"}
    assert "2024-03-12" in dates("12.03.2024")
    assert numbers("€ 1.500") == numbers("1500 euro") == {"1500"}
    assert numbers("2,5 procent") == {"2.5"}
    assert numbers("artikel 458ter Sw.") == {"458ter"}
    assert numbers("drie leden") == {"3"}
    assert negated("De cel is geen rechtbank.") and not negated("De cel is een overleg.")


def _passage(text: str, **rest) -> Passage:
    from assistant.core.chunking import split_sentences

    fields = {"id": str(hash(text)), "doc": "gids.md", "title": "Gids", "section": "S", "section_path": ["1. S"]}
    fields.update(anchor="s", kind="guide", text=text, sentences=split_sentences(text), **rest)
    return Passage(**fields)


def test_a_fact_not_in_the_cited_passage_is_missing():
    p = [evidence(_passage("De cel bestaat sinds de wet van 30 juli 2018. Mail naar info@vvsg.be."))]
    assert missing_facts("De cel bestaat sinds 30 juli 2018.", p) == []
    assert missing_facts("De cel bestaat sinds 30/07/2018.", p) == []
    assert missing_facts("De cel bestaat sinds 30 juli 2019.", p) == ["date"]
    assert missing_facts("De cel telt 12 leden.", p) == ["number"]
    assert missing_facts("Mail naar info@vvsg.be.", p) == []
    assert missing_facts("Mail naar hulp@vvsg.be.", p) == ["address"]
    assert missing_facts("De cel werkt samen met het OCAD.", p) == ["name"]


# ---------------------------------------------------------------------------
# The settings: the key stays secret


def test_the_key_is_never_printed_nor_read_from_the_config_file(tmp_path):
    settings = Settings.load(environ={"LIVC_LLM_API_KEY": "sk-geheim-123"}, config_file=_empty(tmp_path))
    assert settings.as_dict()["llm_api_key"] == "(set)"
    assert "sk-geheim-123" not in repr(settings) and "sk-geheim-123" not in str(settings.as_dict())
    assert "sk-geheim-123" not in repr(endpoint(settings.replace(llm_url="http://127.0.0.1:9/v1")))
    toml = tmp_path / "livc.toml"
    toml.write_text('llm_api_key = "sk-geheim-123"\n', encoding="utf-8")
    with pytest.raises(ValueError) as error:
        Settings.load(environ={}, config_file=toml)
    assert "sk-geheim-123" not in str(error.value)
    key_file = tmp_path / "key"
    key_file.write_text("sk-uit-bestand\n", encoding="utf-8")
    settings = Settings.load(environ={"LIVC_LLM_API_KEY_FILE": str(key_file)}, config_file=_empty(tmp_path))
    assert settings.api_key() == "sk-uit-bestand"
    assert endpoint(settings.replace(llm_url="http://x/v1")).headers["Authorization"] == "Bearer sk-uit-bestand"


def test_azure_url_scheme(tmp_path):
    settings = Settings.load(
        environ={"LIVC_LLM_API_KEY": "k"},
        config_file=_empty(tmp_path),
        overrides={"llm_url": "https://stad.openai.azure.com", "llm_api_flavor": "azure", "llm_model": "gpt4o"},
    )
    e = endpoint(settings)
    assert e.url == "https://stad.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
    assert e.headers["api-key"] == "k" and "Authorization" not in e.headers


def _empty(folder):
    path = folder / "empty.toml"
    path.write_text("", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# The whole path, against the scripted server


@pytest.fixture(scope="module")
def small_settings(tmp_path_factory, small_cache, embedder):
    return build_small_index(tmp_path_factory.mktemp("generation"), small_cache, embedder)


@pytest.fixture(scope="module")
def assistant(small_settings, scripted_model, embedder):
    settings = small_settings.replace(llm_url=scripted_model.url, llm_model="scripted", llm_api_key="sk-geheim-123")
    return Assistant.open(settings, embedder=embedder)


@pytest.fixture(scope="module")
def extractive(small_settings, embedder):
    return Assistant.open(small_settings, embedder=embedder)


def _sent(model: ScriptedModel) -> str:
    return model.requests[-1]["body"]["messages"][-1]["content"]


def _chair_number(model: ScriptedModel) -> int:
    """The number the prompt gave the passage on the chair."""
    prompt = _sent(model)
    for block in prompt.split("\n\n"):
        if block.startswith("[") and CHAIR in prompt.split(block, 1)[1][:200]:
            return int(block[1 : block.index("]")])
    raise AssertionError("the chair's passage was not sent")


def test_a_supported_reply_is_shown_sentence_by_sentence(assistant, extractive, model, caplog):
    model.reply("De burgemeester zit de cel voor [1]. De burgemeester richt de cel op [1].")
    shown: list[str] = []
    with caplog.at_level(logging.INFO):
        answer = assistant.ask(QUESTION, listener=Listener(on_sentence=shown.append))
    assert answer.mode == "generative", answer.generation
    assert answer.generation["generated"] and answer.generation["passed"] == 2
    assert shown == ["De burgemeester zit de cel voor. [1]", "De burgemeester richt de cel op. [1]"]
    assert answer.text == " ".join(shown)
    assert [c.n for c in answer.citations] == [1] and CHAIR in answer.citations[0].passage.text
    assert answer.confidence == extractive.ask(QUESTION).confidence
    body = model.requests[-1]["body"]
    assert body["stream"] is True and body["max_tokens"] == 400 and body["model"] == "scripted"
    assert model.requests[-1]["headers"]["Authorization"] == "Bearer sk-geheim-123"
    assert "sk-geheim-123" not in caplog.text and QUESTION not in caplog.text


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("De burgemeester zit de cel voor sinds 2019 [1]. De burgemeester richt de cel op [1].", "first_sentence"),
        ("De burgemeester zit de cel voor [7]. De burgemeester richt de cel op [1].", "first_sentence"),
        ("De burgemeester zit de cel niet voor [1]. De burgemeester richt de cel op [1].", "first_sentence"),
        ("The mayor chairs the cell [1]. The mayor also sets it up [1].", "not_dutch"),
        ("Dat staat niet in de passages.", "not_in_passages"),
        ("", "empty"),
    ],
    ids=["invented-number", "citation-out-of-range", "negated", "english", "not-in-passages", "empty"],
)
def test_an_unsupported_reply_falls_back_to_the_extractive_answer(assistant, extractive, model, caplog, reply, reason):
    model.reply(reply)
    shown: list[str] = []
    with caplog.at_level(logging.INFO):
        answer = assistant.ask(QUESTION, listener=Listener(on_sentence=shown.append))
    expected = extractive.ask(QUESTION)
    assert answer.generation["reason"] == reason
    assert (answer.mode, answer.text, answer.confidence) == (expected.mode, expected.text, expected.confidence)
    assert shown == []  # nothing unverified reached the user
    assert f"fell back to the extractive one: {reason}" in caplog.text
    assert QUESTION not in caplog.text and "burgemeester" not in caplog.text.lower()


def test_a_failing_later_sentence_is_dropped_and_too_many_fall_back(assistant, model):
    ok = "De burgemeester zit de cel voor [1]. "
    model.reply(ok * 4 + "De korpschef heeft 12 agenten [1].")
    answer = assistant.ask(QUESTION)
    assert answer.mode == "generative" and answer.generation["passed"] == 4 and answer.generation["sentences"] == 5
    assert "12" not in answer.text
    model.reply(ok + "De cel telt 12 leden [1]. De cel vergadert 7 keer [1].")
    assert assistant.ask(QUESTION).generation["reason"] == "unsupported"


def test_a_better_supported_passage_takes_over_the_citation(assistant, model):
    model.reply("De korpschef neemt deel met een machtiging van het niveau geheim [1]. " * 2)
    answer = assistant.ask(QUESTION)
    assert answer.mode == "generative", answer.generation
    assert len(answer.citations) == 1 and "korpschef" in answer.citations[0].passage.text


def test_thinking_and_odd_markers_are_handled(assistant, model):
    model.reply(
        "<think>De vraag gaat over 2019 [5].</think>"
        "De burgemeester zit de cel voor【1】. De burgemeester richt de cel op (1)."
    )
    answer = assistant.ask(QUESTION)
    assert answer.mode == "generative", answer.generation
    assert "2019" not in answer.text and "think" not in answer.text


@pytest.mark.parametrize(
    "options, reason",
    [
        ({"status": 500}, "http_500"),
        ({"status": 429, "headers": {"Retry-After": "5"}}, "rate_limited"),
        ({"cut_after": 3}, "cut_off"),
        ({"done": False}, "cut_off"),
    ],
    ids=["500", "429", "cut-off", "no-end"],
)
def test_a_failing_server_falls_back(assistant, extractive, model, options, reason):
    model.reply("De burgemeester zit de cel voor [1]. De burgemeester richt de cel op [1].", **options)
    answer = assistant.ask(QUESTION)
    assert answer.generation["reason"] == reason and answer.text == extractive.ask(QUESTION).text


def test_a_slow_first_token_falls_back_within_the_deadline(small_settings, model, embedder):
    settings = small_settings.replace(llm_url=model.url, llm_first_token_timeout=0.5)
    slow = Assistant.open(settings, embedder=embedder)
    model.reply("De burgemeester zit de cel voor [1].", first_delay=3)
    started = time.perf_counter()
    answer = slow.ask(QUESTION)
    assert answer.generation["reason"] == "timeout" and time.perf_counter() - started < 2.5


def test_an_unreachable_server_falls_back(small_settings, embedder):
    from assistant.ops.harness import free_port

    settings = small_settings.replace(llm_url=f"http://127.0.0.1:{free_port()}/v1")
    answer = Assistant.open(settings, embedder=embedder).ask(QUESTION)
    assert answer.generation["reason"] == "connect" and answer.mode == "extractive"


def test_stop_closes_the_stream_to_the_model(assistant, model):
    model.closed.clear()
    model.reply("De burgemeester zit de cel voor [1]. " * 40, pieces=4, delay=0.05)
    stop = threading.Event()
    shown: list[str] = []

    def first(sentence: str) -> None:
        shown.append(sentence)
        stop.set()

    answer = assistant.ask(QUESTION, listener=Listener(on_sentence=first, stop=stop))
    assert answer.generation["reason"] == "stopped" and len(shown) == 1
    assert model.closed.wait(5)  # the server noticed the closed connection


def test_only_the_masked_question_and_the_passages_leave(assistant, model):
    model.reply("De burgemeester zit de cel voor [1].")
    answer = assistant.ask("Wie zit de cel voor? Bel 0471 23 45 67.", ["Wie nodigt jan.peeters@gent.be uit?"])
    assert answer.generation is not None, answer.text
    sent = str(model.requests[-1]["body"])
    assert "peeters" not in sent and "0471" not in sent
    assert "[telefoonnummer]" in _sent(model), _sent(model)[-600:]
    assert CHAIR in _sent(model)


def test_abstentions_and_faq_answers_are_not_sent(assistant, model):
    before = len(model.requests)
    assert assistant.ask("Hoeveel kost een parkeervergunning voor bewoners?").abstained
    assert assistant.ask("Hoe vaak vergadert de cel?").mode == "faq"
    assert len(model.requests) == before


def test_english_question_gets_the_generated_note(assistant, model):
    model.reply("De burgemeester zit de cel voor [1]. De burgemeester richt de cel op [1].")
    answer = assistant.ask("Who chairs the cell?")
    if answer.mode == "generative":
        assert answer.language_note == GENERATED_LANGUAGE_NOTES["en"]


def test_without_llm_url_nothing_is_sent(extractive, model):
    before = len(model.requests)
    answer = extractive.ask(QUESTION)
    assert answer.generation is None and answer.mode == "extractive" and len(model.requests) == before


def test_livc_ask_labels_a_generated_answer(assistant, extractive, model):
    from assistant.core.messages import GENERATED_LABEL
    from assistant.ops.commands import format_answer

    model.reply("De burgemeester zit de cel voor [1]. De burgemeester richt de cel op [1].")
    answer = assistant.ask(QUESTION)
    heads = format_answer(answer).split(answer.text, 1)[0].split("\n\n")  # the lines above the answer
    assert GENERATED_LABEL in heads  # after "Mogelijk relevant" when the answer is of low confidence
    assert GENERATED_LABEL not in format_answer(extractive.ask(QUESTION))


def test_the_chat_labels_a_generated_answer(assistant, extractive, model):
    from assistant.core.messages import GENERATED_LABEL
    from assistant.web.render import render_reply

    model.reply("De burgemeester zit de cel voor [1]. De burgemeester richt de cel op [1].")
    generated = assistant.ask(QUESTION)
    assert GENERATED_LABEL in render_reply(generated, 0, assistant.settings)
    assert GENERATED_LABEL not in render_reply(extractive.ask(QUESTION), 0, extractive.settings)
