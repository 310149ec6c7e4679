"""Chunking: sections become passages of whole, verbatim sentences; a FAQ entry is one passage."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest
from helpers import CORPUS, FAQ, GUIDE, PYTHON, ROOT, cli_env, normalise, unquote

from assistant.core.chunking import chunk_sections, is_line, section_units, split_sentences
from assistant.core.documents import load_corpus, parse_markdown


@pytest.fixture(scope="module")
def documents():
    return {d.name: d for d in load_corpus(CORPUS)[0]}


@pytest.fixture(scope="module")
def passages(documents):
    return {name: chunk_sections(list(d.sections), 120) for name, d in documents.items()}


# ---------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Volgens art. 458ter Sw. mag dat. Dat geldt o.a. voor het CLB.",
            ["Volgens art. 458ter Sw. mag dat.", "Dat geldt o.a. voor het CLB."],
        ),
        (
            "Lees bv. Vraag 7 van de fiche. Ze geldt ook voor o.a. CLB-medewerkers.",
            ["Lees bv. Vraag 7 van de fiche.", "Ze geldt ook voor o.a. CLB-medewerkers."],
        ),
        (
            "Dat staat in omzendbrief nr. 2 van 2018. Het decreet volgt later.",
            ["Dat staat in omzendbrief nr. 2 van 2018.", "Het decreet volgt later."],
        ),
        (
            "Zie art. 458ter, § 2, van het Strafwetboek. Het geldt sinds 2017.",
            ["Zie art. 458ter, § 2, van het Strafwetboek.", "Het geldt sinds 2017."],
        ),
        (
            "Minister J. Jambon en K. Geens tekenden de omzendbrief. Die kwam in 2018.",
            ["Minister J. Jambon en K. Geens tekenden de omzendbrief.", "Die kwam in 2018."],
        ),
        (
            'Moet dat? Ja. 24 september 2018 is de datum! "Geheim" is het niveau.',
            ["Moet dat?", "Ja.", "24 september 2018 is de datum!", '"Geheim" is het niveau.'],
        ),
        (
            "Het decreet (B.S. 2 juli 2021) regelt dat. Het is 3.5 keer zo lang.",
            ["Het decreet (B.S. 2 juli 2021) regelt dat.", "Het is 3.5 keer zo lang."],
        ),
    ],
)
def test_dutch_sentence_splitting_survives_abbreviations_initials_and_paragraph_signs(text, expected):
    assert split_sentences(text) == expected


def test_each_split_sentence_is_a_verbatim_substring_in_order(documents):
    for document in documents.values():
        for s in document.sections:
            for paragraph in s.text.split("\n\n"):
                pos = 0
                for sentence in split_sentences(paragraph):
                    found = paragraph.find(sentence, pos)
                    assert found >= 0, sentence
                    pos = found + len(sentence)


def test_list_items_and_table_rows_are_whole_units_and_table_rules_are_dropped():
    text = textwrap.dedent("""\
        De cel bestaat minstens uit:

        1. de burgemeester;
        2. de korpschef.

        | Wie | Rol |
        |-----|-----|
        | Burgemeester | Voorzitter. Regie. |
        """)
    assert section_units(text) == [
        "De cel bestaat minstens uit:",
        "1. de burgemeester;",
        "2. de korpschef.",
        "| Wie | Rol |",
        "| Burgemeester | Voorzitter. Regie. |",
    ]


@pytest.mark.parametrize(
    "unit, line",
    [
        ("- de burgemeester;", True),
        ("* de korpschef;", True),
        ("2. de korpschef.", True),
        ("| 2015 | De omzendbrief. |", True),
        ("**De omzendbrief van 21 augustus 2015.** De ministers vaardigden ze uit.", False),
        ("*Heeft de tafel deze informatie nodig?*", False),
        ("2016 was het jaar van de gegevensbank.", False),
    ],
)
def test_list_items_and_table_rows_are_lines_and_a_bold_run_in_label_is_running_text(unit, line):
    assert is_line(unit) is line


# ---------------------------------------------------------------- passages of the shipped corpus


def test_every_passage_sentence_appears_verbatim_in_its_own_section(documents, passages):
    for name, document in documents.items():
        sections = {s.anchor: s for s in document.sections}
        for p in passages[name]:
            source = sections[p.anchor]
            assert (p.doc, p.section, p.section_path, p.kind) == (name, source.heading, list(source.path), source.kind)
            for sentence in p.sentences:
                assert normalise(sentence) in normalise(unquote(source.text)), (p.section, sentence)


def test_passages_never_cross_a_section_and_lose_nothing(documents, passages):
    for name, document in documents.items():
        for s in document.sections:
            units = [u for p in passages[name] if p.anchor == s.anchor for u in p.sentences]
            assert units == section_units(s.text), s.heading


def test_every_faq_entry_is_exactly_one_passage_with_its_question(documents, passages):
    entries = [s for s in documents[FAQ].sections if s.kind == "faq"]
    faq_passages = [p for p in passages[FAQ] if p.kind == "faq"]
    assert len(faq_passages) == len(entries) > 30
    by_anchor = {p.anchor: p for p in faq_passages}
    for entry in entries:
        p = by_anchor[entry.anchor]
        assert p.question == entry.question
        assert normalise(p.text) == normalise(entry.text)


def test_a_long_faq_entry_stays_one_passage_whatever_the_chunk_size():
    answer = " ".join(f"Dit is zin {i} van een lang antwoord over de cel." for i in range(40))
    sections = parse_markdown("faq.md", f"# Vragen\n\n## Vraag 1: Is dit lang?\n\n{answer}\n")
    [p] = chunk_sections(sections, chunk_words=20)
    assert p.kind == "faq" and p.question == "Is dit lang?" and len(p.sentences) == 40


def test_embed_text_carries_the_heading_path_and_text_does_not(passages):
    mayor = [p for p in passages[GUIDE] if p.section == "5.2 De burgemeester"]
    assert mayor
    for p in mayor:
        assert p.section_path == ["5. Samenstelling en rollen", "5.2 De burgemeester"]
        assert "5.2 De burgemeester" in p.embed_text and "5. Samenstelling en rollen" in p.embed_text
        assert p.text in p.embed_text
        assert "5.2 De burgemeester" not in p.text and "Samenstelling en rollen" not in p.text
    for p in passages[GUIDE] + passages[FAQ]:
        assert not any(line.lstrip().startswith("#") for line in p.text.splitlines())
        assert p.embed_text.startswith(" › ".join(p.section_path))


def test_passage_ids_are_unique_and_stable_across_processes(passages):
    ours = [p.id for name in (GUIDE, FAQ) for p in passages[name]]
    assert len(ours) == len(set(ours))
    script = (
        "import json; from pathlib import Path; from assistant.core.documents import load_corpus; "
        "from assistant.core.chunking import chunk_sections; "
        f"docs = {{d.name: d for d in load_corpus(Path({str(CORPUS)!r}))[0]}}; "
        f"print(json.dumps([p.id for n in ({GUIDE!r}, {FAQ!r}) for p in chunk_sections(list(docs[n].sections), 120)]))"
    )
    for seed in ("1", "12345"):
        env = {**cli_env(), "PYTHONHASHSEED": seed}
        out = subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        assert json.loads(out.stdout) == ours


def test_an_edit_changes_only_the_ids_of_the_passages_it_touches():
    text = "# Gids\n\n## Een\n\nDe eerste sectie.\n\n## Twee\n\nDe tweede sectie.\n"
    before = chunk_sections(parse_markdown("gids.md", text))
    after = chunk_sections(parse_markdown("gids.md", text.replace("De tweede", "Een aangepaste tweede")))
    assert before[0].id == after[0].id
    assert before[1].id != after[1].id


# ---------------------------------------------------------------- passage size


def words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("chunk_words", [30, 60, 120])
def test_chunk_words_bounds_guide_passages(documents, chunk_words):
    for document in documents.values():
        guide = [p for p in chunk_sections(list(document.sections), chunk_words) if p.kind == "guide"]
        for section_anchor in {p.anchor for p in guide}:
            group = [p for p in guide if p.anchor == section_anchor]
            for i, p in enumerate(group):
                if words(p.text) <= chunk_words:
                    continue
                # Over the bound only when one unit is too long on its own, or when the
                # section's last passage took in a short tail (under a quarter of the bound).
                sizes = [words(u) for u in p.sentences]
                too_long_unit = sizes[0] > chunk_words
                took_tail = i == len(group) - 1 and any(
                    sum(sizes[:k]) <= chunk_words and sum(sizes[k:]) < chunk_words // 4 for k in range(1, len(sizes))
                )
                assert too_long_unit or took_tail, (p.section, sizes)
            if len(group) > 1:
                assert words(group[-1].text) >= chunk_words // 4, group[-1].section


def test_small_chunks_split_a_section_between_sentences():
    body = " ".join(f"Zin nummer {i} gaat over de samenstelling van de cel." for i in range(12))
    sections = parse_markdown("gids.md", f"# Gids\n\n## Deel\n\n{body}\n")
    chunks = chunk_sections(sections, chunk_words=25)
    assert len(chunks) > 3
    assert [s for p in chunks for s in p.sentences] == split_sentences(body)
    assert all(words(p.text) <= 25 + 25 // 4 for p in chunks)
    assert len({p.id for p in chunks}) == len(chunks)


def test_a_single_unit_longer_than_the_bound_is_kept_whole():
    long_sentence = "De cel " + " ".join(["bespreekt"] * 50) + " casussen."
    sections = parse_markdown("gids.md", f"# Gids\n\n## Deel\n\n{long_sentence} Korte zin hierna.\n")
    chunks = chunk_sections(sections, chunk_words=10)
    assert chunks[0].sentences[0] == long_sentence
    assert [s for p in chunks for s in p.sentences] == [long_sentence, "Korte zin hierna."]
