"""The chat's pure renderers: from a conversation's answers to the HTML the chat shows.

Each answer appears in the chat with its ``[n]`` markers (``render_reply``); the sources
panel beside it (``render_sources``) lists every citation: document, section path, page,
the quoted passage with the cited sentences highlighted, and a link into the document
viewer. A marker is a link to its source card. Q&A answers say they come from the
vraag-en-antwoordfiche; an abstention looks different and offers the nearest sections; a
low-confidence answer sits in a box of its own under "Mogelijk relevant — controleer de
bron", and a foreign-language question gets its language note above the quotes.

Text from documents and from the user is data, never markup: every chat message (answer,
abstention, the user's own question) is one line of HTML that we build with every such
text escaped, so the chat's Markdown renderer reads none of it (an HTML block) and only
our own tags remain: paragraphs, lists, bold and the [n] links.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ..core.chunking import is_line, is_row
from ..core.documents import display_date
from ..core.messages import (
    ABSTAIN_RETRY,
    ABSTAIN_SUGGESTIONS,
    ABSTAIN_TEXT,
    ABSTAIN_TITLE,
    CARD_BACK,
    CARD_NUMBER,
    CARD_OPEN,
    CARD_OPEN_TITLE,
    CHAT_NEW,
    CHAT_REASK,
    CHAT_REASK_TITLE,
    CHAT_REASON_ABOUT,
    FAQ_ANSWER_FROM,
    FAQ_LABEL,
    GENERATED_LABEL,
    GUIDE_LABEL,
    LOW_CONFIDENCE_LABEL,
    MARKER_TITLE,
    PAGE,
    PAGES,
    READ_AS_FOLLOW_UP,
    SOURCE,
    SOURCES,
    SOURCES_EMPTY,
    SOURCES_FOR,
    SOURCES_SUGGESTED,
    VERSION_DATE,
    VERSION_SHA,
)
from ..core.settings import Settings
from ..core.types import Answer, Citation
from .urls import document_url, quote_url

# The words are in the catalogue (assistant.core.messages), the markup here.
NO_SOURCES = f'<div class="livc-empty"><p><strong>{SOURCES}</strong></p><p>{SOURCES_EMPTY}</p></div>'


@dataclass
class Turn:
    """One question in the conversation and what became of it."""

    question: str  # as the assistant kept it: personal data masked; "" when refused
    answer: Answer | None  # None when the question was refused (too long, empty)
    message_index: int  # position of the reply in the chat's message list
    feedback_id: int | None = None


@dataclass
class Conversation:
    """The per-browser-tab state: every turn so far."""

    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[str]:
        """Earlier questions that got an answer, oldest first (for follow-ups)."""
        return [t.question for t in self.turns if t.answer is not None]

    def turn_for_message(self, index: int) -> Turn | None:
        return next((t for t in self.turns if t.message_index == index), None)


def source_id(turn_no: int, n: int) -> str:
    """The HTML id of citation n of turn `turn_no` in the sources panel."""
    return f"bron-{turn_no}-{n}"


def reply_id(turn_no: int) -> str:
    """The HTML id of turn `turn_no`'s reply in the chat (the page's script finds the turn's record by it)."""
    return f"antwoord-{turn_no}"


def reask_href(turn_no: int) -> str:
    """The link "Lees als nieuwe vraag" of turn `turn_no` (the page's script asks it again)."""
    return f"#opnieuw-{turn_no}"


# A follow-up's notice starts with this; the words before the earlier question.
_FOLLOW_UP = READ_AS_FOLLOW_UP.split("{", 1)[0]


def render_reply(answer: Answer, turn_no: int, settings: Settings) -> str:
    """The chat message for an answer, as one line of HTML (a Markdown HTML block, so no
    Markdown in it is read): every text from the question or the documents is escaped;
    the only markup is ours: paragraphs, lists, **bold**, and [n] markers linked to their
    source cards. A notice and a language note come first; a low-confidence answer sits in
    a box of its own under LOW_CONFIDENCE_LABEL; an abstention in the abstention box."""
    parts = []
    if answer.notice:
        parts.append(_notice(answer.notice, turn_no))
    note = getattr(answer, "language_note", None)
    if note:
        lang = getattr(answer, "language", "") or ""
        attr = f' lang="{html.escape(lang)}"' if re.fullmatch(r"[a-z]{2}", lang) else ""
        parts.append(f'<p class="livc-language"{attr}>{html.escape(note)}</p>')
    if answer.abstained:
        parts.append(_render_abstention(answer, settings))
    else:
        low = getattr(answer, "confidence", "high") == "low"
        inner = []
        if low:
            inner.append(f'<p class="livc-low-label">{LOW_CONFIDENCE_LABEL}</p>')
        if answer.mode == "generative":  # written by a language model from the sources (core/generation)
            inner.append(f'<p class="livc-generated-label">{GENERATED_LABEL}</p>')
        if answer.mode == "faq" and answer.citations:
            question = answer.citations[0].passage.section  # "Vraag 24: Kan ik anoniem een zorg melden?"
            inner.append(
                f'<div class="livc-faq-label">{FAQ_ANSWER_FROM} · '
                f'<span class="livc-faq-question">{html.escape(question)}</span></div>'
            )
        inner.append(answer_html(answer, turn_no))
        parts.append(f'<div class="livc-answer{" livc-low" if low else ""}">{"".join(inner)}</div>')
    return f'<div class="livc-reply" id="{reply_id(turn_no)}">{"".join(parts)}</div>'


def render_partial(sentences: list[str]) -> str:
    """A generated answer while it is being written: the sentences that passed the check so
    far, as text, under the generated answer's label (render_reply replaces it when done)."""
    text = html.escape(" ".join(sentences))
    label = f'<p class="livc-generated-label">{GENERATED_LABEL}</p>'
    return f'<div class="livc-reply livc-writing"><div class="livc-answer">{label}<p>{text}</p></div></div>'


def _notice(notice: str, turn_no: int) -> str:
    """The note above an answer; when the question was read as a follow-up, with a way out."""
    line = f"<em>{html.escape(notice)}</em>"
    if _FOLLOW_UP in notice:
        line += f' <a class="livc-reask" href="{reask_href(turn_no)}" title="{CHAT_REASK_TITLE}">{CHAT_REASK}</a>'
    return f'<p class="livc-notice">{line}</p>'


def render_reason_about(question: str) -> str:
    """The line atop the feedback box: which answer it is about (the question escaped)."""
    return f'<p class="livc-reason-about">{CHAT_REASON_ABOUT.format(question=html.escape(question or ""))}</p>'


def render_question(text: str) -> str:
    """The user's own bubble: the question as typed, escaped (line breaks kept)."""
    lines = [html.escape(line) for line in text.strip().splitlines() if line.strip()]
    return f'<div class="livc-question-text">{"<br>".join(lines)}</div>'


_ITEM = re.compile(r"^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$")


def answer_html(answer: Answer, turn_no: int) -> str:
    """The answer text (Markdown with [n] markers, quoted from the documents) as safe HTML:
    blank lines make paragraphs, "- " and "1. " lines lists, a table row one line; a
    sentence after a list item's marker on the same line starts its own paragraph."""
    by_n = {c.n: c for c in answer.citations}
    return "".join(_block_html(block, by_n, turn_no) for block in re.split(r"\n\s*\n", answer.text.strip()))


def _block_html(block: str, by_n: dict, turn_no: int) -> str:
    """One blank-line-separated block of an answer: its paragraphs and lists."""
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    kind = ""

    def flush_para():
        if para:
            out.append(f"<p>{' '.join(para)}</p>")
            para.clear()

    def flush_list():
        nonlocal kind
        if items:
            out.append(f"<{kind}>{''.join(items)}</{kind}>")
            items.clear()
        kind = ""

    for line in block.split("\n"):
        line = re.sub(r"^\s*>\s?", "", line)
        if not line.strip():
            continue
        m = _ITEM.match(line)
        if m:
            flush_para()
            tag = "ul" if m.group(1) else "ol"
            if kind != tag:
                flush_list()
                kind = tag
            head, rest = _split_after_marker(m.group(3), by_n)
            value = f' value="{int(m.group(2))}"' if m.group(2) and len(m.group(2)) < 6 else ""
            items.append(f"<li{value}>{_inline_answer(head, by_n, turn_no)}</li>")
            if rest:
                flush_list()
                para.append(_inline_answer(rest, by_n, turn_no))
        else:
            flush_list()
            para.append(_inline_answer(line, by_n, turn_no))
    flush_list()
    flush_para()
    return "".join(out)


def _split_after_marker(text: str, by_n: dict) -> tuple[str, str]:
    """ "een punt. [1] Daarna volgt tekst." -> ("een punt. [1]", "Daarna volgt tekst.")."""
    for m in re.finditer(r"\[(\d+)\]", text):
        if int(m.group(1)) in by_n and text[m.end() :].strip():
            return text[: m.end()], text[m.end() :].strip()
    return text, ""


def _inline_answer(text: str, by_n: dict, turn_no: int) -> str:
    """One line of answer text as HTML: escaped like the sources panel, [n] linked."""
    out = _inline(text)

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in by_n:
            return m.group(0)
        title = html.escape(MARKER_TITLE.format(n=n, path=section_path(by_n[n])))
        return f'<a class="livc-marker" href="#{source_id(turn_no, n)}" title="{title}">[{n}]</a>'

    return re.sub(r"\[(\d+)\]", link, out)


def _render_abstention(answer: Answer, settings: Settings) -> str:
    parts = [
        '<div class="livc-abstain">',
        f"<h3>{ABSTAIN_TITLE}</h3>",
        f"<p>{ABSTAIN_TEXT}</p>",
    ]
    if answer.suggestions:
        parts.append(f"<p>{ABSTAIN_SUGGESTIONS}</p>")
        parts.append(
            "<ul>"
            + "".join(
                f'<li><a href="{html.escape(document_url(settings, c.passage.doc, c.passage.anchor, c.passage.page))}">'
                f"{html.escape(section_path(c))}</a> ({_kind_label(c)})</li>"
                for c in answer.suggestions
            )
            + "</ul>"
        )
    parts.append(f"<p>{ABSTAIN_RETRY.format(new=f'<em>{CHAT_NEW}</em>')}</p>")
    parts.append("</div>")
    return "".join(parts)


def section_path(citation: Citation) -> str:
    """ "5. Samenstelling en rollen › 5.2 De burgemeester" (a Q&A entry: its question heading)."""
    return " › ".join(citation.passage.section_path) or citation.passage.section


def _kind_label(citation: Citation) -> str:
    return FAQ_LABEL if citation.passage.kind == "faq" else GUIDE_LABEL


def render_sources(turns: list[Turn], settings: Settings) -> str:
    """The sources panel: the newest answer's sources open, earlier ones folded."""
    answered = [(i, t) for i, t in enumerate(turns) if t.answer is not None]
    if not answered:
        return NO_SOURCES
    blocks = []
    for k, (i, turn) in enumerate(reversed(answered)):
        blocks.append(_turn_sources(i, turn, settings, open_=(k == 0)))
    # One line: the panel is a Markdown component, where a blank line would end the HTML.
    return re.sub(r"\s*\n\s*", " ", '<div class="livc-sources">' + "".join(blocks) + "</div>")


def _turn_sources(turn_no: int, turn: Turn, settings: Settings, open_: bool) -> str:
    answer = turn.answer
    if answer.abstained:
        heading = SOURCES_SUGGESTED
        cards = "".join(_card(turn_no, c, settings, suggestion=True) for c in answer.suggestions)
    else:
        heading = SOURCES if len(answer.citations) != 1 else SOURCE
        cards = "".join(_card(turn_no, c, settings) for c in answer.citations)
    summary = SOURCES_FOR.format(heading=heading, question=f"<q>{html.escape(turn.question)}</q>")
    state = " open" if open_ else ""
    return (
        f'<details class="livc-turn"{state}><summary>{summary}</summary><ol class="livc-cards">{cards}</ol></details>'
    )


def _card(turn_no: int, c: Citation, settings: Settings, suggestion: bool = False) -> str:
    p = c.passage
    badge = f'<span class="livc-kind livc-kind-faq">{FAQ_LABEL}</span>' if p.kind == "faq" else ""
    page = f' · <span class="livc-page">{page_label(p)}</span>' if p.page else ""
    number = "" if suggestion else f'<span class="livc-n" aria-label="{CARD_NUMBER.format(n=c.n)}">{c.n}</span>'
    quote = (_inline(c.quote) + " …") if suggestion else highlight(p.sentences or [p.text], c.quote)
    # The viewer opens in this tab, the quoted sentences marked; "Terug" (or the browser's
    # back) returns to the conversation, which the page restores from sessionStorage.
    url = (
        document_url(settings, p.doc, p.anchor, p.page)
        if suggestion
        else quote_url(settings, p.doc, p.anchor, c.quote, p.page)
    )
    return (
        f'<li class="livc-card{" livc-suggestion" if suggestion else ""}" id="{source_id(turn_no, c.n)}" tabindex="-1">'
        f'<div class="livc-card-head">{number}'
        f'<span class="livc-doc" title="{html.escape(version_label(p))}">{html.escape(short_title(p.title))}</span>'
        f"{badge}</div>"
        f'<div class="livc-path">{html.escape(section_path(c))}{page}</div>'
        f'<blockquote class="livc-quote">{quote}</blockquote>'
        f'<a class="livc-open" href="{html.escape(url)}" title="{CARD_OPEN_TITLE}">{CARD_OPEN}</a>'
        f'<a class="livc-back" href="#livc-chat">{CARD_BACK}</a>'
        "</li>"
    )


def version_label(p) -> str:
    """The full title and the version cited: "Draaiboek … (versie van juli 2021, sha256 1a2b3c4d)"."""
    date = VERSION_DATE.format(date=display_date(p.doc_date)) if getattr(p, "doc_date", "") else ""
    sha = VERSION_SHA.format(sha=p.doc_sha256[:12]) if getattr(p, "doc_sha256", "") else ""
    version = ", ".join(v for v in (date, sha) if v)
    return f"{p.title} ({version})" if version else p.title


def page_label(p) -> str:
    """ "p. 4", or "p. 4–5" for a passage that runs onto the next page."""
    if p.page_end and p.page_end != p.page:
        return PAGES.format(page=p.page, end=p.page_end)
    return PAGE.format(page=p.page)


def short_title(title: str) -> str:
    """ "Draaiboek LIVC-R: de lokale integrale ..." -> "Draaiboek LIVC-R" (the full title is a tooltip)."""
    head = title.split(":", 1)[0].strip()
    return head if 8 <= len(head) < len(title) else title


def highlight(sentences: list[str], quote: str) -> str:
    """The passage as HTML, each sentence the answer quotes wrapped in <mark>."""
    out = []
    for sentence in sentences:
        text = _inline(sentence)
        if quote and sentence.strip() and sentence.strip() in quote:
            text = f"<mark>{text}</mark>"
        line = is_line(sentence)
        out.append(f'<span class="livc-line">{text}</span>' if line else text)
    return " ".join(out)


def _inline(sentence: str) -> str:
    """One source sentence as safe HTML: escaped, **bold** kept, list and table marks tidied."""
    text = sentence.strip()
    if is_row(text):
        text = " — ".join(cell.strip() for cell in text.strip("|").split("|") if cell.strip())
    text = re.sub(r"^[-*+]\s+", "• ", text)
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
