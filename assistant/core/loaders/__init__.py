"""Loaders for the official formats: PDF (``pdf``), Word (``docx``) and web pages (``html``).

Each reads its format into an `Outline` (headings, paragraphs, list items, table rows,
page starts) and hands it to ``Outline.document``, which writes it as Markdown and
parses that with ``documents.parse_markdown``: every format then gets the same heading
paths, anchors, Q&A detection and viewer. ``documents.LOADERS`` imports them lazily.
"""
