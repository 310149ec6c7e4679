"""The personal-data guard: detection per kind, masking in ask(), refusal, and no trace of
typed personal data in any file the app writes (feedback database, JSON-lines log).

Each test here fails when its protection is taken out: detection without checksums flags
the negatives, ask() without the guard leaks the data into hits, notice and question, and
the file test greps every byte written during a run through ask(), the UI's answer and
thumbs handlers, the feedback store and the logger.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest
from helpers import CORPUS, ROOT
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from assistant.core.documents import load_corpus
from assistant.core.errors import PersonalDataError, QuestionError, SettingsError
from assistant.core.privacy import (
    KINDS,
    PLACEHOLDERS,
    PublicNames,
    kinds_of,
    mask_text,
    notice,
    refusal,
    scan,
    valid_iban,
    valid_national_number,
)
from assistant.core.settings import Settings
from assistant.ops.privacy_eval import evaluate
from assistant.web.feedback import FeedbackStore, from_answer
from assistant.web.logs import JsonFormatter, answer_event, configure_logging
from assistant.web.schemas import answer_json

# Invented personal data, typed into questions below; none of it may be kept anywhere.
NAME = "Kevin Janssens"
NATIONAL = "85.07.30-033.28"
PHONE = "0470 12 34 56"
EMAIL = "kevin.janssens@example.be"
IBAN = "BE68 5390 0754 7034"
STREET = "Kerkstraat 12"
BORN = "12/03/2006"
PERSONAL = [
    NAME,
    "Janssens",
    NATIONAL,
    "85073003328",
    PHONE,
    "0470123456",
    EMAIL,
    IBAN,
    "539007547034",
    STREET,
    "Kerkstraat",
    BORN,
    "Fatima",
    "Amrani",
    "Peeters",
]

QUESTIONS = [
    f"Mijn cliënt {NAME} ({NATIONAL}) belde me op {PHONE}. Mag ik dat in de LIVC-R vertellen?",
    f"Mag ik de fiche over {NAME}, geboren op {BORN}, mailen naar {EMAIL}?",
    f"Hij woont in de {STREET}, 9000 Gent, en stort geld van {IBAN} naar het buitenland. Is dat een signaal?",
    "Mag ik mevrouw Peeters vertellen wat de cel over haar zoon besliste?",
]
FOLLOW_UP = (
    "Welke veiligheidsmachtiging moet hij hebben?",
    ["Wat doet de information officer met het dossier van Fatima El Amrani uit de Kerkstraat 12?"],
)


def found(text: str, public: PublicNames | None = None) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in scan(text, public)]


@pytest.fixture(scope="module")
def public() -> PublicNames:
    documents = load_corpus(CORPUS)[0]
    return PublicNames.from_texts(s.heading + "\n" + s.text for d in documents for s in d.sections)


# ---------------------------------------------------------------------------
# Detection per kind


@pytest.mark.parametrize(
    "number", ["85.07.30-033.28", "85073003328", "850730 033 28", "05.03.12-123.60", "01.01.01-001.26"]
)
def test_national_register_numbers_with_a_valid_checksum_are_found(number):
    assert found(f"Het nummer {number} staat in het dossier.") == [("national_number", number)]


@pytest.mark.parametrize("number", ["85.07.30-033.27", "85073003329", "05.03.12-123.61", "85.15.30-033.28"])
def test_national_register_numbers_with_a_wrong_checksum_or_date_are_not(number):
    assert not [k for k, _ in found(f"Het nummer {number} staat in het dossier.") if k == "national_number"]


def test_checksum_rule_before_and_after_2000():
    assert valid_national_number("85073003328")  # 97 - 850730033 mod 97 = 28
    assert valid_national_number("05031212360")  # born 2005: 97 - 2050312123 mod 97 = 60
    assert not valid_national_number("85073003328"[:-1] + "9")


@pytest.mark.parametrize(
    "phone",
    [
        "0470 12 34 56",
        "0470/12.34.56",
        "0499.88.77.66",
        "+32 486 11 22 33",
        "0032 (0)3 234 56 78",
        "09/123.45.67",
        "02 555 12 12",
        "0476 / 55 44 33",
        "0477123456",
        "+31 6 12345678",
    ],
)
def test_phone_numbers_are_found(phone):
    assert found(f"Bel naar {phone} voor meer uitleg.") == [("phone", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "Wat staat er in de omzendbrief COL 04/2018?",
        "Wat zegt het arrest 52/2021 van het Grondwettelijk Hof?",
        "Geldt artikel 458ter van het Strafwetboek ook voor het CAW?",
        "Bel bij acuut gevaar 112 of de politie op 101.",
        "Een partner met ondernemingsnummer 0456.789.123 vraagt deelname.",
        "De subsidie bedroeg 60.000 euro in 2021.",
    ],
)
def test_legal_and_other_numbers_are_not_phone_numbers(text):
    assert found(text) == []


def test_email_addresses_are_found():
    assert found(f"Stuur het naar {EMAIL} of naar livc@stad.gent.") == [("email", EMAIL), ("email", "livc@stad.gent")]


@pytest.mark.parametrize(
    "iban",
    [
        "BE68 5390 0754 7034",
        "BE68539007547034",
        "NL91 ABNA 0417 1643 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "DE89 3704 0044 0532 0130 00",
    ],
)
def test_ibans_with_a_valid_check_are_found(iban):
    assert found(f"Het geld kwam van {iban} binnen.") == [("iban", iban)]


def test_ibans_with_a_wrong_check_are_not():
    assert not valid_iban("BE68539007547035")
    assert found("Het geld kwam van BE68 5390 0754 7035 binnen.") == []


@pytest.mark.parametrize(
    "text, born",
    [
        ("De jongere is geboren op 12/03/2006 en zit in het vijfde.", "12/03/2006"),
        ("Mijn cliënte, geb. 3 april 1999, is bang.", "3 april 1999"),
        ("Het meisje (°2007) wordt opgevolgd.", "2007"),
        ("Geboortedatum: 05-11-2004, mag dat op de fiche?", "05-11-2004"),
        ("Hij werd geboren te Antwerpen op 2 juni 2001.", "2 juni 2001"),
        ("Mevrouw Peeters, née le 4 mars 1970, appelle.", "4 mars 1970"),
        ("De betrokkene, 17/09/2003, weigert begeleiding.", "17/09/2003"),
    ],
)
def test_dates_of_birth_are_found(text, born):
    assert ("birth_date", born) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Wat regelt de wet van 30 juli 2018?",
        "Is het Vlaamse decreet van 21 mei 2021 nog van kracht?",
        "Welke afspraken staan in de omzendbrief van 22/05/2019?",
        "We bespraken de jongere op 12/03/2024; wanneer evalueren we?",  # a recent date: an event, not a birth
        "Hoeveel entiteiten zaten in april 2020 in de gegevensbank?",
    ],
)
def test_legal_dates_and_recent_events_are_not_dates_of_birth(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text, address",
    [
        ("Hij woont in de Kerkstraat 12, 9000 Gent; mag de wijkagent gaan?", "Kerkstraat 12, 9000 Gent"),
        ("Het gezin verhuisde naar de Grote Markt 5.", "Grote Markt 5"),
        ("Signalen uit de Brusselsesteenweg 301 bus 4.", "Brusselsesteenweg 301 bus 4"),
        ("Mag ik Frankrijklei 17 doorgeven?", "Frankrijklei 17"),
        ("Hij logeert rue de la Loi 16, 1000 Brussel.", "rue de la Loi 16, 1000 Brussel"),
    ],
)
def test_street_addresses_are_found(text, address):
    assert found(text) == [("address", address)]


@pytest.mark.parametrize(
    "text",
    [
        "Heeft de LIVC-R van Sint-Niklaas een eigen coördinator?",
        "Moet een kleine gemeente als Herstappe of Heist-op-den-Berg ook een LIVC-R oprichten?",
        "Wat zegt de Grondwettelijk Hof 52/2021 beslissing?",
        "Woont hij in de Kerkstraat?",  # a street without a number is no address
        "We zagen hem 3 keer op de snelweg.",
    ],
)
def test_places_and_streets_without_a_number_are_not_addresses(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("Mijn cliënt Mohamed El Amrani wil niet dat we over hem praten.", "Mohamed El Amrani"),
        ("Mag ik mevrouw Peeters vertellen wat de cel besliste?", "Peeters"),
        ("Dhr. Boukhari vraagt inzage in het verslag.", "Boukhari"),
        ("De leerkracht van Yannick Vermeulen maakt zich zorgen.", "Yannick Vermeulen"),
        ("Wat doen we als Fatima niet komt opdagen?", "Fatima"),
        ("Onze leerling Amadou Diallo wil naar Syrië.", "Amadou Diallo"),
        ("Ik werk met een jongere genaamd Ilias.", "Ilias"),
        ("de moeder van jan peeters belde, wat mag ik zeggen?", "jan peeters"),
        ("Zijn naam is Pieter-Jan De Smet en hij is 16.", "Pieter-Jan De Smet"),
    ],
)
def test_person_names_are_found(text, name, public):
    assert found(text, public) == [("name", name)]


@pytest.mark.parametrize(
    "text",
    [
        "Welke rol speelden Bart Somers en Zuhal Demir bij het Vlaamse decreet?",
        "Wat stelden Bart De Wever en Hans Bonte in 2013 voor?",
        "Is minister Somers nog bevoegd voor de subsidies?",
        "Wat doet de Vlaamse Toezichtcommissie als het Grondwettelijk Hof een regel vernietigt?",
        "Zit de Local Task Force ook in de Europese Unie?",
        "Elke gemeente moet een LIVC-R hebben, ook in Oost-Vlaanderen?",
    ],
)
def test_names_the_guide_itself_mentions_and_institutions_are_not_case_data(text, public):
    assert found(text, public) == []


def test_a_name_the_guide_mentions_is_still_masked_with_another_surname(public):
    assert found("Bart Peeters uit onze wijk gedraagt zich vreemd.", public) == [("name", "Bart Peeters")]


# ---------------------------------------------------------------------------
# Masking and the notice


def test_mask_puts_a_dutch_placeholder_in_place_of_each_finding():
    text = f"{NAME} ({NATIONAL}), tel. {PHONE}, {EMAIL}, {IBAN}, geboren op {BORN}, {STREET}."
    masked = mask_text(text)
    assert masked == (
        "[naam] ([rijksregisternummer]), tel. [telefoonnummer], [e-mail], [IBAN], geboren op [geboortedatum], [adres]."
    )
    assert set(PLACEHOLDERS) == set(KINDS)
    assert mask_text(masked) == masked  # placeholders are not personal data themselves


@pytest.mark.parametrize(
    "text, masked",
    [
        ("Mag Jan Peeters van de Kerkstraat 12 komen?", "Mag [naam] [adres] komen?"),
        ("Kent iemand Sofie Janssens van de Stationsstraat 4?", "Kent iemand [naam] [adres]?"),
    ],
)
def test_a_name_run_on_into_an_address_keeps_both_masked(text, masked):
    # The name detector reads "van de Kerkstraat" as part of the name; the address claims
    # the street, and the name before it must not be dropped with it.
    assert mask_text(text) == masked


def test_notice_and_refusal_name_the_kinds_never_the_data():
    text = QUESTIONS[0]
    kinds = kinds_of(scan(text))
    assert kinds == ["national_number", "phone", "name"]
    for message in (notice(kinds), refusal(kinds)):
        assert "rijksregisternummer" in message and "telefoonnummer" in message and "naam" in message
        assert not any(p in message for p in PERSONAL)


def test_the_guard_measures_up_on_the_case_sentences_and_never_fires_on_the_gold_questions():
    result = evaluate(
        ROOT / "eval" / "privacy-cases.jsonl",
        [ROOT / "eval" / "gold-dev.jsonl", ROOT / "eval" / "gold-dev2.jsonl", ROOT / "eval" / "followup-dev.jsonl"],
        CORPUS,
    )
    cases, gold = result["cases"], result["gold"]
    assert sum(1 for _ in open(ROOT / "eval" / "privacy-cases.jsonl", encoding="utf-8")) >= 40
    assert cases["overall"]["precision"] >= 0.95 and cases["overall"]["recall"] >= 0.95, result["cases"]["errors"]
    for kind in KINDS:
        assert cases[kind]["tp"] >= 4 and cases[kind]["recall"] >= 0.85, (kind, cases[kind])
    assert gold["questions"] >= 160 and gold["flagged"] == 0, gold["examples"]


def test_privacy_guard_setting_is_validated(tmp_path):
    config = tmp_path / "livc.toml"
    config.write_text('privacy_guard = "refuse"\n', encoding="utf-8")
    assert Settings().privacy_guard == "warn"
    assert Settings.load(environ={}, config_file=config).privacy_guard == "refuse"
    with pytest.raises(SettingsError, match="privacy_guard"):
        Settings.load(overrides={"privacy_guard": "ignore"}, environ={}, config_file=config)


# ---------------------------------------------------------------------------
# ask(): masked before retrieval, refused on request


def assert_no_trace(blob: str) -> None:
    leaked = [p for p in PERSONAL if p in blob]
    assert not leaked, f"personal data kept: {leaked}"


@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_masks_personal_data_before_retrieval(corpus_index, question):
    assistant = corpus_index.assistant
    answer = assistant.ask(question)
    guarded = assistant.guard(question)
    assert answer.masked and answer.masked == guarded.kinds
    assert answer.question == guarded.text and "[" in answer.question
    # Retrieval saw the masked question: the same ranking as searching the masked form.
    assert [h.passage.id for h in answer.hits] == [
        h.passage.id for h in assistant.search_engine.retrieve(guarded.searched).hits
    ]
    assert answer.notice.startswith("Uw vraag leek persoonsgegevens te bevatten")
    assert_no_trace(json.dumps(answer_json(answer, assistant.settings), ensure_ascii=False))
    assert_no_trace(str(answer))


def test_follow_up_history_is_masked_too(corpus_index):
    answer = corpus_index.assistant.ask(*FOLLOW_UP)
    assert answer.masked == []  # the question itself holds no personal data ...
    assert answer.notice.startswith("Gelezen als vervolg op uw vorige vraag")  # ... the history it quotes did
    assert "[naam]" in answer.notice and "[adres]" in answer.notice
    assert "geheim" in answer.text  # the follow-up was still understood
    assert_no_trace(json.dumps(answer_json(answer, corpus_index.assistant.settings), ensure_ascii=False))


def test_a_question_without_personal_data_is_left_alone(corpus_index):
    answer = corpus_index.assistant.ask("Wie zit de LIVC-R voor?")
    assert answer.question == "Wie zit de LIVC-R voor?" and answer.masked == [] and answer.notice is None


def test_refuse_mode_raises_with_a_dutch_message_and_no_data(corpus_index):
    refusing = dataclasses.replace(
        corpus_index.assistant, settings=corpus_index.settings.replace(privacy_guard="refuse")
    )
    for question in QUESTIONS:
        with pytest.raises(PersonalDataError) as caught:
            refusing.ask(question)
        assert isinstance(caught.value, QuestionError) and caught.value.kinds
        assert str(caught.value).startswith("Uw vraag lijkt persoonsgegevens te bevatten")
        assert_no_trace(str(caught.value))
    with pytest.raises(PersonalDataError):
        refusing.ask(*FOLLOW_UP)
    assert not refusing.ask("Wie zit de LIVC-R voor?").abstained


# ---------------------------------------------------------------------------
# Nothing written anywhere holds the data


def _answer_fn(demo, name: str):
    return next(fn.fn for fn in demo.fns.values() if fn.name == name)


@pytest.mark.parametrize("log_questions", [False, True])
def test_no_file_written_holds_the_personal_data(corpus_index, tmp_path, log_questions):
    import gradio as gr

    from assistant.web.chat import Conversation, build_ui

    settings = corpus_index.settings.replace(
        feedback_db=str(tmp_path / "data" / "feedback.sqlite"),
        log_file=str(tmp_path / "logs" / "livc.jsonl"),
        log_questions=log_questions,
    )
    assistant = dataclasses.replace(corpus_index.assistant, settings=settings)
    store = FeedbackStore(Path(settings.feedback_db))
    handler = configure_logging(settings)
    try:
        log = logging.getLogger("livc.test")
        for question in QUESTIONS:  # the library, as the API and the CLI call it
            answer = assistant.ask(question)
            log.info(answer_event(answer, settings, source="test"))
            store.add(from_answer(answer, -1, settings.log_questions, reason="antwoord klopt niet"))
        demo = build_ui(assistant, settings, store)  # the browser chat's own handlers
        answer, like = _answer_fn(demo, "answer"), _answer_fn(demo, "on_like")
        state, messages = Conversation(), []
        for question in [*QUESTIONS, FOLLOW_UP[1][0], FOLLOW_UP[0]]:
            messages = [*messages, {"role": "user", "content": question}]
            messages, state, *_ = answer(question, messages, state)
            like(state, gr.LikeData(None, {"index": len(messages) - 1, "value": "", "liked": True}))
        try:
            raise RuntimeError(f"a failure that quotes {PHONE} and {EMAIL}")
        except RuntimeError:
            log.exception("answering failed for %s", NAME)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    log_text = (tmp_path / "logs" / "livc.jsonl").read_text(encoding="utf-8")
    events = [json.loads(line) for line in log_text.splitlines()]
    assert len(store.list()) == len(QUESTIONS) + len(QUESTIONS) + 2  # every thumb was stored
    assert sum(e.get("event") == "answered" for e in events) >= 2 * len(QUESTIONS)
    assert any(e.get("exception") for e in events)
    answered = [e for e in events if e.get("event") == "answered"]
    assert all(("question" in e) == log_questions for e in answered)
    assert any("[naam]" in e.get("question", "") for e in answered) == log_questions
    for path in written + list(Path(corpus_index.settings.index_dir).rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            leaked = [p for p in PERSONAL if p.encode("utf-8") in data]
            assert not leaked, f"{path} holds {leaked}"


def test_json_log_lines_hold_ids_timings_and_modes_but_no_text_by_default(corpus_index):
    answer = corpus_index.assistant.ask(QUESTIONS[0])
    quiet = answer_event(answer, Settings()).as_dict()
    assert quiet["event"] == "answered" and quiet["mode"] == answer.mode
    assert quiet["citations"] == [c.passage.id for c in (answer.suggestions if answer.abstained else answer.citations)]
    assert set(quiet["timings_ms"]) == {"retrieval", "answer", "total"} and quiet["masked"] == answer.masked
    assert "question" not in quiet and "answer" not in quiet
    loud = answer_event(answer, Settings(log_questions=True)).as_dict()
    assert loud["question"] == answer.question and "[naam]" in loud["question"]
    record = logging.LogRecord("livc.ui", logging.INFO, __file__, 1, f"raw text {NAME} {PHONE}", None, None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "raw text [naam] [telefoonnummer]" and line["level"] == "INFO"


# ---------------------------------------------------------------------------
# The chat and the API keep and log the masked question, never the typed one


def test_the_chat_the_sources_panel_and_the_conversation_hold_the_masked_question_only(corpus_index, tmp_path):
    from assistant.web.chat import Conversation, build_ui

    settings = corpus_index.settings.replace(feedback_db=str(tmp_path / "feedback.sqlite"))
    typed = f"Mag ik {NAME} terugbellen op {PHONE} over wat in de LIVC-R besproken werd?"
    for guard in ("warn", "refuse"):
        strict = settings.replace(privacy_guard=guard)
        assistant = dataclasses.replace(corpus_index.assistant, settings=strict)
        demo = build_ui(assistant, strict, FeedbackStore(tmp_path / "f"))
        messages, state, sources, *_, pending = _answer_fn(demo, "answer")(
            typed, [{"role": "user", "content": typed}], Conversation()
        )
        assert_no_trace(repr(state))  # the per-tab state the server keeps
        assert pending == ""  # the typed question is not kept for the next event
        assert_no_trace(repr(messages))  # the user's bubble now shows the question masked
        assert "[telefoonnummer]" in messages[0]["content"] and "[naam]" in messages[0]["content"]
        if guard == "warn":
            assert "[telefoonnummer]" in sources and "[naam]" in sources  # the panel's "Bronnen bij: ..."
            assert_no_trace(sources)
            assert state.history() == [state.turns[0].answer.question]
        else:
            assert state.turns[0].answer is None and state.history() == []


def test_api_answers_are_logged_as_the_same_structured_masked_event_as_the_chat(corpus_index, tmp_path, caplog):
    from helpers import AppServer, client

    from assistant.web.app import create_app
    from assistant.web.logs import Event

    settings = corpus_index.settings.replace(
        feedback_db=str(tmp_path / "feedback.sqlite"), rate_limit=0, log_questions=True
    )
    assistant = dataclasses.replace(corpus_index.assistant, settings=settings)
    with (
        AppServer(create_app(settings, assistant)) as server,
        client(server) as http,
        caplog.at_level(logging.INFO, logger="livc.api"),
    ):
        response = http.post("/api/v1/ask", json={"question": QUESTIONS[0]})
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name == "livc.api"]
    assert len(records) == 1 and isinstance(records[0].msg, Event)
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["event"] == "answered" and line["source"] == "api"
    assert line["question"] == response.json()["question"] and "[naam]" in line["question"]
    assert line["masked"] == response.json()["masked"] and set(line["timings_ms"]) == {"retrieval", "answer", "total"}
    assert_no_trace(json.dumps(line, ensure_ascii=False))


# ---------------------------------------------------------------------------
# Written the way people really type them: check digits mistyped after a cue, other
# separators, a spelled-out "@", full-width characters (property-based)


PROPERTY = hypothesis_settings(
    max_examples=150, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
CUES = [
    "rijksregisternummer",
    "Rijksregisternummer",
    "rijksregister",
    "RRN",
    "INSZ",
    "INSZ-nummer",
    "nationaal nummer",
    "nationaal registernummer",
    "rijksregisternr.",
]


@st.composite
def national_numbers(draw, plausible: bool = True) -> str:
    """A national register number in one of the usual ways of writing it, check digits anything."""
    parts = [
        draw(st.integers(0, 99)),
        draw(st.integers(1, 12) if plausible else st.integers(0, 99)),
        draw(st.integers(1, 31) if plausible else st.integers(0, 99)),
        draw(st.integers(0, 999)),
        draw(st.integers(0, 99)),
    ]
    yy, mm, dd, sss, cc = (
        f"{parts[0]:02d}",
        f"{parts[1]:02d}",
        f"{parts[2]:02d}",
        f"{parts[3]:03d}",
        f"{parts[4]:02d}",
    )
    style = draw(st.sampled_from(["official", "spaces", "none", "dashes", "six"]))
    return {
        "official": f"{yy}.{mm}.{dd}-{sss}.{cc}",
        "spaces": f"{yy} {mm} {dd} {sss} {cc}",
        "none": f"{yy}{mm}{dd}{sss}{cc}",
        "dashes": f"{yy}{mm}{dd}-{sss}-{cc}",
        "six": f"{yy}{mm}{dd} {sss} {cc}",
    }[style]


@given(
    cue=st.sampled_from(CUES),
    between=st.sampled_from([" ", ": ", " is ", " van de vader: ", " ("]),
    number=national_numbers(plausible=False),
)
@PROPERTY
def test_a_national_number_after_a_cue_is_masked_whatever_its_check_digits(cue, between, number):
    text = f"Het {cue}{between}{number} staat in het dossier."
    assert ("national_number", number) in found(text)
    assert not any(c.isdigit() for c in mask_text(text))


@given(number=national_numbers())
@PROPERTY
def test_a_national_number_is_masked_whole_or_left_whole_never_half(number):
    masked = mask_text(f"Het gaat om {number}, wat nu?")
    digits = [c for c in masked if c.isdigit()]
    assert digits == [] or "".join(digits) == "".join(c for c in number if c.isdigit()), masked


@st.composite
def belgian_ibans(draw) -> str:
    bban = "".join(str(draw(st.integers(0, 9))) for _ in range(12))
    check = 98 - int(bban + "111400") % 97  # B=11, E=14, then "00"
    return f"BE{check:02d}{bban}"


@given(iban=belgian_ibans(), separator=st.sampled_from([" ", "-", ".", ""]))
@PROPERTY
def test_ibans_in_groups_split_by_spaces_dashes_or_dots_are_found(iban, separator):
    written = separator.join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert valid_iban(iban)
    assert found(f"Het geld kwam van {written} binnen.") == [("iban", written)]


@given(
    local=st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,8})?", fullmatch=True),
    domain=st.from_regex(r"[a-z]{2,10}(-[a-z]{2,6})?", fullmatch=True),
    tld=st.sampled_from(["be", "com", "org", "gent", "vlaanderen"]),
    at=st.sampled_from(["@", " @ ", "@ ", "(at)", "[at]", " (at) ", "{at}", "＠"]),
    dot=st.sampled_from([".", "(dot)", "[punt]"]),
)
@PROPERTY
def test_e_mail_addresses_with_a_spelled_out_or_spaced_at_are_found(local, domain, tld, at, dot):
    address = f"{local}{at}{domain}{dot}{tld}"
    assert found(f"Mail het naar {address} vandaag.") == [("email", address)]


FULL_WIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789@+"})


@given(kind=st.sampled_from(["phone", "national", "email", "iban"]), number=national_numbers(), iban=belgian_ibans())
@PROPERTY
def test_full_width_digits_and_at_signs_are_read_as_their_ascii_forms(kind, number, iban):
    text = {
        "phone": f"Bel {PHONE} of {number[:2]}",
        "national": f"Rijksregisternummer {number}.",
        "email": f"Stuur het naar {EMAIL}.",
        "iban": f"Rekening {iban} graag.",
    }[kind]
    wide = text.translate(FULL_WIDTH)
    assert wide != text
    assert mask_text(wide) == mask_text(text).translate(FULL_WIDTH)  # same spans, offsets of the typed text
    assert mask_text(wide) != wide


@pytest.mark.parametrize(
    "text, masked",
    [
        ("rijksregisternummer 85.07.30-033.61", "rijksregisternummer [rijksregisternummer]"),
        ("rijksregisternummer 85 07 30 033 61", "rijksregisternummer [rijksregisternummer]"),
        ("Het nummer 85 07 30 033 61 staat erin.", "Het nummer [rijksregisternummer] staat erin."),
        ("BE68-5390-0754-7034", "[IBAN]"),
        ("BE68.5390.0754.7034", "[IBAN]"),
        ("jan.peeters(at)example.be", "[e-mail]"),
        ("jan @ example.be", "[e-mail]"),
        ("jan.peeters＠example.be", "[e-mail]"),
        ("０４７０ １２ ３４ ５６", "[telefoonnummer]"),
        ("bel 0470\u200b12 34 56", "bel [telefoonnummer]"),  # a zero-width space inside
    ],
)
def test_the_reported_gaps_are_masked(text, masked):
    assert mask_text(text) == masked


def test_legal_numbers_and_wrong_check_digits_without_a_cue_still_pass():
    for text in (
        "Het nummer 85.07.30-033.27 staat in het dossier.",
        "Wat zegt artikel 458ter, § 2, 1°?",
        "De wet van 30 juli 2018 (B.S. 14.09.2018) regelt de cel.",
        "Zie COL 04/2018 en 52/2021.",
    ):
        assert found(text) == [], text


# ---------------------------------------------------------------------------
# What Gradio prints itself (a failed event's traceback quotes the raw inputs) is masked


@pytest.fixture
def small_index(tmp_path, small_cache, embedder):
    """A built index of the small corpus in tmp_path (embedding cache pre-filled)."""
    from helpers import build_small_index

    return build_small_index(tmp_path, small_cache, embedder)


@pytest.mark.server
def test_gradio_tracebacks_with_the_raw_inputs_are_logged_masked(small_index, tmp_path):
    import time

    import httpx
    from helpers import AppProcess

    typed = f"{EMAIL} {PHONE} {NATIONAL}"
    with AppProcess(small_index, tmp_path) as app, httpx.Client(base_url=app.url, timeout=60) as http:
        config = http.get("/config").json()
        fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "answer")
        # One input where the handler takes three: Gradio raises "... Received inputs: [...]"
        # and prints the traceback itself (traceback.print_exc), past the logging module.
        joined = http.post(
            "/gradio_api/queue/join",
            json={"data": [typed], "fn_index": fn, "trigger_id": None, "session_hash": "livcprivacy1"},
        )
        assert joined.status_code == 200, joined.text
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": "livcprivacy1"}) as stream:
            events = "".join(line for line in stream.iter_lines() if "process_completed" in line or "close" in line)
        assert '"success":false' in events.replace(" ", "")
        deadline = time.monotonic() + 30
        while "Received inputs" not in app.log.read_text(encoding="utf-8", errors="replace"):
            assert time.monotonic() < deadline, app.output.read_text(errors="replace")[-2000:]
            time.sleep(0.2)
    written = app.log.read_bytes() + app.output.read_bytes()
    leaked = [p for p in (EMAIL, PHONE, NATIONAL) if p.encode() in written]
    assert not leaked, f"printed raw: {leaked}"
    records = [json.loads(line) for line in app.log.read_text(encoding="utf-8").splitlines()]
    quoted = [r for r in records if r.get("logger") == "stderr" and "[e-mail]" in r.get("message", "")]
    assert quoted and "[telefoonnummer]" in quoted[0]["message"] and "[rijksregisternummer]" in quoted[0]["message"]
