"""Tests for assistant.evaluation: the metric arithmetic, gold loading, JSON and report.

The assistant is a test double returning hand-built answers, because what is under test
here is the scoring; the real end-to-end run is tested elsewhere. No model is loaded:
the baseline uses LlamaIndex's MockEmbedding.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import TextNode

from assistant import evaluation as ev
from assistant.chunking import Passage
from assistant.documents import Document, parse_markdown
from assistant.settings import Settings
from assistant.types import Answer, Citation, Hit

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
    return Passage(id=heading, doc=s.doc, title=s.title, section=s.heading, section_path=list(s.path),
                   anchor=s.anchor, kind=s.kind, text=s.text, sentences=[s.text])


INTRO, MAYOR, CHIEF = passage("1 Inleiding"), passage("2.1 De burgemeester"), passage("2.2 De korpschef")

GOLD = [
    # In scope, explicit `sources`; first correct hit at rank 2; "2018" is missing from the answer.
    {"id": "q1", "type": "factual", "question": "Wie zit de cel voor?", "must_contain": ["burgemeester", "2018"],
     "source_doc": "gids.md", "source_section": "1 Inleiding",
     "sources": [{"doc": "gids.md", "section": "2.1 De burgemeester"}], "extra": "ignored"},
    # In scope, no `sources` and no type: falls back to source_sections; matches CHIEF by its path.
    {"id": "q2", "question": "Welke machtiging heeft de korpschef?", "must_contain": ["Niveau  geheim"],
     "source_doc": "gids.md", "source_sections": ["2 Samenstelling"]},
    # Out of scope.
    {"id": "q3", "type": "out-of-scope", "question": "Hoe vraag ik een parkeerkaart aan?", "must_contain": [],
     "source_doc": None, "sources": []},
]

ANSWERS = {
    "Wie zit de cel voor?": Answer(
        question="", text="De burgemeester zit de cel voor [1].",
        citations=[Citation(1, MAYOR, "De burgemeester zit de cel voor.")],
        hits=[Hit(INTRO, 0.9), Hit(MAYOR, 0.8), Hit(CHIEF, 0.1)], timings={"total": 10.0}),
    "Welke machtiging heeft de korpschef?": Answer(
        question="", text="De korpschef heeft een machtiging van het NIVEAU\n ｇｅｈｅｉｍ [1].",
        citations=[Citation(1, INTRO, "De cel bestaat sinds de wet van 2018.")],
        hits=[Hit(CHIEF, 0.9), Hit(INTRO, 0.2)], timings={"total": 20.0}),
    "Hoe vraag ik een parkeerkaart aan?": Answer(
        question="", text="Dat staat niet in de documenten.", abstained=True,
        hits=[Hit(INTRO, 0.1)], timings={"total": 30.0}),
}


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
    assert set(q1) == {"id", "type", "question", "in_scope", "abstained", "mode", "first_match_rank",
                      "facts_found", "citation_hit", "answer_words", "latency_ms", "cited_sections",
                      "answer_text"}


def test_abstention_metrics_with_a_wrong_abstention():
    rows = [GOLD[0], GOLD[1], GOLD[2]]
    outcomes = [ev.Outcome([True], "", abstained=True), ev.Outcome([], "De burgemeester."),
                ev.Outcome([], "Iets.")]
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
    assert set(data) == {"n", "n_in_scope", "n_out_of_scope", "retrieval", "answers", "latency_ms",
                         "by_type", "baseline", "settings", "questions"}
    retrieval_keys = {"hit@1", "hit@3", "hit@5", "mrr@10"}
    answer_keys = {"fact_recall", "citation_hit", "answered_rate", "abstain_recall", "abstain_precision",
                   "answer_words"}
    assert set(data["retrieval"]) == retrieval_keys and set(data["answers"]) == answer_keys
    assert set(data["latency_ms"]) == {"p50", "p95"}
    assert all(set(m) == retrieval_keys | answer_keys for m in data["by_type"].values())
    assert set(data["baseline"]) == {"retrieval", "answers"}
    assert set(data["baseline"]["retrieval"]) == retrieval_keys
    assert set(data["baseline"]["answers"]) == answer_keys
    assert data["settings"]["gold"] == str(gold_file) and data["settings"]["embedder"] == "mock-8"
    assert data["settings"]["top_k"] == Settings().top_k

    report = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "hit@1" in report and "q1" in report  # q1 misses a fact, so it is listed
    for png in ("hit_at_k.png", "by_type.png", "latency.png"):
        assert (report_dir / png).read_bytes().startswith(b"\x89PNG")
        assert f"]({png})" in report


def test_latency_falls_back_to_wall_clock():
    answer = Answer(question="q", text="x", timings={})
    assert ev.answer_outcome(GOLD[2], answer, 12.5).latency_ms == 12.5


# --- baseline -----------------------------------------------------------------------------


def test_baseline_one_chunk_covers_every_section():
    outcomes = ev.run_baseline(GOLD, [DOC], MockEmbedding(embed_dim=8))
    assert [o.first_match_rank for o in outcomes] == [1, 1, None]  # the tiny doc is one chunk
    assert all(not o.abstained for o in outcomes)
    assert outcomes[0].text.split() == DOC.text.split()[:ev.BASELINE_ANSWER_WORDS]
    scores = ev.score_rows(GOLD, outcomes)
    assert scores["retrieval"]["hit@1"] == 1.0
    assert scores["answers"]["citation_hit"] == 1.0
    assert scores["answers"]["abstain_recall"] == 0.0 and scores["answers"]["abstain_precision"] == 1.0


def test_baseline_chunk_offsets_pick_the_overlapped_sections():
    chief = SECTIONS["2.2 De korpschef"]
    text = DOC.text[chief.start:chief.end].strip()
    located = TextNode(text=text)  # no offsets: found by searching the document text
    sections = ev._overlapped_sections(located, DOC)
    assert [s.heading for s in sections] == ["2.2 De korpschef"]
    spanning = TextNode(text=DOC.text[SECTIONS["2.1 De burgemeester"].start:chief.start + 5])
    assert {s.heading for s in ev._overlapped_sections(spanning, DOC)} == {"2.1 De burgemeester",
                                                                          "2.2 De korpschef"}
    assert ev._sections_match(GOLD[1], sections) and not ev._sections_match(GOLD[0], sections)


# --- gold loading -------------------------------------------------------------------------


def test_load_gold_skips_blank_lines_and_keeps_extra_keys(gold_file):
    rows = ev.load_gold(gold_file)
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"] and rows[0]["extra"] == "ignored"


@pytest.mark.parametrize("bad, reason", [
    ('{"question": "ok?"', "not valid JSON"),
    ('{"id": "x"}', "missing 'question'"),
    ('["a list"]', "JSON object"),
    ('{"question": "q", "must_contain": "geheim"}', "must_contain"),
])
def test_load_gold_names_the_bad_line(tmp_path, bad, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "goed?"}\n\n' + bad + "\n", encoding="utf-8")
    with pytest.raises(ev.GoldError) as err:
        ev.load_gold(path)
    assert "bad.jsonl" in str(err.value) and "line 3" in str(err.value) and reason in str(err.value)
    assert isinstance(err.value, ValueError)
