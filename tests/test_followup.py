"""Follow-up questions: when a question is combined with the previous one, and what that
does to retrieval on the real corpus (eval/followup-dev.jsonl)."""

from __future__ import annotations

import pytest

from assistant.followup import Vocabulary, compare, contextualize, corpus_vocabulary, needs_context, subject_words
from assistant.lexical import tokenize
from conftest import ROOT

VOCABULARY = Vocabulary(
    frozenset(tokenize("burgemeester voorzitter wet juli kracht werking gegevensbank lijst verslag bewaard "
                       "opvolgingstraject afsluiting toezicht Gent samen vergadert politie publicatie")),
    frozenset({"livc-r"}),
)


@pytest.mark.parametrize("question", [
    "En wie zit die voor?",  # opens with "En"
    "Mag hij zich laten vertegenwoordigen?",  # "hij" points back
    "Wat staat daarover in de wet?",  # "daarover"
    "Wanneer stopt dat?",  # a demonstrative in a short question
    "Wanneer werd het gepubliceerd?",  # one content word
    "En in Gent?",
])
def test_questions_that_lean_on_the_previous_one(question):
    assert needs_context(question, VOCABULARY)


@pytest.mark.parametrize("question", [
    "Wat is artikel 458ter van het Strafwetboek?",  # names its subject
    "Wie moet er minstens aan tafel zitten bij de cel?",
    "Wat is het doel van een LIVC-R?",  # "het" is an article here
    "Welke partners nemen deel aan het casusoverleg?",  # "die"-free, enough content
    "Hoe vraag ik een parkeervergunning aan?",  # a new subject the guide does not know
    "En wat is het weerbericht voor morgen?",  # even after "En": a new subject stands alone
])
def test_questions_that_stand_alone(question):
    assert not needs_context(question, VOCABULARY)


def test_a_standalone_question_is_returned_unchanged():
    history = ["Wat is de OCAD-lijst?"]
    assert contextualize("Wat is artikel 458ter van het Strafwetboek?", history, VOCABULARY) == \
        "Wat is artikel 458ter van het Strafwetboek?"
    assert contextualize("En wie zit die voor?", [], VOCABULARY) == "En wie zit die voor?"
    assert contextualize("En wie zit die voor?", None) == "En wie zit die voor?"


def test_a_follow_up_gets_the_previous_subject_spelled_out():
    assert contextualize("En wie is daar verantwoordelijk voor?", ["Wat is de OCAD-lijst?"], VOCABULARY) == \
        "wie is daar verantwoordelijk voor? (OCAD-lijst)"
    assert contextualize("Sinds wanneer is die van kracht?", ["Wat regelt de wet van 30 juli 2018?"], VOCABULARY) == \
        "Sinds wanneer is die van kracht? (wet 30 juli 2018)"


def test_the_subject_carries_over_a_chain_of_follow_ups():
    history = ["Wat is een opvolgingstraject?", "Wie stelt dat op?"]
    assert "opvolgingstraject" in contextualize("En wanneer stopt het?", history, VOCABULARY)


def test_words_every_passage_contains_are_no_subject():
    # "LIVC-R" is the whole guide's topic: adding it would only blur the search.
    assert subject_words("Wat is een LIVC-R?", frozenset({"livc-r"})) == []
    assert contextualize("En wie zit die voor?", ["Wat is een LIVC-R?"], VOCABULARY) == "En wie zit die voor?"


# ---------------------------------------------------------------------------
# On the real corpus


def test_follow_up_reaches_the_chair(corpus_index):
    """The issue's example: "En wie zit die voor?" after "Wat is een LIVC-R?"."""
    answer = corpus_index.assistant.ask("En wie zit die voor?", ["Wat is een LIVC-R?"])
    assert not answer.abstained
    assert "burgemeester" in answer.text.lower()
    assert answer.question == "En wie zit die voor?"


def test_follow_up_is_retrieved_with_context_and_says_so(corpus_index):
    answer = corpus_index.assistant.ask("Wie is daar verantwoordelijk voor?", ["Wat is de OCAD-lijst?"])
    assert answer.question == "Wie is daar verantwoordelijk voor?"  # the user's own words
    assert answer.notice and "Wat is de OCAD-lijst?" in answer.notice
    assert "OCAD" in answer.text


def test_history_does_not_drag_an_off_topic_question_into_the_guide(corpus_index):
    answer = corpus_index.assistant.ask("Hoe vraag ik een parkeervergunning aan?", ["Wat is de OCAD-lijst?"])
    assert answer.abstained


def test_vocabulary_comes_from_the_index(corpus_index):
    vocabulary = corpus_vocabulary(corpus_index.assistant.store)
    assert set(tokenize("burgemeester OCAD casusoverleg")) <= vocabulary.words
    assert "livc-r" in vocabulary.ubiquitous


def test_context_helps_on_the_follow_up_gold_set(corpus_index):
    result = compare(corpus_index.assistant, ROOT / "eval" / "followup-dev.jsonl")
    with_context = result["with_context"]["retrieval"]["hit@1"]
    without = result["without_context"]["retrieval"]["hit@1"]
    print(f"follow-up hit@1: with context {with_context:.2f}, without {without:.2f}")
    assert with_context >= without + 0.15
    assert with_context >= 0.75


def test_the_followup_measurement_without_an_index_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    from assistant import followup

    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("LIVC_CONFIG", str(tmp_path / "empty.toml"))
    monkeypatch.setenv("LIVC_INDEX_DIR", str(tmp_path / "index"))
    assert followup.main([]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"followup: error: no index in {tmp_path / 'index'}: run 'livc index' first"
