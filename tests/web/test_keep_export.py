"""The conversation the browser keeps (web/keep.py), its export (web/export.py) and the
viewer's marks (web/viewer.py), without a browser: in-process, on the shipped corpus's files
(no index), so they run in the fast tier."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import pytest
from helpers import CORPUS, GUIDE
from starlette.testclient import TestClient

from assistant.core.settings import Settings
from assistant.core.types import Answer, Citation, Passage
from assistant.web.app import create_app
from assistant.web.chat import mount
from assistant.web.export import EXPORT_MAX_BYTES, EXPORT_PATH
from assistant.web.keep import answer_from_record, answer_record, read_record, read_records
from assistant.web.render import render_reply, render_sources
from assistant.web.viewer import Library, anchor_map, render_document


def _settings(tmp_path: Path, **overrides) -> Settings:
    config = tmp_path / "empty.toml"
    config.write_text("", encoding="utf-8")
    values = {"corpus_dir": str(CORPUS), "feedback_db": str(tmp_path / "feedback.sqlite"), **overrides}
    return Settings.load(overrides=values, environ={}, config_file=config)


def _passage(**extra) -> Passage:
    values = dict(
        id="p-75",
        doc=GUIDE,
        title="Draaiboek LIVC-R: lang",
        section="7.5 Bewaring en beveiliging",
        section_path=["7. Dataverwerking en privacy", "7.5 Bewaring en beveiliging"],
        anchor="75-bewaring-en-beveiliging",
        kind="guide",
        text="Eerste zin over <b>bewaren</b>. Tweede zin.",
        sentences=["Eerste zin over <b>bewaren</b>.", "Tweede zin."],
        page=None,
        doc_date="2021-07-01",
        doc_sha256="ab" * 32,
    )
    return Passage(**{**values, **extra})


def _answer() -> Answer:
    p = _passage()
    return Answer(
        question="Hoe lang <i>bewaren</i> we?",
        text="Eerste zin over <b>bewaren</b>. [1]\n\n- een punt **vet** [1]",
        citations=[Citation(1, p, "Eerste zin over <b>bewaren</b>.")],
        notice="Gelezen als vervolg op uw vorige vraag: “Wat is de LIVC-R?”",
        confidence="low",
    )


def test_a_kept_record_restores_the_same_reply_and_sources(tmp_path):
    settings = _settings(tmp_path)
    answer = _answer()
    record = answer_record(3, answer, settings)
    assert record["turn"] == 3 and "passage" not in record["citations"][0]
    assert record["citations"][0]["passage_id"] == "p-75" and record["citations"][0]["sentences"]
    back = answer_from_record(read_record(json.dumps(record)))  # the index no longer holds the passage
    assert render_reply(back, 3, settings) == render_reply(answer, 3, settings)
    from assistant.web.render import Turn

    turns = [Turn(answer.question, answer, 1)]
    assert render_sources([Turn(back.question, back, 1)], settings) == render_sources(turns, settings)
    # A passage the index still has is taken from there.
    fresh = _passage(sentences=["Eerste zin over <b>bewaren</b>.", "Tweede zin, nieuw."])
    assert answer_from_record(read_record(json.dumps(record)), {"p-75": fresh}).citations[0].passage is fresh


def test_records_from_the_browser_are_validated():
    assert read_record("not json") is None
    assert read_record(json.dumps({"turn": 0})) is None  # no question, no text
    assert read_record(json.dumps({"turn": 0, "question": "x" * 30_000, "text": "y"})) is None
    good = {"turn": 0, "question": "q", "text": "t"}
    assert [r.question for r in read_records([good, {"turn": "x"}, good])] == ["q", "q"]
    assert read_records({"turn": 0}) == []


def test_the_viewer_marks_only_document_text_and_never_echoes_the_quote():
    document = Library(CORPUS).get(GUIDE)
    quote = "Leg daarom samen met de DPO in het huishoudelijk reglement vast:\n<script>alert(1)</script>"
    page = render_document(document.text, anchor_map(document), "75-bewaring-en-beveiliging", quote)
    assert '<mark id="citaat">Leg daarom samen met de DPO in het huishoudelijk reglement vast:</mark>' in page
    assert "<script" not in page and "alert(1)" not in page
    assert page.count('class="cited"') == 1 and page.count('id="citaat"') == 1
    # A sentence of another section is not marked there; a quote that is not there lands on the heading.
    elsewhere = render_document(document.text, anchor_map(document), "76-rechten-van-betrokkenen", quote)
    assert "<mark" not in elsewhere and '<span id="citaat"></span>' in elsewhere


class NoAssistant:
    """The chat's Blocks without answering anything: the export needs no assistant."""

    generator = None


@pytest.fixture
def client(tmp_path):
    settings = _settings(tmp_path, rate_limit=2, rate_window=60)
    app = mount(create_app(settings), NoAssistant(), settings)
    with TestClient(app, base_url="http://127.0.0.1:7860") as running:
        yield running


def _body(kind: str) -> dict:
    return {"format": kind, "turns": [answer_record(0, _answer(), Settings())]}


def test_export_builds_markdown_and_word_from_the_records(client):
    origin = {"Origin": "http://127.0.0.1:7860"}
    md = client.post(EXPORT_PATH, json=_body("md"), headers=origin)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"].startswith('attachment; filename="livc-gesprek-')
    text = md.text
    assert "## Vraag 1: Hoe lang &lt;i>bewaren&lt;/i> we?" in text  # no HTML in the file
    assert "&lt;b>bewaren&lt;/b>" in text and "<b>" not in text
    assert "[1] Draaiboek LIVC-R: lang › 7. Dataverwerking en privacy › 7.5 Bewaring en beveiliging" in text
    assert f"<http://127.0.0.1:7860/documenten/{GUIDE}#75-bewaring-en-beveiliging>" in text
    assert "*Mogelijk relevant — controleer de bron*" in text
    word = client.post(EXPORT_PATH, json=_body("docx"), headers=origin)
    assert word.status_code == 200
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert "Vraag 1: Hoe lang <i>bewaren</i> we?" in paragraphs  # plain text in Word


def test_export_keeps_the_rules_of_every_route(client):
    assert client.post(EXPORT_PATH, json=_body("md"), headers={"Origin": "https://evil.example"}).status_code == 403
    origin = {"Origin": "http://127.0.0.1:7860"}
    huge = client.post(
        EXPORT_PATH,
        content=b"[" + b" " * (EXPORT_MAX_BYTES + 10) + b"]",
        headers={**origin, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    bad = client.post(EXPORT_PATH, json={"format": "exe", "turns": []}, headers=origin)
    assert bad.status_code == 429 or bad.status_code == 422
    limited = client.post(EXPORT_PATH, json=_body("md"), headers=origin)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert client.get(EXPORT_PATH).status_code in (404, 405)


def test_export_needs_the_sign_on(tmp_path):
    settings = _settings(tmp_path, auth="header")
    app = mount(create_app(settings), NoAssistant(), settings)
    with TestClient(app, base_url="http://127.0.0.1:7860") as running:
        refused = running.post(EXPORT_PATH, json=_body("md"), headers={"Origin": "http://127.0.0.1:7860"})
    assert refused.status_code == 401


def test_feedback_notes_are_masked_and_an_older_store_gets_the_column(tmp_path):
    import sqlite3

    from assistant.web.feedback import Feedback, FeedbackStore

    path = tmp_path / "feedback.sqlite"
    old = sqlite3.connect(path)  # the table as it was before notes
    old.execute(
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,"
        " rating INTEGER NOT NULL, reason TEXT, mode TEXT NOT NULL, abstained INTEGER NOT NULL,"
        " question TEXT, answer TEXT NOT NULL, citations TEXT NOT NULL)"
    )
    old.execute("INSERT INTO feedback VALUES (1, 'x', 1, NULL, 'faq', 0, NULL, 'a', '[]')")
    old.commit()
    old.close()
    store = FeedbackStore(path)
    assert store.list()[0].note is None
    new = store.add(Feedback(rating=-1, answer="b", mode="extractive"))
    store.update(new, note="Mail jan.peeters@stad.be, tel 0470 12 34 56 ", question="Wat met Jan Peeters?")
    record = next(r for r in store.list() if r.id == new)
    assert "jan.peeters@stad.be" not in record.note and "0470" not in record.note and record.note.startswith("Mail")
    assert "Peeters" not in (record.question or "")


def test_a_pdf_source_opens_at_its_page_under_the_quoted_sentences(tmp_path):
    from docgen import markdown_pdf

    from assistant.web.urls import quote_url

    folder = tmp_path / "corpus"
    folder.mkdir()
    markdown_pdf(
        "# Reglement\n\n## Artikel 1\n\nDe cel vergadert minstens vier keer per jaar. Dat staat vast.\n",
        folder / "reglement.pdf",
    )
    settings = _settings(tmp_path, corpus_dir=str(folder))
    quoted = "De cel vergadert minstens vier keer per jaar.\nDit verzon iemand <script>alert(1)</script> erbij."
    url = quote_url(settings, "reglement.pdf", "artikel-1", quoted, 1)
    assert url.startswith("/documenten/reglement.pdf?citaat=") and url.endswith("&pagina=1")
    with TestClient(create_app(settings)) as http:
        page = http.get(url)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "frame-src 'self'" in page.headers["content-security-policy"]
        assert "<mark>De cel vergadert minstens vier keer per jaar.</mark>" in page.text
        assert "verzon" not in page.text and "alert" not in page.text  # only the PDF's own sentences
        assert 'src="/documenten/reglement.pdf#page=1"' in page.text
        assert http.get("/documenten/reglement.pdf").headers["content-type"] == "application/pdf"


def test_the_widget_offers_the_reasons_the_store_takes():
    from assistant.web.feedback import REASONS
    from assistant.web.static import read_text

    widget = read_text("widget.js")
    assert all(f'"{reason}"' in widget for reason in REASONS), REASONS
