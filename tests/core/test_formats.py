"""The official formats: PDF, DOCX and HTML become sections and passages as precise as Markdown's.

Fixtures are generated here (tests/docgen.py), never committed: the shipped draaiboek
and Q&A sheet laid out as multi-page PDFs (running header, "Pagina N van M" footer,
numbered headings in bold, bold lead-ins, lists, words hyphenated at line ends), a Word
regulation, an intranet page, and a battery of broken files. Real parsers throughout
(pypdf, python-docx, html.parser).
"""

from __future__ import annotations

import json
import re
import shutil
import time

import docgen
import pytest
from fastapi.testclient import TestClient
from helpers import CORPUS, FAQ, GUIDE, ROOT, settings_for

from assistant.core.assistant import Assistant
from assistant.core.chunking import chunk_sections, section_units
from assistant.core.documents import load_corpus, load_document, parse_markdown
from assistant.core.index import build_index
from assistant.web.app import create_app
from assistant.web.urls import document_url


def squash(text: str) -> str:
    """Text without whitespace or Markdown bold markers, for comparing layouts."""
    return re.sub(r"\s+", "", text.replace("**", ""))


def units_of(markdown_section) -> list[str]:
    """The sentences and list items of a Markdown section, markers off; table rows left out
    (the PDF draws them as plain lines)."""
    return [re.sub(r"^([-*]|\d+\.)\s+", "", u) for u in section_units(markdown_section.text) if not u.startswith("|")]


@pytest.fixture(scope="module")
def guide_pdf(tmp_path_factory):
    """The draaiboek as a 30-page PDF, its layout, the loaded document and the Markdown sections."""
    folder = tmp_path_factory.mktemp("guide-pdf")
    path = folder / "draaiboek-livc-r.pdf"
    markdown = (CORPUS / GUIDE).read_text(encoding="utf-8")
    layout = docgen.markdown_pdf(markdown, path)
    return layout, load_document(path), parse_markdown(GUIDE, markdown)


@pytest.fixture(scope="module")
def faq_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("faq-pdf") / "vraag-en-antwoord-livc-r.pdf"
    markdown = (CORPUS / FAQ).read_text(encoding="utf-8")
    layout = docgen.markdown_pdf(markdown, path, title="Vraag en antwoord LIVC-R", header="Vraag en antwoord — LIVC-R")
    return layout, load_document(path), parse_markdown(FAQ, markdown)


# ---------------------------------------------------------------- PDF: structure and pages


def test_a_pdf_gets_the_heading_tree_of_its_source_with_the_page_of_each_heading(guide_pdf):
    layout, document, markdown = guide_pdf
    assert layout.pages >= 25 and document.pages == layout.pages and document.format == "pdf"
    assert [(s.heading, s.path, s.anchor, s.kind) for s in document.sections] == [
        (s.heading, s.path, s.anchor, s.kind) for s in markdown
    ]
    assert all(s.page == layout.headings[s.heading] for s in document.sections)
    mayor = next(s for s in document.sections if s.heading == "5.2 De burgemeester")
    assert mayor.path == ("5. Samenstelling en rollen", "5.2 De burgemeester") and mayor.level == 3
    # A heading that ends on an abbreviation is still a heading; glossary terms (no number)
    # are headings by their type.
    assert "4.4 De plaats van de LIVC-R in de Strategie T.E.R." in layout.headings
    glossary = [s for s in document.sections if s.path[0] == "11. Begrippenlijst" and len(s.path) == 2]
    assert len(glossary) > 20 and all(s.level == 3 for s in glossary)


def test_the_title_comes_from_the_first_heading_or_the_metadata(guide_pdf, faq_pdf):
    assert guide_pdf[1].title.startswith("Draaiboek LIVC-R: de lokale integrale veiligheidscel")  # no metadata title
    assert faq_pdf[1].title == "Vraag en antwoord LIVC-R"  # the PDF's own title


def test_every_sentence_and_list_item_of_the_guide_survives_in_its_section(guide_pdf):
    """Hyphenation mended, bold lead-ins and list numbers kept: the text is the source's."""
    _, document, markdown = guide_pdf
    sections = {s.heading: squash(s.text) for s in document.sections}
    missing = [(s.heading, u) for s in markdown for u in units_of(s) if squash(u) not in sections[s.heading]]
    assert missing == []
    assert sum(len(units_of(s)) for s in markdown) > 500


def test_running_headers_footers_and_page_numbers_are_dropped(guide_pdf):
    layout, document, _ = guide_pdf
    for s in document.sections:
        assert docgen.HEADER not in s.text and docgen.HEADER not in s.heading
        assert not re.search(r"Pagina \d+ van \d+", s.text)
    assert "Pagina 3 van" not in document.text


def test_words_hyphenated_at_a_line_end_are_whole_again(guide_pdf):
    layout, document, _ = guide_pdf
    assert len(layout.hyphenated) > 50
    text = document.text
    for word in layout.hyphenated:
        word = word.strip(".,;:")
        assert re.search(rf"(?<![\w-]){re.escape(word)}(?![\w])", text), word
    # Compounds broken at their own hyphen keep it ("LIVC-" + "R" is "LIVC-R").
    assert "LIVC-R" in layout.hyphenated and "LIVC- R" not in text and "LIVCR" not in text


def test_numbered_lists_keep_their_numbers_and_bold_lead_ins_stay_text(guide_pdf):
    _, document, _ = guide_pdf
    article = next(s for s in document.sections if s.heading.startswith("2.3 Artikel 458ter"))
    lines = article.text.splitlines()
    assert any(line.startswith("1. Een rechtsbasis. Er is een wet") for line in lines)
    assert any(line.startswith("5. Beperkt gebruik.") for line in lines)
    units = section_units(article.text)
    assert [u[:2] for u in units if re.match(r"\d\. ", u)] == ["1.", "2.", "3.", "4.", "5."]


def page_texts(layout) -> dict[int, str]:
    pages: dict[int, str] = {}
    for page, line in layout.lines:
        pages[page] = pages.get(page, "") + squash(line.removesuffix("-") if line.endswith("-") else line)
    return pages


def starts_on(piece: str, pages: dict[int, str], page: int) -> bool:
    """`piece` begins on `page` (it may run on to the next one)."""
    here = pages[page]
    return 0 <= (here + pages.get(page + 1, "")).find(piece) < len(here)


def ends_on(piece: str, pages: dict[int, str], page: int) -> bool:
    """`piece` ends on `page` (it may begin on the page before)."""
    before = pages.get(page - 1, "")
    at = (before + pages[page]).rfind(piece)
    return at >= 0 and at + len(piece) > len(before)


def test_every_passage_knows_the_pages_it_runs_over(guide_pdf):
    layout, document, _ = guide_pdf
    passages = chunk_sections(list(document.sections))
    pages = page_texts(layout)
    spanning = 0
    for p in passages:
        assert p.page is not None and p.page <= p.page_end
        first = squash(re.sub(r"^([-*]|\d+\.)\s+", "", p.sentences[0]))[:40]
        last = squash(p.sentences[-1])[-40:]
        assert starts_on(first, pages, p.page), (p.section, p.page)
        assert ends_on(last, pages, p.page_end), (p.section, p.page_end)
        spanning += p.page_end > p.page
    assert spanning >= 5  # passages that run onto the next page say so


def test_a_qa_pdf_has_one_faq_passage_per_question(faq_pdf):
    layout, document, markdown = faq_pdf
    entries = [s for s in document.sections if s.kind == "faq"]
    assert [(s.question, s.anchor) for s in entries] == [(s.question, s.anchor) for s in markdown if s.kind == "faq"]
    assert len(entries) > 30
    passages = [p for p in chunk_sections(list(document.sections)) if p.kind == "faq"]
    assert len(passages) == len(entries)
    assert all(p.page == layout.headings[p.section] or p.page == layout.headings[p.section] + 1 for p in passages)


def test_a_plain_pdf_gets_its_headings_from_numbering_alone(tmp_path):
    """One font, one size: numbered lines are headings only when their number follows
    the previous heading's; a numbered list under a heading stays a list."""
    body = 10.5
    path = tmp_path / "plain.pdf"
    docgen.simple_pdf(
        path,
        [
            [
                ("1. Inleiding", body, False),
                ("Deze nota beschrijft de werking van de cel.", body, False),
                ("2. Werking", body, False),
                ("De cel volgt drie stappen:", body, False),
                ("1. de aanmelding door een partner;", body, False),
                ("2. de bespreking in de cel.", body, False),
                ("2.1 Verslag", body, False),
                ("Het verslag volgt binnen de week.", body, False),
                ("3. Slot", body, False),
                ("De nota treedt meteen in werking.", body, False),
            ]
        ],
    )
    document = load_document(path)
    assert [s.path for s in document.sections] == [
        ("1. Inleiding",),
        ("2. Werking",),
        ("2. Werking", "2.1 Verslag"),
        ("3. Slot",),
    ]
    werking = document.sections[1]
    assert "1. de aanmelding door een partner;" in werking.text.splitlines()


def test_keyword_and_capital_headings_in_a_regulation(tmp_path):
    path = tmp_path / "reglement.pdf"
    docgen.simple_pdf(
        path,
        [
            [
                ("Huishoudelijk reglement", 18, True),
                ("HOOFDSTUK 1 – SAMENSTELLING", 10.5, False),
                ("De cel bestaat uit vaste leden.", 10.5, False),
                ("Artikel 1. Vaste leden", 11.5, True),
                ("De burgemeester zit de cel voor.", 10.5, False),
                ("Artikel 2. Leden op uitnodiging", 11.5, True),
                ("De burgemeester nodigt partners uit.", 10.5, False),
                ("HOOFDSTUK 2 – WERKING", 10.5, False),
                ("De cel vergadert maandelijks.", 10.5, False),
            ]
        ],
    )
    document = load_document(path)
    assert document.title == "Huishoudelijk reglement"
    assert [s.path for s in document.sections] == [
        ("HOOFDSTUK 1 – SAMENSTELLING",),
        ("HOOFDSTUK 1 – SAMENSTELLING", "Artikel 1. Vaste leden"),
        ("HOOFDSTUK 1 – SAMENSTELLING", "Artikel 2. Leden op uitnodiging"),
        ("HOOFDSTUK 2 – WERKING",),
    ]


def test_bold_questions_in_a_pdf_become_faq_entries(tmp_path):
    path = tmp_path / "faq.pdf"
    docgen.simple_pdf(
        path,
        [
            [
                ("Veelgestelde vragen over de cel", 18, True),
                ("Mag ik als leerkracht deelnemen?", 10.5, True),
                ("Ja, op uitnodiging van de burgemeester.", 10.5, False),
                ("Wordt de politie altijd ingelicht over wat ik vertel?", 10.5, True),
                ("Nee, alleen wat nodig is voor de veiligheid.", 10.5, False),
                ("Krijg ik een verslag?", 10.5, True),
                ("U ontvangt een beknopt verslag.", 10.5, False),
            ]
        ],
        title="Veelgestelde vragen",
    )
    document = load_document(path)
    assert document.title == "Veelgestelde vragen"
    entries = [s for s in document.sections if s.kind == "faq"]
    assert [s.question for s in entries] == [
        "Mag ik als leerkracht deelnemen?",
        "Wordt de politie altijd ingelicht over wat ik vertel?",
        "Krijg ik een verslag?",
    ]
    assert [p.text for p in chunk_sections(entries)] == [
        "Ja, op uitnodiging van de burgemeester.",
        "Nee, alleen wat nodig is voor de veiligheid.",
        "U ontvangt een beknopt verslag.",
    ]


# ---------------------------------------------------------------- DOCX


@pytest.fixture(scope="module")
def regulation(tmp_path_factory):
    path = tmp_path_factory.mktemp("docx") / "Huishoudelijk reglement Sint-Niklaas é.docx"
    docgen.sample_docx(path)
    return load_document(path)


def test_a_word_file_gets_its_tree_from_heading_styles(regulation):
    assert regulation.format == "docx"
    assert regulation.title == "Huishoudelijk reglement LIVC-R Sint-Niklaas"
    assert regulation.date == "2024-03-15"
    assert [s.path for s in regulation.sections if s.kind == "guide"] == [
        ("Hoofdstuk 1. Samenstelling",),
        ("Hoofdstuk 1. Samenstelling", "Vaste leden"),
        ("Hoofdstuk 1. Samenstelling", "Contactpersonen"),
        ("Hoofdstuk 2. Werking",),
    ]


def test_word_lists_keep_their_numbers_and_bullets(regulation):
    members = next(s for s in regulation.sections if s.heading == "Vaste leden")
    assert members.text.splitlines() == [
        "1. de burgemeester of zijn vertegenwoordiger;",
        "2. de korpschef van de politiezone Waasland-Noord;",
        "3. de LIVC-coördinator van de stad.",
    ]
    work = next(s for s in regulation.sections if s.heading == "Hoofdstuk 2. Werking")
    assert "- dossiers voorbereiden" in work.text.splitlines()


def test_a_word_table_becomes_rows_that_stay_with_their_heading(regulation):
    contacts = next(s for s in regulation.sections if s.heading == "Contactpersonen")
    [passage] = chunk_sections([contacts])
    assert "| Politie | Jan Claes | 03 760 91 11 |" in passage.sentences
    assert passage.sentences[0] == "De volgende tabel geeft de contactpersonen per dienst."
    assert passage.section_path == ["Hoofdstuk 1. Samenstelling", "Contactpersonen"]


def test_bold_questions_in_word_are_one_faq_passage_each(regulation):
    entries = [s for s in regulation.sections if s.kind == "faq"]
    assert [s.question for s in entries] == [
        "Wie mag het verslag inkijken?",
        "Hoe lang bewaren we de verslagen?",
        "Wat als een lid verhinderd is?",
    ]
    assert all(s.path[0] == "Hoofdstuk 3. Vragen en antwoorden" for s in entries)
    passages = chunk_sections(entries)
    assert [p.kind for p in passages] == ["faq"] * 3


# ---------------------------------------------------------------- HTML


@pytest.fixture(scope="module")
def intranet(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "intranet pagina.html"
    docgen.sample_html(path)
    return load_document(path)


def test_a_web_page_drops_navigation_scripts_styles_and_site_furniture(intranet):
    text = intranet.text
    for gone in (
        "Home",
        "Nieuws",
        "Menu-item",
        "tracking",
        "document.write",
        "console.log",
        "font-family",
        "display: none",
        "Privacy",
        "© Stad",
    ):
        assert gone not in text, gone
    assert intranet.title == "LIVC-R in onze stad" and intranet.date == "2024-02-01"


def test_a_web_page_gets_its_tree_lists_and_tables(intranet):
    assert [s.path for s in intranet.sections if s.kind == "guide"] == [
        ("LIVC-R in onze stad",),
        ("Wie zit er aan tafel?",),
        ("Contact",),
    ]
    partners = next(s for s in intranet.sections if s.heading == "Wie zit er aan tafel?")
    assert partners.text.splitlines()[-3:] == ["1. het OCMW;", "2. het CLB;", "3. de jeugddienst."]
    contact = next(s for s in intranet.sections if s.heading == "Contact")
    assert "| Preventie | preventie@stad.be |" in section_units(contact.text)
    entries = [s for s in intranet.sections if s.kind == "faq"]
    assert [s.question for s in entries] == [
        "Mag ik als leerkracht deelnemen?",
        "Wordt de politie altijd ingelicht?",
        "Krijg ik een verslag?",
    ]


def test_a_page_without_main_drops_header_footer_and_decodes_windows_1252(tmp_path):
    page = (
        "<html><head><meta charset='windows-1252'><title>Nota</title></head><body>"
        "<header>Stad Voorbeeld — intranet</header><nav>Menu</nav>"
        "<h1>Nota over de coördinator</h1><p>De coördinator bereidt de vergadering voor.</p>"
        "<p><b>Wie betaalt de opleiding?</b></p><p>De stad.</p>"
        "<p><strong>Wie kiest de coördinator?</strong></p><p>De burgemeester.</p>"
        "<footer>Contact</footer></body></html>"
    )
    path = tmp_path / "nota.htm"
    path.write_bytes(page.encode("cp1252"))
    document = load_document(path)
    assert document.title == "Nota over de coördinator"
    assert "Stad Voorbeeld" not in document.text and "Menu" not in document.text and "Contact" not in document.text
    assert [s.question for s in document.sections if s.kind == "faq"] == [
        "Wie betaalt de opleiding?",
        "Wie kiest de coördinator?",
    ]


# ---------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory):
    """One folder with every kind of trouble, and a few good files among them."""
    folder = tmp_path_factory.mktemp("bad-corpus")
    docgen.simple_pdf(
        folder / "goed.pdf",
        [[("Goede nota", 18, True), ("1. Doel", 13, True), ("De cel vergadert maandelijks.", 10.5, False)]],
    )
    docgen.simple_pdf(folder / "met wachtwoord.pdf", [[("Geheim", 12, False)]], encrypt=docgen.encryption("geheim"))
    docgen.simple_pdf(
        folder / "alleen eigenaar.pdf",
        [[("Beveiligd tegen kopiëren", 18, True), ("Deze tekst mag gelezen worden.", 10.5, False)]],
        encrypt=docgen.encryption("", "eigenaar"),
    )
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    (folder / "geen-pdf.pdf").write_bytes(b"<html>dit is een webpagina met een verkeerde naam</html>")
    whole = (folder / "goed.pdf").read_bytes()
    (folder / "afgebroken.pdf").write_bytes(whole[: len(whole) // 2])
    docgen.scanned_pdf(folder / "scan.pdf")
    (folder / "leeg.pdf").write_bytes(b"")
    (folder / "leeg.docx").write_bytes(b"")
    docgen.zero_page_pdf(folder / "nul paginas.pdf")
    docgen.long_pdf(folder / "reglement 300.pdf", 300)
    docgen.not_a_docx(folder / "vermomde zip.docx")
    (folder / "oud.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    (folder / "foto.png").write_bytes(b"\x89PNG\r\n")
    (folder / "script.html").write_text(
        "<html><body><script>alert('weg')</script><h1>Pagina</h1>"
        "<p>Alleen deze zin telt.</p><style>p{}</style></body></html>",
        encoding="utf-8",
    )
    (folder / "Nota coördinatie Sint-Niklaas.md").write_text(
        "# Nota coördinatie\n\n## Deel\n\nDe coördinator belt.\n", encoding="utf-8"
    )
    started = time.perf_counter()
    documents, skipped = load_corpus(folder)
    return folder, {d.name: d for d in documents}, dict(skipped), time.perf_counter() - started


def test_bad_files_are_skipped_with_a_clear_reason_and_the_rest_is_indexed(bad_corpus):
    _, documents, skipped, _ = bad_corpus
    assert set(documents) >= {
        "goed.pdf",
        "alleen eigenaar.pdf",
        "reglement 300.pdf",
        "script.html",
        "Nota coördinatie Sint-Niklaas.md",
    }
    assert "encrypted" in skipped["met wachtwoord.pdf"] and "password" in skipped["met wachtwoord.pdf"]
    assert "damaged" in skipped["kapot.pdf"]
    assert "not a PDF" in skipped["geen-pdf.pdf"]
    assert "OCR" in skipped["scan.pdf"]
    assert skipped["leeg.pdf"] == skipped["leeg.docx"] == "the file is empty"
    assert "no pages" in skipped["nul paginas.pdf"]
    assert "not a Word document" in skipped["vermomde zip.docx"]
    assert "unsupported" in skipped["oud.doc"] and ".docx" in skipped["oud.doc"]
    assert "unsupported file type .png" in skipped["foto.png"]
    # A truncated PDF is either read as far as it goes or skipped as damaged; never a crash.
    assert "afgebroken.pdf" in documents or "damaged" in skipped["afgebroken.pdf"]
    assert all("\n" not in reason for reason in skipped.values())


def test_an_owner_password_alone_does_not_stop_reading(bad_corpus):
    document = bad_corpus[1]["alleen eigenaar.pdf"]
    assert "Deze tekst mag gelezen worden." in document.text


def test_a_300_page_pdf_is_read_whole_with_every_article_on_its_page(bad_corpus):
    document = bad_corpus[1]["reglement 300.pdf"]
    articles = [s for s in document.sections if s.heading.startswith("Artikel ")]
    assert document.pages == 300 and len(articles) == 600
    assert [s.page for s in articles] == [(k + 1) // 2 for k in range(1, 601)]
    assert articles[122].heading == "Artikel 123. Bepaling nummer 123" and articles[122].page == 62
    assert "de cel bespreekt dossier 1232 in beslotenheid" in articles[122].text
    assert "Huishoudelijk reglement LIVC-R Voorbeeldstad" not in document.text  # the running header


def test_scripts_never_reach_the_text(bad_corpus):
    page = bad_corpus[1]["script.html"]
    assert "alert" not in page.text and "p{}" not in page.text
    assert page.sections[0].text == "Alleen deze zin telt."


# ---------------------------------------------------------------- the viewer


def test_the_viewer_serves_corpus_pdfs_and_links_open_them_at_the_page(bad_corpus, tmp_path):
    folder = bad_corpus[0]
    settings = settings_for(folder, tmp_path / "index")
    client = TestClient(create_app(settings))
    url = document_url(settings, "reglement 300.pdf", "artikel-123", 123)
    assert url == "/documenten/reglement%20300.pdf#page=123"
    response = client.get(url.split("#")[0])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.content == (folder / "reglement 300.pdf").read_bytes()
    for name in ("bestaat-niet.pdf", "..%2Fpyproject.toml", "foto.png"):
        assert client.get(f"/documenten/{name}").status_code == 404
    # A Word or HTML document is shown as clean HTML with the section anchors.
    page = client.get("/documenten/Nota%20co%C3%B6rdinatie%20Sint-Niklaas.md")
    assert page.status_code == 200 and 'id="deel"' in page.text


# ---------------------------------------------------------------- a PDF-only corpus answers with pages


GOLD_ON_PDF = ["dev-004", "dev-013", "dev-020", "dev-033", "dev-034"]  # several cite passages over two pages


@pytest.fixture(scope="module")
def pdf_only(tmp_path_factory, corpus_index, embedder):
    """A full index of a corpus that holds only the draaiboek, as PDF: the suite's one extra
    full build. Its embedding cache starts as a copy of the session index's, so sentences
    the PDF shares with the Markdown are not embedded twice."""
    base = tmp_path_factory.mktemp("pdf-only")
    (base / "corpus").mkdir()
    layout = docgen.markdown_pdf((CORPUS / GUIDE).read_text(encoding="utf-8"), base / "corpus" / "draaiboek-livc-r.pdf")
    (base / "index").mkdir()
    shutil.copyfile(corpus_index.settings.index_dir / "embed-cache.sqlite", base / "index" / "embed-cache.sqlite")
    settings = settings_for(base / "corpus", base / "index")
    report = build_index(settings, embedder, progress=False)
    assert report.manifest.documents[0]["pages"] == layout.pages
    return layout, Assistant.open(settings, embedder=embedder), settings


@pytest.mark.corpus
@pytest.mark.parametrize("row_id", GOLD_ON_PDF)
def test_a_gold_question_on_the_pdf_only_corpus_cites_the_right_section_and_page(pdf_only, row_id):
    layout, assistant, settings = pdf_only
    rows = [json.loads(line) for line in (ROOT / "eval" / "gold-dev.jsonl").read_text(encoding="utf-8").splitlines()]
    row = next(r for r in rows if r["id"] == row_id)
    answer = assistant.ask(row["question"])
    assert not answer.abstained and answer.citations
    first = answer.citations[0]
    p = first.passage
    assert (p.doc, p.section) == ("draaiboek-livc-r.pdf", row["source_section"])
    quoted = re.sub(r"^([-*]|\d+\.)\s+", "", first.quote.splitlines()[0])
    assert p.page <= layout.page_of(quoted) <= p.page_end
    assert any(fact.lower() in answer.text.lower() for fact in row["must_contain"])
    assert p.page <= p.page_end and len(p.doc_sha256) == 64
    assert document_url(settings, p.doc, p.anchor, p.page) == f"/documenten/draaiboek-livc-r.pdf#page={p.page}"
