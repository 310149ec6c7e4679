"""Tests for assistant.ops.evaluation: the metric arithmetic, gold loading, JSON and report.

The assistant is a test double returning hand-built answers, because what is under test
here is the scoring; the real end-to-end run is tested elsewhere. No model is loaded:
the baseline uses LlamaIndex's MockEmbedding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPORT_KEYS
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import TextNode

from assistant.core.chunking import Passage
from assistant.core.documents import Document, parse_markdown
from assistant.core.settings import Settings
from assistant.core.types import Answer, Citation, Hit
from assistant.ops import evaluation as ev

GUIDE = """# Handleiding

## 1 Inleiding

De cel bestaat sinds de wet van 2018.

## 2 Samenstelling

### 2.1 De burgemeester

De burgemeester zit de cel voor.

### 2.2 De korpschef

De korpschef heeft een machtiging van het niveau geheim.
"""


def make_document(name: str = "gids.md", text: str = GUIDE) -> Document:
    sections = parse_markdown(name, text)
    return Document(name, sections[0].title, "0" * 64, text, tuple(sections))


DOC = make_document()
SECTIONS = {s.heading: s for s in DOC.sections}


def passage(heading: str) -> Passage:
    s = SECTIONS[heading]
    return Passage(
        id=heading,
        doc=s.doc,
        title=s.title,
        section=s.heading,
        section_path=list(s.path),
        anchor=s.anchor,
        kind=s.kind,
        text=s.text,
        sentences=[s.text],
    )


INTRO, MAYOR, CHIEF = passage("1 Inleiding"), passage("2.1 De burgemeester"), passage("2.2 De korpschef")

GOLD = [
    # In scope, explicit `sources`; first correct hit at rank 2; "2018" is missing from the answer.
    {
        "id": "q1",
        "type": "factual",
        "question": "Wie zit de cel voor?",
        "must_contain": ["burgemeester", "2018"],
        "source_doc": "gids.md",
        "source_section": "1 Inleiding",
        "sources": [{"doc": "gids.md", "section": "2.1 De burgemeester"}],
        "extra": "ignored",
    },
    # In scope, no `sources` and no type: falls back to source_sections; matches CHIEF by its path.
    {
        "id": "q2",
        "question": "Welke machtiging heeft de korpschef?",
        "must_contain": ["Niveau  geheim"],
        "source_doc": "gids.md",
        "source_sections": ["2 Samenstelling"],
    },
    # Out of scope.
    {
        "id": "q3",
        "type": "out-of-scope",
        "question": "Hoe vraag ik een parkeerkaart aan?",
        "must_contain": [],
        "source_doc": None,
        "sources": [],
    },
]

ANSWERS = {
    "Wie zit de cel voor?": Answer(
        question="",
        text="De burgemeester zit de cel voor [1].",
        citations=[Citation(1, MAYOR, "De burgemeester zit de cel voor.")],
        hits=[Hit(INTRO, 0.9), Hit(MAYOR, 0.8), Hit(CHIEF, 0.1)],
        timings={"total": 10.0},
    ),
    "Welke machtiging heeft de korpschef?": Answer(
        question="",
        text="De korpschef heeft een machtiging van het NIVEAU\n ｇｅｈｅｉｍ [1].",
        citations=[Citation(1, INTRO, "De cel bestaat sinds de wet van 2018.")],
        hits=[Hit(CHIEF, 0.9), Hit(INTRO, 0.2)],
        timings={"total": 20.0},
    ),
    "Hoe vraag ik een parkeerkaart aan?": Answer(
        question="",
        text="Dat staat niet in de documenten.",
        abstained=True,
        hits=[Hit(INTRO, 0.1)],
        timings={"total": 30.0},
    ),
}


RETRIEVAL_KEYS = {"hit@1", "hit@3", "hit@5", "mrr@10"}
# The contract other tools read, written out here on its own (not imported from the code it checks).
ANSWER_KEYS = set(
    "fact_recall citation_hit answered_rate abstain_recall abstain_precision answer_words"
    " confident_rate confident_precision".split()
)


class FakeEmbedder(MockEmbedding):
    @property
    def model_id(self) -> str:
        return "mock-8"


class FakeAssistant:
    """Stands in for the assistant: fixed answers, the tiny corpus, a mock embedder."""

    def __init__(self):
        self.settings = Settings()
        self.embedder = FakeEmbedder(embed_dim=8)
        self.documents = [DOC]

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        return ANSWERS[question]


@pytest.fixture
def gold_file(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in GOLD) + "\n\n", encoding="utf-8")
    return path


@pytest.fixture
def result(gold_file: Path) -> dict:
    return ev.run_eval(FakeAssistant(), gold_file, with_baseline=False, progress=False)


# --- metrics computed by hand -------------------------------------------------------------


def test_counts_and_retrieval(result):
    assert (result["n"], result["n_in_scope"], result["n_out_of_scope"]) == (3, 2, 1)
    assert result["retrieval"] == {"hit@1": 0.5, "hit@3": 1.0, "hit@5": 1.0, "mrr@10": 0.75}


def test_answer_metrics(result):
    assert result["answers"] == {
        "fact_recall": 0.5,  # q1 lacks "2018"; q2 matches despite case, NFKC and whitespace
        "citation_hit": 0.5,  # q1 cites its source, q2 cites the introduction
        "answered_rate": 1.0,
        "abstain_recall": 1.0,
        "abstain_precision": 1.0,
        "answer_words": 7.5,  # (6 + 9) / 2: the [1] markers are not words
        "confident_rate": 1.0,  # both in-scope rows answered with high confidence ...
        "confident_precision": 0.0,  # ... and neither is right: q1 lacks "2018", q2 cites the wrong section
    }


def test_latency_and_by_type(result):
    assert result["latency_ms"] == {"p50": 20.0, "p95": 29.0}
    assert set(result["by_type"]) == {"factual", "untyped", "out-of-scope"}
    assert result["by_type"]["factual"]["mrr@10"] == 0.5
    assert result["by_type"]["untyped"]["hit@1"] == 1.0
    oos = result["by_type"]["out-of-scope"]
    assert oos["hit@1"] is None and oos["fact_recall"] is None and oos["abstain_recall"] == 1.0


def test_question_details(result):
    q1, q2, q3 = result["questions"]
    assert q1["first_match_rank"] == 2 and q1["facts_found"] is False and q1["citation_hit"] is True
    assert q1["cited_sections"] == ["gids.md#2.1 De burgemeester"] and q1["answer_words"] == 6
    assert q2["type"] == "untyped" and q2["facts_found"] is True and q2["citation_hit"] is False
    assert q3["in_scope"] is False and q3["abstained"] is True and q3["citation_hit"] is None
    assert q3["first_match_rank"] is None
    assert (q1["confidence"], q2["confidence"], q3["confidence"]) == ("high", "high", "low")  # q3 abstained
    assert (q1["lang"], q1["set"]) == ("nl", "gold") and q1["correct"] is False
    assert set(q1) == {
        "id",
        "set",
        "type",
        "lang",
        "question",
        "in_scope",
        "abstained",
        "confidence",
        "mode",
        "first_match_rank",
        "facts_found",
        "citation_hit",
        "correct",
        "answer_words",
        "latency_ms",
        "cited_sections",
        "answer_text",
    }


def test_abstention_metrics_with_a_wrong_abstention():
    rows = [GOLD[0], GOLD[1], GOLD[2]]
    outcomes = [ev.Outcome([True], "", abstained=True), ev.Outcome([], "De burgemeester."), ev.Outcome([], "Iets.")]
    answers = ev.answer_metrics(rows, outcomes)
    assert answers["abstain_precision"] == 0.0  # the one abstention was in scope
    assert answers["abstain_recall"] == 0.0
    assert answers["answered_rate"] == 0.5
    assert answers["fact_recall"] == 0.0  # an abstention fails, q2 lacks its term
    assert answers["citation_hit"] == 0.0 and answers["answer_words"] == 2


def test_empty_denominators_give_none():
    scores = ev.score_rows([GOLD[2]], [ev.Outcome([], "Iets.")])
    assert set(scores["retrieval"].values()) == {None}
    assert scores["answers"]["fact_recall"] is None and scores["answers"]["answer_words"] is None
    assert scores["answers"]["abstain_precision"] == 1.0  # no abstentions
    assert ev.answer_metrics([GOLD[0]], [ev.Outcome([], "x")])["abstain_recall"] is None


def test_mrr_only_counts_the_first_ten():
    assert ev.retrieval_metrics([11, 1, None])["mrr@10"] == pytest.approx(1 / 3)


# --- sources and matching -----------------------------------------------------------------


def test_row_sources_fallbacks():
    assert ev.row_sources(GOLD[0]) == [("gids.md", "2.1 De burgemeester")]  # `sources` wins
    assert ev.row_sources(GOLD[1]) == [("gids.md", "2 Samenstelling")]
    only_section = {"source_doc": "a.md", "source_section": "X", "sources": [], "source_sections": []}
    assert ev.row_sources(only_section) == [("a.md", "X")]
    assert ev.row_sources(GOLD[2]) == []


def test_source_matches_own_heading_or_path():
    row = GOLD[1]
    assert ev.source_matches(row, "gids.md", "2.2 De korpschef", ["2 Samenstelling", "2.2 De korpschef"])
    assert not ev.source_matches(row, "gids.md", "1 Inleiding", ["1 Inleiding"])
    assert not ev.source_matches(row, "ander.md", "2 Samenstelling", ["2 Samenstelling"])


def test_doc_only_row_matches_any_section_of_the_doc():
    row = {"source_doc": "gids.md"}
    assert ev.source_matches(row, "gids.md", "1 Inleiding", ["1 Inleiding"])


def test_facts_found_normalises_and_abstention_fails():
    row = {"must_contain": ["Artikel 458ter", "ＬＩＶＣ"]}
    assert ev.facts_found(row, ev.Outcome([], "volgens  artikel\n458TER voor de livc"))
    assert not ev.facts_found(row, ev.Outcome([], "volgens artikel 458ter voor de livc", abstained=True))
    assert not ev.facts_found(row, ev.Outcome([], "artikel 458"))


def test_unknown_sources_are_reported():
    rows = GOLD + [{"question": "?", "source_doc": "gids.md", "source_section": "9 Bestaat niet"}]
    assert ev.unknown_sources(rows, [DOC]) == ["gids.md#9 Bestaat niet"]


# --- JSON and report ----------------------------------------------------------------------


def test_json_keys_and_files(gold_file, tmp_path):
    json_path = tmp_path / "out" / "eval.json"
    report_dir = tmp_path / "report"
    result = ev.run_eval(FakeAssistant(), gold_file, report_dir=report_dir, json_path=json_path, progress=False)

    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data == json.loads((report_dir / "report.json").read_text(encoding="utf-8")) == result
    assert set(data) == REPORT_KEYS
    assert set(data["retrieval"]) == RETRIEVAL_KEYS and set(data["answers"]) == ANSWER_KEYS
    retrieval_keys, answer_keys = RETRIEVAL_KEYS, ANSWER_KEYS
    assert set(data["latency_ms"]) == {"p50", "p95"}
    assert all(set(m) == retrieval_keys | answer_keys for m in data["by_type"].values())
    assert set(data["by_lang"]) == {"nl"} and set(data["by_lang"]["nl"]) == retrieval_keys | answer_keys
    assert set(data["baseline"]) == {"retrieval", "answers"}
    assert set(data["baseline"]["retrieval"]) == retrieval_keys
    assert set(data["baseline"]["answers"]) == answer_keys
    assert data["settings"]["gold"] == str(gold_file) and data["settings"]["embedder"] == "mock-8"
    assert data["settings"]["top_k"] == Settings().top_k

    report = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "hit@1" in report and "q1" in report  # q1 misses a fact, so it is listed
    assert "| confident_rate | 1.000 |" in report and "| confident_precision | 0.000 |" in report
    assert "## Per language" in report and "| lang |" in report and "| nl |" in report
    assert "wrong with high confidence" in report  # q1 and q2 are wrong and were given as the answer
    for png in ("hit_at_k.png", "by_type.png", "latency.png"):
        assert (report_dir / png).read_bytes().startswith(b"\x89PNG")
        assert f"]({png})" in report


def test_latency_falls_back_to_wall_clock():
    answer = Answer(question="q", text="x", timings={})
    assert ev.answer_outcome(GOLD[2], answer, 12.5).latency_ms == 12.5


# --- confidence and languages -------------------------------------------------------------

MAYOR_ROW = {
    "question": "Wie zit de cel voor?",
    "must_contain": ["burgemeester"],
    "source_doc": "gids.md",
    "source_section": "2.1 De burgemeester",
}
OUT_ROW = {"question": "Hoe vraag ik een parkeerkaart aan?", "source_doc": None}


def said(text: str, confidence: str = "high", cited: bool = True, abstained: bool = False) -> ev.Outcome:
    return ev.Outcome([cited], text, abstained=abstained, cited_matches=[cited], confidence=confidence)


CONFIDENCE_CASES = [
    (MAYOR_ROW, said("De burgemeester zit de cel voor.")),  # high, right
    (MAYOR_ROW, said("De korpschef neemt deel.")),  # high, fact missing: wrong
    (MAYOR_ROW, said("De burgemeester zit de cel voor.", cited=False)),  # high, no matching citation: wrong
    (MAYOR_ROW, said("De burgemeester zit de cel voor.", confidence="low")),  # right, but not claimed
    (MAYOR_ROW, said("", abstained=True)),  # an abstention counts as low, whatever the field says
    (OUT_ROW, said("De burgemeester zit de cel voor.")),  # out of scope, high: wrong
    (OUT_ROW, said("Iets.", confidence="low")),  # out of scope, low: no claim made
    (OUT_ROW, said("", abstained=True)),
]


def test_confident_rate_and_precision_by_hand():
    rows, outcomes = [r for r, _ in CONFIDENCE_CASES], [o for _, o in CONFIDENCE_CASES]
    answers = ev.answer_metrics(rows, outcomes)
    assert answers["confident_rate"] == 3 / 5  # 5 in-scope rows, 3 answered with high confidence
    assert answers["confident_precision"] == 1 / 4  # 4 high-confidence answers (one out of scope), 1 right
    assert [ev.correct(r, o) for r, o in CONFIDENCE_CASES] == [True, False, False, True, False, False, False, False]


def test_confident_precision_is_none_without_high_confidence_answers():
    rows = [MAYOR_ROW, OUT_ROW]
    answers = ev.answer_metrics(rows, [said("De burgemeester.", confidence="low"), said("", abstained=True)])
    assert answers["confident_precision"] is None and answers["confident_rate"] == 0.0
    assert ev.answer_metrics([OUT_ROW], [said("Iets.")])["confident_rate"] is None  # no in-scope rows


def test_an_abstention_is_low_confidence_in_the_outcome():
    abstention = Answer(question="q", text="Dat staat niet in de documenten.", abstained=True, confidence="high")
    assert ev.answer_outcome(OUT_ROW, abstention, 1.0).confidence == "low"
    low = Answer(question="q", text="x", confidence="low")
    assert ev.answer_outcome(MAYOR_ROW, low, 1.0).confidence == "low"


def test_the_baseline_counts_every_answer_as_high_confidence():
    outcomes = ev.run_baseline(GOLD, [DOC], MockEmbedding(embed_dim=8))
    assert all(o.confident for o in outcomes)
    answers = ev.score_rows(GOLD, outcomes)["answers"]
    assert answers["confident_rate"] == answers["answered_rate"] == 1.0
    # The tiny guide is one chunk, so each in-scope answer holds its terms and cites its
    # section; the out-of-scope row, answered like every other, is the wrong one of three.
    assert answers["confident_precision"] == 0.6667


def test_scores_by_language_default_to_dutch():
    rows = [{**MAYOR_ROW, "lang": "en"}, {**MAYOR_ROW, "lang": "FR"}, MAYOR_ROW, {**OUT_ROW, "lang": ""}]
    outcomes = [
        said("The burgemeester chairs it."),
        said("Rien.", confidence="low"),
        said("De burgemeester."),
        said("", abstained=True),
    ]
    by_lang = ev.scores_by_lang(rows, outcomes)
    assert list(by_lang) == ["en", "fr", "nl"]
    assert by_lang["en"]["fact_recall"] == 1.0 and by_lang["en"]["confident_precision"] == 1.0
    assert by_lang["fr"]["fact_recall"] == 0.0 and by_lang["fr"]["confident_rate"] == 0.0
    assert by_lang["nl"]["abstain_recall"] == 1.0 and by_lang["nl"]["hit@1"] == 1.0


# --- several gold files ---------------------------------------------------------------------


@pytest.fixture
def second_gold(tmp_path: Path) -> Path:
    """Another file named gold.jsonl (so its set name must be made unique): q2 asked in English."""
    path = tmp_path / "elders" / "gold.jsonl"
    path.parent.mkdir()
    row = {**GOLD[1], "id": "q2-en", "lang": "en"}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_several_gold_files_are_scored_each_and_pooled(gold_file, second_gold, tmp_path):
    report_dir = tmp_path / "report"
    result = ev.run_eval(FakeAssistant(), [gold_file, second_gold], report_dir=report_dir, progress=False)
    single = ev.run_eval(FakeAssistant(), gold_file, progress=False)

    assert set(result) == {"sets", "pooled"} and list(result["sets"]) == ["gold", "gold-2"]
    for part in (*result["sets"].values(), result["pooled"]):
        assert set(part) == REPORT_KEYS and set(part["baseline"]) == {"retrieval", "answers"}
    first, second, pooled = result["sets"]["gold"], result["sets"]["gold-2"], result["pooled"]
    assert first["answers"] == single["answers"] and first["baseline"] == single["baseline"]
    assert first["settings"]["gold"] == str(gold_file) and second["settings"]["gold"] == str(second_gold)
    assert pooled["settings"]["gold"] == [str(gold_file), str(second_gold)]
    assert (first["n"], second["n"], pooled["n"]) == (3, 1, 4)
    assert pooled["retrieval"]["hit@1"] == 0.6667  # 3 in-scope rows: q1 misses at rank 1, q2 hits twice
    assert set(pooled["by_lang"]) == {"nl", "en"} and set(second["by_lang"]) == {"en"}
    assert [q["set"] for q in pooled["questions"]] == ["gold", "gold", "gold", "gold-2"]

    assert json.loads((report_dir / "report.json").read_text(encoding="utf-8")) == result
    for name in ("gold", "gold-2", "pooled"):
        part = result["pooled"] if name == "pooled" else result["sets"][name]
        assert json.loads((report_dir / name / "report.json").read_text(encoding="utf-8")) == part
        assert (report_dir / name / "hit_at_k.png").read_bytes().startswith(b"\x89PNG")
    overview = (report_dir / "report.md").read_text(encoding="utf-8")
    for link in ("](gold/report.md)", "](gold-2/report.md)", "](pooled/report.md)"):
        assert link in overview
    assert "| gold-2 | 1 | ours |" in overview and "|  |  | baseline |" in overview
    assert "counts as high confidence" in overview


def test_one_gold_file_in_a_list_gives_the_single_result(gold_file):
    result = ev.run_eval(FakeAssistant(), [gold_file], with_baseline=False, progress=False)
    assert set(result) == REPORT_KEYS and result["settings"]["gold"] == str(gold_file)


def test_set_names_come_from_the_file_names_and_stay_unique(tmp_path):
    paths = []
    for name in ("a/gold-dev.jsonl", "b/gold-dev.jsonl", "c/pooled.jsonl", "d/gold-dev2.jsonl"):
        path = tmp_path / name
        path.parent.mkdir()
        path.write_text('{"question": "q?"}\n', encoding="utf-8")
        paths.append(path)
    assert [s.name for s in ev.load_sets(paths)] == ["gold-dev", "gold-dev-2", "pooled-2", "gold-dev2"]


def test_the_summary_has_a_line_per_set_and_pooled_with_the_baseline_beside_ours(gold_file, second_gold):
    result = ev.run_eval(FakeAssistant(), [gold_file, second_gold], progress=False)
    legend, *lines = ev.summary_lines(result)
    assert legend == "(figures: ours/baseline)"
    assert [line.split()[0] for line in lines] == ["gold", "gold-2", "pooled"]
    assert "hit@1=0.50/1.00" in lines[0] and "confident_precision=0.00/0.67" in lines[0]
    assert "n=4" in lines[2]
    alone = ev.summary_lines(ev.run_eval(FakeAssistant(), gold_file, with_baseline=False, progress=False))
    assert alone == [f"gold  {alone[0].split(maxsplit=1)[1]}"] and "hit@1=0.50 " in alone[0]


# --- baseline -----------------------------------------------------------------------------


def test_baseline_one_chunk_covers_every_section():
    outcomes = ev.run_baseline(GOLD, [DOC], MockEmbedding(embed_dim=8))
    assert [o.first_match_rank for o in outcomes] == [1, 1, None]  # the tiny doc is one chunk
    assert all(not o.abstained for o in outcomes)
    assert outcomes[0].text.split() == DOC.text.split()[: ev.BASELINE_ANSWER_WORDS]
    scores = ev.score_rows(GOLD, outcomes)
    assert scores["retrieval"]["hit@1"] == 1.0
    assert scores["answers"]["citation_hit"] == 1.0
    assert scores["answers"]["abstain_recall"] == 0.0 and scores["answers"]["abstain_precision"] == 1.0


def test_baseline_chunk_offsets_pick_the_overlapped_sections():
    chief = SECTIONS["2.2 De korpschef"]
    text = DOC.text[chief.start : chief.end].strip()
    located = TextNode(text=text)  # no offsets: found by searching the document text
    sections = ev._overlapped_sections(located, DOC)
    assert [s.heading for s in sections] == ["2.2 De korpschef"]
    spanning = TextNode(text=DOC.text[SECTIONS["2.1 De burgemeester"].start : chief.start + 5])
    assert {s.heading for s in ev._overlapped_sections(spanning, DOC)} == {"2.1 De burgemeester", "2.2 De korpschef"}
    assert ev._sections_match(GOLD[1], sections) and not ev._sections_match(GOLD[0], sections)


# --- gold loading -------------------------------------------------------------------------


def test_load_gold_skips_blank_lines_and_keeps_extra_keys(gold_file):
    rows = ev.load_gold(gold_file)
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"] and rows[0]["extra"] == "ignored"


@pytest.mark.parametrize(
    "bad, reason",
    [
        ('{"question": "ok?"', "not valid JSON"),
        ('{"id": "x"}', "missing 'question'"),
        ('["a list"]', "JSON object"),
        ('{"question": "q", "must_contain": "geheim"}', "must_contain"),
        ('{"question": "q", "type": "out-of-scope", "source_doc": ""}', "null for an out-of-scope row"),
        ('{"question": "q", "type": "out-of-scope", "source_doc": "qa.md"}', "null for an out-of-scope row"),
        ('{"question": "q", "type": "factual", "source_doc": ""}', "null for an out-of-scope row"),
    ],
)
def test_load_gold_names_the_bad_line(tmp_path, bad, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "goed?"}\n\n' + bad + "\n", encoding="utf-8")
    with pytest.raises(ev.GoldError) as err:
        ev.load_gold(path)
    assert "bad.jsonl" in str(err.value) and "line 3" in str(err.value) and reason in str(err.value)
    assert isinstance(err.value, ValueError)
