"""Documents: Markdown files become sections along their heading tree, with stable anchors."""

from __future__ import annotations

import pytest
from helpers import CORPUS, FAQ, GUIDE

from assistant.core.documents import corpus_files, load_corpus, load_markdown, parse_markdown, slugify
from assistant.core.errors import DocumentError


@pytest.fixture(scope="module")
def corpus():
    documents, skipped = load_corpus(CORPUS)
    return {d.name: d for d in documents}, skipped


def section(document, heading):
    [found] = [s for s in document.sections if s.heading == heading]
    return found


# ---------------------------------------------------------------- the shipped corpus


def test_the_shipped_corpus_loads_both_documents_and_not_sources_md(corpus):
    documents, skipped = corpus
    assert set(documents) == {GUIDE, FAQ}
    assert skipped == []
    assert (CORPUS / "SOURCES.md").is_file()  # it is there, and it is not corpus


def test_a_section_knows_its_heading_path_from_the_chapter_down(corpus):
    mayor = section(corpus[0][GUIDE], "5.2 De burgemeester")
    assert mayor.path == ("5. Samenstelling en rollen", "5.2 De burgemeester")
    assert mayor.level == 3
    assert mayor.anchor == "52-de-burgemeester"
    assert mayor.kind == "guide" and mayor.question is None
    assert mayor.title.startswith("Draaiboek LIVC-R")
    assert mayor.text.startswith("De burgemeester richt de LIVC-R op, zit ze voor en voert de regie.")


def test_faq_entries_are_faq_sections_with_their_question_and_a_folded_anchor(corpus):
    entry = section(corpus[0][FAQ], "Vraag 40: Bestaat de LIVC-R ook in Brussel en Wallonië?")
    assert entry.kind == "faq"
    assert entry.question == "Bestaat de LIVC-R ook in Brussel en Wallonië?"
    assert entry.anchor == "vraag-40-bestaat-de-livc-r-ook-in-brussel-en-wallonie"
    assert entry.path == ("Vraag 40: Bestaat de LIVC-R ook in Brussel en Wallonië?",)


def test_every_numbered_question_of_the_faq_sheet_is_a_faq_section(corpus):
    faq = corpus[0][FAQ]
    questions = [line for line in faq.text.splitlines() if line.startswith("## Vraag ")]
    entries = [s for s in faq.sections if s.kind == "faq"]
    assert len(entries) == len(questions) > 30
    assert all(s.question and s.question.endswith("?") for s in entries)
    assert not any(s.kind == "faq" for s in corpus[0][GUIDE].sections)


def test_anchors_are_unique_within_a_document_and_stable_across_loads(corpus):
    for name, document in corpus[0].items():
        anchors = [s.anchor for s in document.sections]
        assert len(anchors) == len(set(anchors)), name
        assert anchors == [s.anchor for s in load_markdown(CORPUS / name).sections]


def test_section_offsets_slice_the_source_text_in_reading_order(corpus):
    for document in corpus[0].values():
        previous_end = 0
        for s in document.sections:
            piece = document.text[s.start : s.end]
            assert s.start >= previous_end
            assert piece.startswith("#" * s.level + " ")
            assert s.text in piece
            previous_end = s.end


@pytest.mark.parametrize(
    "heading, anchor",
    [
        ("5.2 De burgemeester", "52-de-burgemeester"),
        (
            "Vraag 40: Bestaat de LIVC-R ook in Brussel en Wallonië?",
            "vraag-40-bestaat-de-livc-r-ook-in-brussel-en-wallonie",
        ),
        ("De gemeentelijke LIVC-coördinator", "de-gemeentelijke-livc-coordinator"),
        ('Vraag 18: Wat is de "OCAD-lijst"?', "vraag-18-wat-is-de-ocad-lijst"),
        ("Foreign terrorist fighter (FTF)", "foreign-terrorist-fighter-ftf"),
    ],
)
def test_anchors_are_github_style_with_accents_folded(heading, anchor):
    assert slugify(heading) == anchor


# ---------------------------------------------------------------- parsing rules


def test_duplicate_headings_get_numbered_anchors():
    text = "# Gids\n\n## Opmerking\n\nEen.\n\n## Opmerking\n\nTwee.\n\n## Opmerking\n\nDrie.\n"
    anchors = [s.anchor for s in parse_markdown("gids.md", text) if s.heading == "Opmerking"]
    assert anchors == ["opmerking", "opmerking-1", "opmerking-2"]


def test_a_file_without_headings_is_one_section_titled_by_the_file_stem():
    text = "Dit is een korte nota. Ze heeft geen koppen.\n\nEen tweede alinea.\n"
    [only] = parse_markdown("losse-nota.md", text)
    assert (only.title, only.heading, only.path) == ("losse-nota", "losse-nota", ("losse-nota",))
    assert only.text == text.strip("\n")
    assert text[only.start : only.end].strip() == text.strip()


def test_text_before_the_first_heading_is_kept_under_the_document_title():
    text = "Een inleidende zin.\n\n# Titel\n\n## Deel\n\nInhoud.\n"
    sections = parse_markdown("doc.md", text)
    assert sections[0].text == "Een inleidende zin."
    assert sections[0].heading == "Titel"
    assert [s.heading for s in sections] == ["Titel", "Deel"]
    assert sections[1].path == ("Deel",)  # the document title is never part of a path


def test_headings_inside_code_fences_are_ignored():
    text = (
        "# Gids\n\n## Echt\n\nTekst.\n\n"
        "```bash\n# geen kop\n## ook geen kop\n```\n\n"
        "~~~\n### evenmin\n~~~\n\n"
        "```text\n~~~\n## nog steeds code\n```\n\n"
        "## Daarna\n\nMeer tekst.\n"
    )
    sections = parse_markdown("gids.md", text)
    assert [s.heading for s in sections] == ["Echt", "Daarna"]
    echt = next(s for s in sections if s.heading == "Echt")
    assert "# geen kop" in echt.text and "## nog steeds code" in echt.text


def test_heading_markup_and_closing_hashes_are_not_part_of_the_heading():
    sections = parse_markdown("gids.md", "# Gids\n\n## **Vet** en `code` ##\n\nTekst.\n")
    assert sections[-1].heading == "Vet en code"
    assert sections[-1].anchor == "vet-en-code"


# ---------------------------------------------------------------- loading files and folders


def test_crlf_and_a_byte_order_mark_parse_like_plain_lf(tmp_path):
    text = "# Gids\n\n## Deel 1\n\nTekst een.\n\n## Deel 2\n\nTekst twee.\n"
    (tmp_path / "lf.md").write_text(text, encoding="utf-8")
    (tmp_path / "crlf.md").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    lf, crlf = load_markdown(tmp_path / "lf.md"), load_markdown(tmp_path / "crlf.md")
    assert [(s.heading, s.path, s.anchor, s.text) for s in crlf.sections] == [
        (s.heading, s.path, s.anchor, s.text) for s in lf.sections
    ]


def test_load_corpus_skips_broken_and_unsupported_files_with_reasons_and_loads_the_rest(tmp_path):
    (tmp_path / "goed.md").write_text("# Goed\n\n## Deel\n\nDit is leesbaar.\n", encoding="utf-8")
    (tmp_path / "kapot.md").write_bytes(b"# Kapot\n\n\xff\xfe\xfa geen utf-8 \x81\n")
    (tmp_path / "leeg.md").write_text("  \n\n", encoding="utf-8")
    (tmp_path / "archief.zip").write_bytes(b"PK\x03\x04")
    (tmp_path / "SOURCES.md").write_text("# Bronnen\n\nWaar de feiten vandaan komen.\n", encoding="utf-8")
    (tmp_path / ".verborgen.md").write_text("# Verborgen\n\nTekst.\n", encoding="utf-8")

    documents, skipped = load_corpus(tmp_path)

    assert [d.name for d in documents] == ["goed.md"]
    reasons = dict(skipped)
    assert set(reasons) == {"kapot.md", "leeg.md", "archief.zip"}
    assert "UTF-8" in reasons["kapot.md"]
    assert "empty" in reasons["leeg.md"]
    assert "unsupported" in reasons["archief.zip"] and ".zip" in reasons["archief.zip"]
    assert all("\n" not in r for r in reasons.values())


def test_links_to_files_outside_the_corpus_folder_are_skipped_and_links_within_it_are_read_once(tmp_path):
    corpus, elsewhere = tmp_path / "corpus", tmp_path / "elders"
    corpus.mkdir()
    elsewhere.mkdir()
    (corpus / "gids.md").write_text("# Gids\n\n## Deel\n\nOpenbare tekst.\n", encoding="utf-8")
    (elsewhere / "geheim.md").write_text("# Geheim\n\n## Deel\n\nNiet voor de index.\n", encoding="utf-8")
    (corpus / "geheim.md").symlink_to(elsewhere / "geheim.md")  # absolute
    (corpus / "omweg.md").symlink_to("../elders/geheim.md")  # relative, out and back in elsewhere
    (corpus / "passwd.md").symlink_to("/etc/passwd")
    (corpus / "a-kopie.md").symlink_to("gids.md")  # stays within the folder; sorts before its file
    (corpus / "kring.md").symlink_to("kring.md")  # a loop: not a file at all
    (corpus / "bijlagen").mkdir()
    (corpus / "bijlagen" / "bijlage.md").write_text("# Bijlage\n\n## Deel\n\nEen bijlage.\n", encoding="utf-8")
    (corpus / "bijlage.md").symlink_to("bijlagen/bijlage.md")  # the only entry for that file
    (corpus / "zelfde.md").hardlink_to(corpus / "bijlagen" / "bijlage.md")  # the same file, another name

    files, skipped = corpus_files(corpus)
    documents, _ = load_corpus(corpus)

    assert [p.name for p in files] == ["gids.md", "zelfde.md"]  # each real file once, a file before a link to it
    assert dict(skipped) == {
        **{name: "a link to a file outside the corpus folder" for name in ("geheim.md", "omweg.md", "passwd.md")},
        "a-kopie.md": "the same file as gids.md, which is indexed",
        "bijlage.md": "the same file as zelfde.md, which is indexed",
    }
    assert [d.name for d in documents] == ["gids.md", "zelfde.md"]
    assert not any("Niet voor de index" in d.text or "root:" in d.text for d in documents)


def test_a_missing_corpus_folder_raises_document_error(tmp_path):
    with pytest.raises(DocumentError, match="not found"):
        load_corpus(tmp_path / "bestaat-niet")


def test_load_markdown_on_non_utf8_raises_document_error_naming_the_file(tmp_path):
    path = tmp_path / "oud.md"
    path.write_bytes("# Oud\n\nCoördinator in latin-1.\n".encode("latin-1"))
    with pytest.raises(DocumentError, match="oud.md"):
        load_markdown(path)


def test_document_hash_follows_the_bytes(tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("# Doc\n\nEen.\n", encoding="utf-8")
    first = load_markdown(path).sha256
    assert load_markdown(path).sha256 == first
    path.write_text("# Doc\n\nTwee.\n", encoding="utf-8")
    assert load_markdown(path).sha256 != first


def test_sections_have_no_empty_body_except_faq_entries(tmp_path):
    text = "# Gids\n\n## 1. Hoofdstuk\n\n### 1.1 Deel\n\nInhoud.\n"
    sections = parse_markdown("gids.md", text)
    assert [s.heading for s in sections] == ["1.1 Deel"]
    assert sections[0].path == ("1. Hoofdstuk", "1.1 Deel")


HUGE_TITLE = "Reglement " + "over de cel en haar werking " * 6000  # about 160 kB
HUGE_HEADING = "Samenstelling " + "van de cel " * 450  # about 5 kB


def huge_headings_markdown() -> str:
    return (
        f"# {HUGE_TITLE}\n\n## 1. {HUGE_HEADING}\n\nDe burgemeester zit de cel voor. Hij nodigt de partners uit.\n\n"
        f"### 1.1 {HUGE_HEADING}\n\nDe korpschef neemt deel aan elke bespreking van de cel.\n"
    )


def test_a_huge_title_and_headings_are_cut_short_where_they_are_embedded_and_returned(tmp_path):
    from assistant.core.chunking import chunk_sections
    from assistant.core.documents import MAX_HEADING_CHARS
    from assistant.core.index import sentence_windows

    path = tmp_path / "reglement.md"
    path.write_text(huge_headings_markdown(), encoding="utf-8")
    document = load_markdown(path)
    assert len(document.title) <= MAX_HEADING_CHARS and document.title.endswith("…")
    assert document.title.startswith("Reglement over de cel en haar werking")
    for section in document.sections:
        assert len(section.title) <= MAX_HEADING_CHARS and len(section.heading) <= MAX_HEADING_CHARS
        assert all(len(h) <= MAX_HEADING_CHARS for h in section.path) and len(section.anchor) <= MAX_HEADING_CHARS
    assert document.sections[-1].heading.startswith("1.1 Samenstelling van de cel")
    passages = chunk_sections(list(document.sections), 160)
    assert [p.text for p in passages] == [
        "De burgemeester zit de cel voor. Hij nodigt de partners uit.",
        "De korpschef neemt deel aan elke bespreking van de cel.",
    ]
    assert all(len(p.embed_text) < 800 and len(p.title) <= MAX_HEADING_CHARS for p in passages)
    assert all(len(text) < 800 for _, _, text in sentence_windows(passages))
    assert HUGE_TITLE in document.text  # the viewer still shows the document as it is


def test_a_document_with_huge_headings_builds_quickly_and_searches_small(small_corpus, embedder):
    import json

    from assistant.core.assistant import Assistant
    from assistant.core.index import build_index

    (small_corpus.corpus_dir / "reglement.md").write_text(huge_headings_markdown(), encoding="utf-8")
    report = build_index(small_corpus.settings, embedder, progress=False)
    entry = next(d for d in report.manifest.documents if d["name"] == "reglement.md")
    assert len(entry["title"]) <= 200
    hits = Assistant.open(small_corpus.settings, embedder=embedder).search("Wie zit de cel voor?")
    assert any(h.passage.doc == "reglement.md" for h in hits)
    reply = json.dumps([h.passage.to_dict() for h in hits], ensure_ascii=False)
    assert len(reply) < 30_000, len(reply)
