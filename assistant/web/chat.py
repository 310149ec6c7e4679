"""The chat in the browser: a Gradio Blocks app mounted on the FastAPI app of ``web``.

Each answer appears in the chat with its ``[n]`` markers; the sources panel beside it
(below it on a phone) lists every citation: document, section path, page, the quoted
passage with the cited sentences highlighted, and a link into the document viewer.
A marker is a link to its source card; a small script scrolls the card into view.
Q&A answers say they come from the vraag-en-antwoordfiche; an abstention looks different
and offers the nearest sections; a low-confidence answer sits in a box of its own under
"Mogelijk relevant — controleer de bron", and a foreign-language question gets its
language note above the quotes. Thumbs up/down go to the feedback store.

Text from documents and from the user is data, never markup: every chat message (answer,
abstention, the user's own question) is one line of HTML that we build with every such
text escaped, so the chat's Markdown renderer reads none of it (an HTML block) and only
our own tags remain: paragraphs, lists, bold and the [n] links.

The UI calls the same ``Assistant.ask()`` as every other front end, passing the
conversation's earlier questions so follow-ups are understood. Everything is served
locally: built-in theme (local fonts), no analytics, no monitoring page, no share link.

The page runs under a Content-Security-Policy without 'unsafe-eval' (``assistant.web.app``):
so no ``gr.HTML`` (Gradio 6 compiles its templates with ``Function``) and no ``js=`` event
code (compiled the same way). Our own script (PAGE_SCRIPT) goes into the page's <head>
with the request's nonce, like Gradio's own inline scripts (``ChatPage``).
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets
from dataclasses import dataclass, field

# Gradio reads this when it is imported: no usage data to api.gradio.app, whoever imports us.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402

from ..core.assistant import UNAVAILABLE_TEXT, Assistant  # noqa: E402
from ..core.errors import QuestionError, StoreUnavailable  # noqa: E402
from .feedback import REASONS, FeedbackStore, feedback_path, from_answer  # noqa: E402
from .logs import log_answer  # noqa: E402
from ..core.settings import Settings  # noqa: E402
from ..core.types import Answer, Citation  # noqa: E402
from .app import NONCE_KEY, document_url  # noqa: E402

log = logging.getLogger("livc.ui")

TITLE = "LIVC-assistent"
INTRO = (
    "Vragen over de lokale integrale veiligheidscel inzake radicalisme, extremisme en terrorisme (LIVC-R)? "
    "De assistent kent het **draaiboek LIVC-R** en de **vraag-en-antwoordfiche** (situatie juli 2021). "
    "Elk antwoord citeert letterlijk uit die gids, met de bron erbij."
)
PRIVACY_OFF = (
    "**Privacy:** typ geen namen of details van een casus. Wat u typt, wordt niet bewaard. "
    "Geeft u feedback (duim omhoog of omlaag), dan bewaren we alleen het antwoord en de bronnen."
)
PRIVACY_ON = (
    "**Privacy:** typ geen namen of details van een casus. De beheerder heeft het bewaren van vragen "
    "ingeschakeld: vragen waarover u feedback geeft, worden bewaard om de assistent te verbeteren."
)
EXAMPLES = [
    "Wie leidt de LIVC-R?",
    "Wie moet er minstens aan tafel zitten?",
    "Schend ik mijn beroepsgeheim als ik in de LIVC-R iets vertel?",
    "Hoe lang bewaren we de verslagen?",
    "Wanneer wordt een casus afgesloten?",
    "Wat is het verschil tussen een LIVC-R en een Local Task Force?",
]
PLACEHOLDER = "Typ hier uw vraag over de LIVC-R (zonder namen of casusdetails)"
NO_SOURCES = (
    '<div class="livc-empty"><p><strong>Bronnen</strong></p><p>Hier verschijnen de bronnen bij elk antwoord: '
    "de passage uit de gids, met de geciteerde zinnen gemarkeerd, en een link naar die plek in het document.</p></div>"
)
ERROR_TEXT = "Er ging iets mis bij het zoeken in de gids. Probeer het opnieuw, of stel de vraag anders."
THANKS = "Bedankt voor uw feedback."
FAQ_LABEL = "vraag-en-antwoordfiche"
LOW_CONFIDENCE_LABEL = "Mogelijk relevant — controleer de bron"
GUIDE_LABEL = "draaiboek"


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


# ---------------------------------------------------------------------------
# Rendering: pure functions from answers to Markdown (chat) and HTML (sources)


def source_id(turn_no: int, n: int) -> str:
    """The HTML id of citation n of turn `turn_no` in the sources panel."""
    return f"bron-{turn_no}-{n}"


def render_reply(answer: Answer, turn_no: int, settings: Settings) -> str:
    """The chat message for an answer, as one line of HTML (a Markdown HTML block, so no
    Markdown in it is read): every text from the question or the documents is escaped;
    the only markup is ours: paragraphs, lists, **bold**, and [n] markers linked to their
    source cards. A notice and a language note come first; a low-confidence answer sits in
    a box of its own under LOW_CONFIDENCE_LABEL; an abstention in the abstention box."""
    parts = []
    if answer.notice:
        parts.append(f'<p class="livc-notice"><em>{html.escape(answer.notice)}</em></p>')
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
        if answer.mode == "faq" and answer.citations:
            question = answer.citations[0].passage.section  # "Vraag 24: Kan ik anoniem een zorg melden?"
            inner.append(f'<div class="livc-faq-label">Antwoord uit de {FAQ_LABEL} · '
                         f'<span class="livc-faq-question">{html.escape(question)}</span></div>')
        inner.append(answer_html(answer, turn_no))
        parts.append(f'<div class="livc-answer{" livc-low" if low else ""}">{"".join(inner)}</div>')
    return f'<div class="livc-reply">{"".join(parts)}</div>'


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
    out = []
    for block in re.split(r"\n\s*\n", answer.text.strip()):
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
        if int(m.group(1)) in by_n and text[m.end():].strip():
            return text[:m.end()], text[m.end():].strip()
    return text, ""


def _inline_answer(text: str, by_n: dict, turn_no: int) -> str:
    """One line of answer text as HTML: escaped like the sources panel, [n] linked."""
    out = _inline(text)

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in by_n:
            return m.group(0)
        title = html.escape(f"Bron {n}: {section_path(by_n[n])}")
        return f'<a class="livc-marker" href="#{source_id(turn_no, n)}" title="{title}">[{n}]</a>'

    return re.sub(r"\[(\d+)\]", link, out)


def _render_abstention(answer: Answer, settings: Settings) -> str:
    parts = [
        '<div class="livc-abstain">',
        "<h3>Dit staat niet in de gids</h3>",
        "<p>Het draaiboek en de vraag-en-antwoordfiche beantwoorden deze vraag niet. "
        "De assistent antwoordt alleen met citaten uit de gids en gokt niet.</p>",
    ]
    if answer.suggestions:
        parts.append("<p>Deze onderdelen komen het dichtst in de buurt:</p>")
        parts.append("<ul>" + "".join(
            f'<li><a href="{html.escape(document_url(settings, c.passage.doc, c.passage.anchor, c.passage.page))}" '
            f'target="_blank" rel="noopener">{html.escape(section_path(c))}</a> ({_kind_label(c)})</li>'
            for c in answer.suggestions) + "</ul>")
    parts.append("<p>Formuleer uw vraag eventueel anders. Onder <em>Nieuw gesprek</em> vindt u voorbeeldvragen.</p>")
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
        heading = "Niet gevonden — dichtstbijzijnde onderdelen"
        cards = "".join(_card(turn_no, c, settings, suggestion=True) for c in answer.suggestions)
    else:
        heading = "Bronnen" if len(answer.citations) != 1 else "Bron"
        cards = "".join(_card(turn_no, c, settings) for c in answer.citations)
    summary = f'{heading} bij: <q>{html.escape(turn.question)}</q>'
    state = " open" if open_ else ""
    return (f'<details class="livc-turn"{state}><summary>{summary}</summary>'
            f'<ol class="livc-cards">{cards}</ol></details>')


def _card(turn_no: int, c: Citation, settings: Settings, suggestion: bool = False) -> str:
    p = c.passage
    badge = f'<span class="livc-kind livc-kind-faq">{FAQ_LABEL}</span>' if p.kind == "faq" else ""
    page = f' · <span class="livc-page">{page_label(p)}</span>' if p.page else ""
    number = "" if suggestion else f'<span class="livc-n" aria-label="bron {c.n}">{c.n}</span>'
    quote = (_inline(c.quote) + " …") if suggestion else highlight(p.sentences or [p.text], c.quote)
    url = document_url(settings, p.doc, p.anchor, p.page)
    return (
        f'<li class="livc-card{" livc-suggestion" if suggestion else ""}" id="{source_id(turn_no, c.n)}" tabindex="-1">'
        f'<div class="livc-card-head">{number}'
        f'<span class="livc-doc" title="{html.escape(version_label(p))}">{html.escape(short_title(p.title))}</span>'
        f'{badge}</div>'
        f'<div class="livc-path">{html.escape(section_path(c))}{page}</div>'
        f'<blockquote class="livc-quote">{quote}</blockquote>'
        f'<a class="livc-open" href="{html.escape(url)}" target="_blank" rel="noopener" '
        f'title="Opent de gids bij deze passage, in een nieuw tabblad">Open in het document</a>'
        '<a class="livc-back" href="#livc-chat">Terug naar het gesprek</a>'
        "</li>"
    )


def version_label(p) -> str:
    """The full title and the version cited: "Draaiboek … (versie van juli 2021, sha256 1a2b3c4d)"."""
    from ..core.documents import display_date

    version = ", ".join(v for v in (f"versie van {display_date(p.doc_date)}" if getattr(p, "doc_date", "") else "",
                                    f"sha256 {p.doc_sha256[:12]}" if getattr(p, "doc_sha256", "") else "") if v)
    return f"{p.title} ({version})" if version else p.title


def page_label(p) -> str:
    """ "p. 4", or "p. 4–5" for a passage that runs onto the next page."""
    return f"p. {p.page}–{p.page_end}" if p.page_end and p.page_end != p.page else f"p. {p.page}"


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
        line = _is_line(sentence)
        out.append(f'<span class="livc-line">{text}</span>' if line else text)
    return " ".join(out)


def _is_line(sentence: str) -> bool:
    return bool(re.match(r"^\s*(?:[-*+|]|\d+[.)])\s*", sentence))


def _inline(sentence: str) -> str:
    """One source sentence as safe HTML: escaped, **bold** kept, list and table marks tidied."""
    text = sentence.strip()
    if text.startswith("|"):
        text = " — ".join(cell.strip() for cell in text.strip("|").split("|") if cell.strip())
    text = re.sub(r"^[-*+]\s+", "• ", text)
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)


# ---------------------------------------------------------------------------
# The Blocks app


def build_ui(assistant: Assistant, settings: Settings, feedback: FeedbackStore) -> gr.Blocks:
    """The chat app. Event handlers close over the assistant, loaded once at start-up."""

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        conversation = gr.State(Conversation())  # copied for every session; a callable would add a public endpoint
        pending = gr.State("")  # the question on its way from the textbox to the answer
        rated = gr.State(None)  # message index of the answer that just got a thumbs down

        with gr.Column(elem_id="livc-header"):
            gr.Markdown(f'<h1 class="livc-title">{TITLE}</h1>', latex_delimiters=[])
            gr.Markdown(INTRO, elem_classes="livc-intro")
            gr.Markdown(PRIVACY_ON if settings.log_questions else PRIVACY_OFF, elem_classes="livc-privacy",
                        elem_id="livc-privacy")
        with gr.Row(equal_height=False, elem_id="livc-main"):
            with gr.Column(scale=3, min_width=320, elem_id="livc-chat-col"):
                chat = gr.Chatbot(
                    label="Gesprek",
                    show_label=False,
                    elem_id="livc-chat",
                    height="62vh",
                    min_height=320,
                    layout="panel",
                    placeholder="**Stel hieronder uw vraag**, of kies een voorbeeld:",
                    examples=[{"text": q} for q in EXAMPLES],
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy"],
                    autoscroll=True,
                    latex_delimiters=[],  # "$$" in a document is text, not a formula
                )
                with gr.Row(elem_id="livc-ask-row"):
                    question = gr.Textbox(
                        show_label=False, placeholder=PLACEHOLDER, lines=1, max_lines=4, scale=5, min_width=250,
                        autofocus=True, elem_id="livc-question", submit_btn=False,
                    )
                    send = gr.Button("Vraag stellen", variant="primary", scale=1, min_width=120, elem_id="livc-send")
                with gr.Row(elem_id="livc-tools"):
                    new = gr.Button("Nieuw gesprek", variant="secondary", size="sm", elem_id="livc-new", scale=0,
                                    min_width=140)
                    note = gr.Markdown("", elem_id="livc-feedback-note")
                with gr.Column(visible=False, elem_id="livc-reason", variant="panel") as reason_box:
                    reason = gr.Radio(list(REASONS), label="Wat klopte er niet? (optioneel)", elem_id="livc-reason-choice")
                    with gr.Row():
                        send_reason = gr.Button("Reden doorgeven", size="sm", variant="primary", elem_id="livc-reason-send")
                        skip_reason = gr.Button("Sluiten", size="sm", elem_id="livc-reason-skip")
            with gr.Column(scale=2, min_width=300, elem_id="livc-sources-col"):
                sources = gr.Markdown(NO_SOURCES, elem_id="livc-sources", label="Bronnen", latex_delimiters=[])

        def take_question(text: str, messages: list):
            text = (text or "").strip()
            if not text:
                return gr.update(), messages, ""
            return "", [*messages, {"role": "user", "content": render_question(text)}], text

        def take_example(messages: list, evt: gr.SelectData):
            text = (evt.value or {}).get("text", "") if isinstance(evt.value, dict) else str(evt.value or "")
            return [*messages, {"role": "user", "content": render_question(text)}], text

        def answer(text: str, messages: list, state: Conversation):
            if not text:
                return messages, state, gr.update(), gr.update(), gr.update()
            turn_no = len(state.turns)
            index = len(messages)
            try:
                result = assistant.ask(text, state.history())
            except QuestionError as exc:
                state.turns.append(Turn("", None, index))
                return [*messages, {"role": "assistant", "content": str(exc)}], state, gr.update(), "", \
                    gr.update(visible=False)
            except Exception as exc:  # noqa: BLE001 - the user gets a Dutch line, the log gets the trace
                if isinstance(exc, StoreUnavailable):
                    log.warning("vector store unavailable: %s", exc)
                else:
                    log.exception("answering failed")
                state.turns.append(Turn("", None, index))
                reply = UNAVAILABLE_TEXT if isinstance(exc, StoreUnavailable) else ERROR_TEXT
                return [*messages, {"role": "assistant", "content": reply}], state, gr.update(), "", \
                    gr.update(visible=False)
            _log_answer(result, settings)
            state.turns.append(Turn(result.question, result, index))  # masked: never the typed text
            reply = {"role": "assistant", "content": render_reply(result, turn_no, settings)}
            return [*messages, reply], state, render_sources(state.turns, settings), "", gr.update(visible=False)

        def on_like(state: Conversation, evt: gr.LikeData):
            index = evt.index if isinstance(evt.index, int) else evt.index[0]
            turn = state.turn_for_message(index)
            if turn is None or turn.answer is None:
                return state, "", gr.update(visible=False), None
            if evt.liked is True or evt.liked is False:
                rating = 1 if evt.liked is True else -1
                if turn.feedback_id is None:
                    turn.feedback_id = feedback.add(from_answer(turn.answer, rating, settings.log_questions))
                else:
                    feedback.update(turn.feedback_id, rating=rating)
                if rating < 0:
                    return state, "", gr.update(visible=True), index
                return state, THANKS, gr.update(visible=False), None
            if turn.feedback_id is not None:  # the thumb was taken back
                feedback.delete(turn.feedback_id)
                turn.feedback_id = None
            return state, "", gr.update(visible=False), None

        def give_reason(choice: str | None, state: Conversation, index: int | None):
            turn = state.turn_for_message(index) if index is not None else None
            if turn is not None and turn.feedback_id is not None and choice in REASONS:
                feedback.update(turn.feedback_id, reason=choice)
            return THANKS, gr.update(visible=False), None, None

        def close_reason():
            return THANKS, gr.update(visible=False), None, None

        def new_conversation():
            return [], Conversation(), NO_SOURCES, "", gr.update(visible=False), None, "", ""

        # Answers share one pool of `settings.concurrency` workers (Gradio's default is one
        # at a time); the quick UI-only steps skip the queue. No event is an API endpoint:
        # the REST API is a separate, documented surface.
        private = {"api_visibility": "private"}
        ask_outputs = [chat, conversation, sources, note, reason_box]
        for trigger in (question.submit, send.click):
            trigger(take_question, [question, chat], [question, chat, pending], queue=False, **private) \
                .then(answer, [pending, chat, conversation], ask_outputs, concurrency_id="ask", **private)
        chat.example_select(take_example, [chat], [chat, pending], queue=False, **private) \
            .then(answer, [pending, chat, conversation], ask_outputs, concurrency_id="ask", **private)
        chat.like(on_like, [conversation], [conversation, note, reason_box, rated], queue=False, **private)
        send_reason.click(give_reason, [reason, conversation, rated], [note, reason_box, rated, reason],
                          queue=False, **private)
        skip_reason.click(close_reason, None, [note, reason_box, rated, reason], queue=False, **private)
        reset = [chat, conversation, sources, note, reason_box, rated, question, pending]
        new.click(new_conversation, None, reset, queue=False, **private)
        chat.clear(new_conversation, None, reset, queue=False, **private)

    # api_open=False: a queued event (an answer) runs only through the queue, never by a direct POST.
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size, api_open=False)
    return demo


def _log_answer(answer: Answer, settings: Settings) -> None:
    """One structured log line per answer (assistant.web.logs): ids, timings and modes; the
    question text, masked, only if the operator enabled that."""
    log_answer(log, answer, settings, source="ui")


def mount(app: FastAPI, assistant: Assistant, settings: Settings) -> FastAPI:
    """Mount the chat at "/" of `app` (after the app's own routes, which keep precedence)."""
    demo = build_ui(assistant, settings, FeedbackStore(feedback_path(settings)))
    app.add_middleware(ChatPage, paths={"/"})
    return gr.mount_gradio_app(
        app, demo, path="/",
        root_path=settings.root_path or None,
        footer_links=[],
        enable_monitoring=False,
        theme=gr.themes.Default(primary_hue="blue", secondary_hue="slate", neutral_hue="slate"),
        css=CSS,
        head=HEAD,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        i18n=gr.I18n(nl=TRANSLATIONS),
    )


# Gradio's Dutch locale lacks a few strings our page shows.
TRANSLATIONS = {
    "chatbot.copy_message": "Bericht kopiëren",
    "chatbot.copied_message": "Bericht gekopieerd",
    "chatbot.complete": "Klaar",
}

# Our script in the chat page, before Gradio's own (it runs at the top of <head>):
# - Gradio takes its interface language from navigator.language when the page starts;
#   this says "nl-BE" first, so the interface is Dutch in a browser set to English too.
# - A marker is a link "#bron-<turn>-<n>"; clicking it (or pressing Enter on it) opens
#   the folded block holding that card, scrolls the card into view and flashes it.
# - The copy button of a message copies what it shows, not its HTML (Gradio copies the
#   message's source; ours is written to the clipboard just after).
# - After a thumbs down the reasons appear (Gradio adds #livc-reason to the page); on a
#   small screen they would sit below the fold, so they are scrolled into view.
PAGE_SCRIPT = b"""<script>try{Object.defineProperty(Navigator.prototype,"language",{get:function(){return "nl-BE"},\
configurable:true});Object.defineProperty(Navigator.prototype,"languages",{get:function(){\
return ["nl-BE","nl"]},configurable:true})}catch(e){}
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest('a[href^="#bron-"], a[href="#livc-chat"]');
  if (!link) return;
  var id = link.getAttribute("href").slice(1);
  var card = document.getElementById(id);
  if (!card) return;
  event.preventDefault();
  event.stopPropagation();
  var block = card.closest("details");
  if (block) block.open = true;
  card.scrollIntoView({behavior: "smooth", block: "center"});
  card.classList.remove("livc-flash");
  void card.offsetWidth;
  card.classList.add("livc-flash");
  card.focus({preventScroll: true});
}, true);
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest('#livc-chat button[title="Bericht kopi\u00ebren"]');
  var row = button && button.closest(".message-row");
  var message = row && row.querySelector("[data-testid='bot'], [data-testid='user']");
  if (!message || !navigator.clipboard) return;
  var plain = message.innerText.trim();
  setTimeout(function () { navigator.clipboard.writeText(plain).catch(function () {}); }, 150);
}, true);
var livcReasonShown = false;
new MutationObserver(function () {
  var box = document.getElementById("livc-reason");
  var shown = !!(box && box.offsetParent);
  if (shown && !livcReasonShown) setTimeout(function () {
    box.scrollIntoView({behavior: "smooth", block: "nearest"});
  }, 100);
  livcReasonShown = shown;
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""

HEAD = '<meta name="description" content="LIVC-assistent: antwoorden met bronnen uit het draaiboek LIVC-R">'


class ChatPage:
    """ASGI middleware for the chat page itself (GET of `paths`, not its assets or API):
    puts PAGE_SCRIPT at the top of its <head> and gives every <script> of the page the
    request's nonce, which it hands to ``assistant.web.app.SecurityHeaders`` (scope key
    NONCE_KEY) for the page's Content-Security-Policy.

    Every script of this page is Gradio's template or ours: the config Gradio writes into
    it is JSON with "<" escaped, so no text can open a script of its own there. The page
    is asked uncompressed so the HTML can be edited.
    """

    def __init__(self, app, paths: set[str]):
        self.app = app
        self.paths = paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope = {**scope, NONCE_KEY: nonce,
                 "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]}
        start: dict = {}
        chunks: list[bytes] = []

        async def edit(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", [])]
            kinds = {k.lower(): v for k, v in headers}
            if b"text/html" in kinds.get(b"content-type", b"") and b"content-encoding" not in kinds:
                body = with_nonce(body.replace(b"<head>", b"<head>" + PAGE_SCRIPT, 1), nonce)
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, edit)


def with_nonce(page: bytes, nonce: str) -> bytes:
    """Every <script> tag of `page` with a nonce attribute."""
    return re.sub(rb"<script(?=[\s>])", b'<script nonce="' + nonce.encode("ascii") + b'"', page)


# Gradio's Source Sans Pro SemiBold file holds only a few dozen glyphs, so bold text
# fell back to another font letter by letter; the complete Bold file replaces it.
CSS = """
@font-face { font-family: 'Source Sans Pro'; font-weight: 600; font-style: normal;
             src: url('static/fonts/SourceSansPro/SourceSansPro-Bold.woff2') format('woff2'); }
@font-face { font-family: 'Source Sans Pro'; font-weight: 700; font-style: normal;
             src: url('static/fonts/SourceSansPro/SourceSansPro-Bold.woff2') format('woff2'); }
#livc-header { gap: 4px; }
.livc-title { font-size: 1.6rem; margin: 0; color: var(--color-accent); }
.livc-intro p { margin: 0; font-size: 1rem; }
#livc-privacy { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 8px; padding: 4px 12px; }
#livc-privacy p { margin: 0; font-size: .95rem; }
.livc-sources { display: flex; flex-direction: column; gap: 10px; max-height: 78vh; overflow-y: auto; }
.livc-empty { color: var(--body-text-color-subdued); padding: 8px; }
.livc-turn > summary { cursor: pointer; font-weight: 600; padding: 6px 2px; }
.livc-turn > summary q { font-weight: 400; font-style: italic; }
.livc-cards { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
.livc-card { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
             border-radius: 8px; padding: 10px 12px; background: var(--background-fill-primary);
             scroll-margin: 12px; }
.livc-card.livc-suggestion { border-left-color: #b26a00; }
.livc-card:focus { outline: 3px solid var(--color-accent-soft); }
.livc-flash { animation: livc-flash 1.6s ease-out; }
@keyframes livc-flash { 0% { background: #fff3b0; } 100% { background: var(--background-fill-primary); } }
.livc-card-head { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; font-size: .85rem; }
.livc-n { display: inline-flex; align-items: center; justify-content: center; min-width: 1.6em; height: 1.6em;
          border-radius: 999px; background: var(--color-accent); color: white; font-weight: 700; }
.livc-kind { font-weight: 600; font-size: .8rem;
             padding: 1px 6px; border-radius: 4px; background: #e8eef8; color: #1d4f91; }
.livc-kind-faq { background: #e6f4ea; color: #1e6b34; }
.livc-doc { color: var(--body-text-color-subdued); font-weight: 600; }
.livc-path { font-weight: 600; margin: 4px 0; }
.livc-quote { margin: 6px 0; padding: 6px 10px; border-left: 3px solid var(--border-color-primary);
              font-size: .95rem; line-height: 1.5; }
.livc-quote mark { background: #fff1a8; padding: 0 1px; }
.livc-line { display: block; }
.livc-open { font-weight: 600; }
.livc-back { display: none; margin-top: 6px; font-size: .9rem; }
.gradio-container { max-width: 1440px !important; margin: 0 auto !important; }
#livc-chat a.livc-marker { font-weight: 700; text-decoration: none; padding: 0 2px; border-radius: 4px;
                           color: var(--color-accent); background: var(--color-accent-soft); }
#livc-chat a.livc-marker:hover, #livc-chat a.livc-marker:focus-visible { text-decoration: underline; }
.livc-abstain { background: #fff4e5; border: 1px solid #f3c98b; border-left: 5px solid #b26a00;
                border-radius: 8px; padding: 2px 14px; }
.livc-abstain h3 { color: #7a4500; margin-top: 8px; }
.livc-reply > p, .livc-answer > p { margin: 0 0 .6em; }
.livc-notice { color: var(--body-text-color-subdued); }
.livc-language { color: #1d4f91; background: #eef3fb; border-radius: 6px; padding: 4px 10px; font-size: .95rem; }
.livc-low { background: #f4f6f9; border: 1px dashed #8c959f; border-left: 5px solid #57606a;
            border-radius: 8px; padding: 4px 14px; }
.livc-low-label { font-weight: 700; color: #3d4650; margin: 4px 0 8px; }
.livc-faq-label { display: inline-block; font-size: .85rem; font-weight: 600; color: #1e6b34;
                  background: #e6f4ea; border-radius: 6px; padding: 2px 8px; }
.livc-faq-question { font-style: italic; font-weight: 400; }
/* A refused event (too many questions, too long, queue full) says why in Gradio's toast;
   its full-size error cover would hide the conversation, so the chat and sources keep showing. */
#livc-chat .wrap.full:has(> .error), #livc-sources .wrap.full:has(> .error) { display: none; }
#livc-reason { padding: 8px; }
#livc-feedback-note p { margin: 0; color: var(--body-text-color-subdued); }
@media (max-width: 640px) {
  .livc-title { font-size: 1.3rem; }
  .livc-intro p, #livc-privacy p { font-size: .9rem; line-height: 1.4; }
  .livc-sources { max-height: none; }
  .livc-back { display: block; }
}
"""
