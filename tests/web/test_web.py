"""The document viewer: clean HTML with the passages' anchors, and nothing but the corpus
reachable. Served by a real uvicorn on 127.0.0.1; requests go out raw (http.client
sends the path exactly as written, "../" included)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import CORPUS, FAQ, GUIDE, Server, settings_for

from assistant.core.chunking import chunk_sections
from assistant.core.documents import load_corpus
from assistant.web.app import create_app
from assistant.web.urls import document_url
from assistant.web.viewer import render_document


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory) -> Path:
    """The shipped corpus, plus a secret file beside it that must stay out of reach."""
    base = tmp_path_factory.mktemp("web")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    (base / "secret.md").write_text("# Geheim\n\nNiet voor de browser.\n", encoding="utf-8")
    (corpus / "notes.txt").write_text("geen corpusbestand\n", encoding="utf-8")
    return corpus


@pytest.fixture(scope="module")
def server(corpus_copy):
    settings = settings_for(corpus_copy, corpus_copy.parent / "index")
    with Server(create_app(settings)) as running:
        yield running


@pytest.mark.parametrize("doc", [GUIDE, FAQ])
def test_every_passage_anchor_is_a_heading_of_its_document(server, corpus_copy, doc):
    status, body, headers = server.get(f"/documenten/{doc}")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    ids = set(re.findall(r'<h[1-6] id="([^"]+)"', body))
    document = next(d for d in load_corpus(corpus_copy)[0] if d.name == doc)
    passages = chunk_sections(list(document.sections))
    assert passages
    assert {p.anchor for p in passages} <= ids
    # The anchor sits on the heading whose text is the passage's section.
    for p in passages[:20]:
        heading = re.search(rf'<h[1-6] id="{re.escape(p.anchor)}">(.*?)</h[1-6]>', body).group(1)
        assert re.sub(r"<[^>]+>", "", heading).replace("&quot;", '"').replace("&amp;", "&") == p.section


def test_the_page_is_clean_dutch_html_that_loads_nothing(server):
    status, body, headers = server.get(f"/documenten/{GUIDE}")
    assert status == 200
    assert '<html lang="nl">' in body
    assert "Terug naar de LIVC-assistent" in body
    assert "<table>" in body  # Markdown tables are rendered
    assert not re.search(r"<(script|link|img|iframe)\b", body)
    assert "default-src 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/documenten/../pyproject.toml",
        "/documenten/..%2Fpyproject.toml",
        "/documenten/%2e%2e%2fpyproject.toml",
        "/documenten/..%2Fsecret.md",
        "/documenten/%2E%2E/secret.md",
        "/documenten/..",
        "/documenten/.",
        "/documenten/secret.md",  # beside the corpus, not in it
        "/documenten/notes.txt",  # in the folder, but no document
        "/documenten/SOURCES.md",  # documentation about the corpus, not corpus
        "/documenten/%2Fetc%2Fpasswd",
        "/documenten//etc/passwd",
        "/documenten/draaiboek-livc-r",
    ],
)
def test_nothing_outside_the_corpus_is_served(server, path):
    status, body, _ = server.get(path)
    assert status == 404
    assert "Niet voor de browser" not in body and "[project]" not in body and "root:" not in body


def test_the_document_list_links_every_document(server):
    status, body, _ = server.get("/documenten/")
    assert status == 200
    assert f'href="/documenten/{GUIDE}"' in body and f'href="/documenten/{FAQ}"' in body


def test_raw_html_in_a_source_is_shown_as_text():
    html = render_document("# Titel\n\n<script>alert(1)</script>\n\n## Deel\n\nTekst.\n", {})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<h2 id="deel">' in html


def test_headings_without_a_section_get_unique_anchors():
    html = render_document("# T\n\n## A\n\n## A\n\ntekst\n", {0: "t"})
    assert re.findall(r'id="([^"]+)"', html) == ["t", "a", "a-1"]


def test_document_urls_carry_the_root_path(tmp_path):
    settings = settings_for(CORPUS, tmp_path / "index", root_path="/livc")
    assert document_url(settings, GUIDE, "52-de-burgemeester") == f"/livc/documenten/{GUIDE}#52-de-burgemeester"
    assert document_url(settings_for(CORPUS, tmp_path / "i"), "a b.md") == "/documenten/a%20b.md"


def test_health(server):
    status, body, _ = server.get("/healthz")
    assert status == 200 and '"ok"' in body
