"""The chat in the browser: a Gradio Blocks app mounted on the FastAPI app (``assistant.web.app``).

The Blocks and their event handlers live here; what an answer looks like is
``assistant.web.render`` (pure functions), the page's own script and its nonce
``assistant.web.chatpage``, the styles ``static/chat.css``. Thumbs up/down go to the
feedback store.

The UI calls the same ``Assistant.ask()`` as every other front end, passing the
conversation's earlier questions so follow-ups are understood; the assistant's one
concurrency gate decides how many answers run at once, for the chat and the API together.
Everything is served locally: built-in theme (local fonts), no analytics, no monitoring
page, no share link.

The page runs under a Content-Security-Policy without 'unsafe-eval' (``assistant.web.headers``):
so no ``gr.HTML`` (Gradio 6 compiles its templates with ``Function``) and no ``js=`` event
code (compiled the same way).
"""

from __future__ import annotations

import logging
import os
import threading

# Gradio reads this when it is imported: no usage data to api.gradio.app, whoever imports us.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from fastapi import FastAPI

from ..core.assistant import Assistant
from ..core.errors import QuestionError, StoreUnavailable
from ..core.generation import Listener
from ..core.messages import (
    CHAT_DESCRIPTION,
    CHAT_EMPTY,
    CHAT_EXPORT_DOCX,
    CHAT_EXPORT_MD,
    CHAT_LABEL,
    CHAT_NEW,
    CHAT_QUESTION_LABEL,
    CHAT_REASON_CLOSE,
    CHAT_REASON_LABEL,
    CHAT_REASON_NOTE,
    CHAT_REASON_SEND,
    CHAT_REASON_SHARE,
    CHAT_SEND,
    CHAT_STOP,
    CHAT_STOPPED,
    SOURCES,
    UNAVAILABLE_TEXT,
)
from ..core.messages import CHAT_ERROR as ERROR_TEXT
from ..core.messages import CHAT_EXAMPLES as EXAMPLES
from ..core.messages import CHAT_INTRO as INTRO
from ..core.messages import CHAT_PLACEHOLDER as PLACEHOLDER
from ..core.messages import CHAT_PRIVACY_OFF as PRIVACY_OFF
from ..core.messages import CHAT_PRIVACY_ON as PRIVACY_ON
from ..core.messages import CHAT_THANKS as THANKS
from ..core.messages import CHAT_TRANSLATIONS as TRANSLATIONS
from ..core.privacy import mask_text
from ..core.settings import Settings
from ..core.types import Answer
from .chatpage import ChatPage
from .export import export_router
from .feedback import MAX_NOTE, REASONS, FeedbackStore, feedback_path, from_answer
from .keep import answer_from_record, answer_record, conversation_json, read_record
from .logs import log_answer
from .render import (
    NO_SOURCES,
    Conversation,
    Turn,
    render_partial,
    render_question,
    render_reason_about,
    render_reply,
    render_sources,
)
from .static import read_text

log = logging.getLogger("livc.ui")

TITLE = "LIVC-assistent"
LIVE_INTERVAL = 0.3  # seconds between updates of an answer being generated: at most about three a second
# The page's Dutch (INTRO, PRIVACY_ON/OFF, EXAMPLES, PLACEHOLDER, ERROR_TEXT, THANKS, TRANSLATIONS and the
# buttons' and labels' words) is in the catalogue, assistant.core.messages.


# ---------------------------------------------------------------------------
# The Blocks app


def build_ui(assistant: Assistant, settings: Settings, feedback: FeedbackStore) -> gr.Blocks:
    """The chat app. Event handlers close over the assistant, loaded once at start-up."""

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        conversation = gr.State(Conversation())  # copied for every session; a callable would add a public endpoint
        pending = gr.State("")  # the question on its way from the textbox to the answer
        rated = gr.State(None)  # message index of the answer that just got a thumbs down
        fresh = gr.State(False)  # the pending question is asked again without the earlier ones

        with gr.Column(elem_id="livc-header"):
            gr.Markdown(f'<h1 class="livc-title">{TITLE}</h1>', latex_delimiters=[])
            gr.Markdown(INTRO, elem_classes="livc-intro")
            gr.Markdown(
                PRIVACY_ON if settings.log_questions else PRIVACY_OFF,
                elem_classes="livc-privacy",
                elem_id="livc-privacy",
            )
        with gr.Row(equal_height=False, elem_id="livc-main"):
            with gr.Column(scale=3, min_width=320, elem_id="livc-chat-col"):
                chat = gr.Chatbot(
                    label=CHAT_LABEL,
                    show_label=False,
                    elem_id="livc-chat",
                    height="62vh",
                    min_height=320,
                    layout="panel",
                    placeholder=CHAT_EMPTY,
                    examples=[{"text": q} for q in EXAMPLES],
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy"],
                    autoscroll=True,
                    latex_delimiters=[],  # "$$" in a document is text, not a formula
                )
                with gr.Row(elem_id="livc-ask-row"):
                    question = gr.Textbox(
                        label=CHAT_QUESTION_LABEL,
                        show_label=False,
                        placeholder=PLACEHOLDER,
                        lines=1,
                        max_lines=4,
                        scale=5,
                        min_width=250,
                        autofocus=False,  # on a phone it scrolled the title and the privacy line away
                        elem_id="livc-question",
                        submit_btn=False,
                    )
                    send = gr.Button(CHAT_SEND, variant="primary", scale=1, min_width=120, elem_id="livc-send")
                    # Only with a model: shown while an answer is being generated (static/chat.js
                    # gives it its Dutch accessible name); without one the page stays as it was.
                    stop_button = (
                        gr.Button(CHAT_STOP, variant="stop", scale=0, min_width=90, visible=False, elem_id="livc-stop")
                        if assistant.generator
                        else None
                    )
                with gr.Row(elem_id="livc-tools"):
                    new = gr.Button(
                        CHAT_NEW, variant="secondary", size="sm", elem_id="livc-new", scale=0, min_width=140
                    )
                    # The export buttons run in the page (static/chat.js): it sends what it keeps.
                    gr.Button(CHAT_EXPORT_MD, size="sm", elem_id="livc-export-md", scale=0, min_width=150)
                    gr.Button(CHAT_EXPORT_DOCX, size="sm", elem_id="livc-export-docx", scale=0, min_width=150)
                    note = gr.Markdown("", elem_id="livc-feedback-note")
                # The page's side of the conversation kept in the browser (static/chat.js): `kept`
                # hands it the records of every answer (it keeps them in sessionStorage); after a
                # reload it gives them back one at a time through `restoring`; "Lees als nieuwe
                # vraag" names its turn in `reasking`. Hidden by CSS, not by visible=False, which
                # would leave them out of the page.
                with gr.Row(elem_classes="livc-hidden"):
                    kept = gr.Textbox("[]", elem_id="livc-keep", show_label=False, interactive=False, container=False)
                    restoring = gr.Textbox("", elem_id="livc-restore", show_label=False, container=False)
                    restore_go = gr.Button("restore", elem_id="livc-restore-go")
                    reasking = gr.Textbox("", elem_id="livc-reask", show_label=False, container=False)
                    reask_go = gr.Button("reask", elem_id="livc-reask-go")
                with gr.Column(visible=False, elem_id="livc-reason", variant="panel") as reason_box:
                    about = gr.Markdown("", elem_id="livc-reason-about")  # which answer the box is about
                    reason = gr.Radio(list(REASONS), label=CHAT_REASON_LABEL, elem_id="livc-reason-choice")
                    remark = gr.Textbox(
                        label=CHAT_REASON_NOTE, lines=2, max_lines=4, max_length=MAX_NOTE, elem_id="livc-reason-note"
                    )
                    # With log_questions on the question is stored anyway; otherwise only on this opt-in.
                    share = gr.Checkbox(
                        label=CHAT_REASON_SHARE,
                        value=False,
                        visible=not settings.log_questions,
                        elem_id="livc-reason-share",
                    )
                    with gr.Row():
                        send_reason = gr.Button(
                            CHAT_REASON_SEND, size="sm", variant="primary", elem_id="livc-reason-send"
                        )
                        skip_reason = gr.Button(CHAT_REASON_CLOSE, size="sm", elem_id="livc-reason-skip")
            with gr.Column(scale=2, min_width=300, elem_id="livc-sources-col"):
                sources = gr.Markdown(NO_SOURCES, elem_id="livc-sources", label=SOURCES, latex_delimiters=[])

        def take_question(text: str, messages: list):
            text = (text or "").strip()
            if not text:
                return gr.update(), messages, "", False
            return "", [*messages, {"role": "user", "content": render_question(text)}], text, False

        def take_example(messages: list, evt: gr.SelectData):
            text = (evt.value or {}).get("text", "") if isinstance(evt.value, dict) else str(evt.value or "")
            return [*messages, {"role": "user", "content": render_question(text)}], text, False

        def take_reask(which: str, messages: list, state: Conversation):
            """ "Lees als nieuwe vraag" of a turn: its question (as kept: masked) once more, alone."""
            turn = state.turns[int(which)] if which.isdigit() and int(which) < len(state.turns) else None
            if turn is None or turn.answer is None:
                return "", messages, "", False
            return "", [*messages, {"role": "user", "content": render_question(turn.question)}], turn.question, True

        def restore(text: str, messages: list, state: Conversation):
            """One kept record back from the page after a reload: shown and followed up on again."""
            record = read_record(text or "")
            if record is None:
                return "", messages, state, gr.update(), gr.update()
            store = getattr(assistant, "store", None)
            result = answer_from_record(record, getattr(store, "by_id", None))
            turn_no, index = len(state.turns), len(messages) + 1
            messages = [
                *messages,
                {"role": "user", "content": render_question(result.question)},
                {"role": "assistant", "content": render_reply(result, turn_no, settings)},
            ]
            state.turns.append(Turn(result.question, result, index))
            return "", messages, state, render_sources(state.turns, settings), records(state)

        def records(state: Conversation) -> str:
            return conversation_json(
                [answer_record(i, t.answer, settings) for i, t in enumerate(state.turns) if t.answer is not None]
            )

        def answer(text: str, messages: list, state: Conversation, alone: bool = False, listener=None):
            """The answer to the pending question `text`, then the question forgotten: the chat
            shows it masked from now on (the typed text would travel back with every later
            event) and the pending state is emptied."""
            if not text:
                return messages, state, gr.update(), gr.update(), gr.update(), gr.update(), ""
            turn_no = len(state.turns)
            try:
                result = assistant.ask(text, [] if alone else state.history(), listener)
            except QuestionError as exc:
                state.turns.append(Turn("", None, len(messages)))
                return failed_reply(masked_bubble(messages, text), state, str(exc))
            except Exception as exc:
                if isinstance(exc, StoreUnavailable):
                    log.warning("vector store unavailable: %s", exc)
                else:
                    log.exception("answering failed")
                state.turns.append(Turn("", None, len(messages)))
                reply = UNAVAILABLE_TEXT if isinstance(exc, StoreUnavailable) else ERROR_TEXT
                return failed_reply(masked_bubble(messages, text), state, reply)
            _log_answer(result, settings)
            messages = masked_bubble(messages, text, result.question)
            state.turns.append(Turn(result.question, result, len(messages)))  # masked: never the typed text
            reply = {"role": "assistant", "content": render_reply(result, turn_no, settings)}
            sources_html = render_sources(state.turns, settings)
            return [*messages, reply], state, sources_html, "", gr.update(visible=False), records(state), ""

        def masked_bubble(messages: list, typed: str, masked: str | None = None) -> list:
            """`messages` with the user's last bubble showing the question as the assistant kept
            it (`masked`, or `typed` masked here when it was not answered) instead of as typed."""
            if not messages or messages[-1].get("role") != "user":
                return messages
            shown = masked if masked is not None else mask_text(typed, getattr(assistant.store, "public_names", None))
            return [*messages[:-1], {"role": "user", "content": render_question(shown)}]

        def failed_reply(messages: list, state: Conversation, reply: str) -> tuple:
            content = {"role": "assistant", "content": reply}
            return [*messages, content], state, gr.update(), "", gr.update(visible=False), gr.update(), ""

        # Stop: the stop event of each session's answer being generated, by session hash. Stop
        # sets it from its own (unqueued) event rather than cancelling the answer's: Gradio
        # closes a generator only between two of its yields, and this one yields only when a
        # sentence passes, so a cancel could wait for the model's next checked sentence; and a
        # cancelled event leaves the conversation's state and the chat out of step. Set, the
        # event ends the stream to the model at its next line (client.py), the answer falls
        # back to the extractive one and answer_live ends as every answer does.
        stopping: dict[str, threading.Event] = {}

        def arm_stop(request: gr.Request):
            """Before an answer is queued: its stop event (Stop may come while it waits) and the button."""
            stopping[request.session_hash] = threading.Event()
            return gr.update(visible=True)

        def stop_answer(request: gr.Request):
            stop = stopping.get(request.session_hash)
            if stop is not None:
                stop.set()
            return gr.update(visible=False)

        def disarm_stop(request: gr.Request):
            stopping.pop(request.session_hash, None)
            return gr.update(visible=False)

        def answer_live(
            text: str, messages: list, state: Conversation, alone: bool = False, request: gr.Request = None
        ):
            """With a model configured (llm_url): a generated answer's sentences as they pass
            the check, at most a few updates a second, then the answer as answer() gives it.
            Stop (its event in `stopping`), or the event being closed, stops the stream to the model."""
            shown: list[str] = []
            stop = stopping.get(getattr(request, "session_hash", None)) or threading.Event()
            out: dict = {}
            listener = Listener(on_sentence=shown.append, stop=stop)
            worker = threading.Thread(
                target=lambda: out.setdefault("reply", answer(text, messages, state, alone, listener)), daemon=True
            )
            worker.start()
            try:
                given = 0
                while worker.is_alive():
                    worker.join(LIVE_INTERVAL)
                    if len(shown) > given and worker.is_alive():
                        given = len(shown)
                        bubble = {"role": "assistant", "content": render_partial(list(shown))}
                        yield [*messages, bubble], state, gr.update(), gr.update(), gr.update(), gr.update(), ""
                yield stopped(out["reply"], state) if stop.is_set() else out["reply"]
            finally:
                stop.set()

        def stopped(reply: tuple, state: Conversation) -> tuple:
            """The answer after Stop. The model's unfinished answer is not kept, not even the
            sentences that passed: a half answer would read as the whole one. The extractive
            answer was composed anyway (the model only rewrites it), quotes the guide word for
            word and keeps the conversation, its sources and follow-ups as for any answer; the
            note says why it replaced what was being written. A model that finished before Stop
            reached it gave a checked answer, which stays, without the note."""
            last = state.turns[-1].answer if state.turns else None
            if last is None or last.mode == "generative":
                return reply
            messages, state, sources_html, _, reason_box, kept, pending = reply
            return messages, state, sources_html, CHAT_STOPPED, reason_box, kept, pending

        # Without a model the answer comes whole, exactly as before.
        respond = answer_live if assistant.generator else answer

        def on_like(state: Conversation, evt: gr.LikeData):
            index = evt.index if isinstance(evt.index, int) else evt.index[0]
            turn = state.turn_for_message(index)
            if turn is None or turn.answer is None:
                return state, "", gr.update(visible=False), None, gr.update()
            if evt.liked is True or evt.liked is False:
                rating = 1 if evt.liked is True else -1
                if turn.feedback_id is None:
                    turn.feedback_id = feedback.add(from_answer(turn.answer, rating, settings.log_questions))
                else:
                    feedback.update(turn.feedback_id, rating=rating)
                if rating < 0:
                    return state, "", gr.update(visible=True), index, render_reason_about(turn.question)
                return state, THANKS, gr.update(visible=False), None, gr.update()
            if turn.feedback_id is not None:  # the thumb was taken back
                feedback.delete(turn.feedback_id)
                turn.feedback_id = None
            return state, "", gr.update(visible=False), None, gr.update()

        def give_reason(choice: str | None, words: str, send_question: bool, state: Conversation, index: int | None):
            turn = state.turn_for_message(index) if index is not None else None
            if turn is not None and turn.feedback_id is not None:
                feedback.update(
                    turn.feedback_id,
                    reason=choice if choice in REASONS else None,
                    note=(words or "").strip() or None,
                    question=turn.question if send_question and turn.question else None,  # masked when kept
                )
            return THANKS, gr.update(visible=False), None, None, "", False

        def close_reason():
            return THANKS, gr.update(visible=False), None, None, "", False

        def new_conversation():
            return [], Conversation(), NO_SOURCES, "", gr.update(visible=False), None, "", "", "[]"

        # Answers run through the queue, `settings.concurrency` at a time (Gradio's default is
        # one): no more threads wait than the assistant's gate, which the API shares, lets
        # through (ask() enters it); the quick UI-only steps skip the queue. No event is an API endpoint:
        # the REST API is a separate, documented surface.
        private = {"api_visibility": "private"}
        ask_outputs = [chat, conversation, sources, note, reason_box, kept, pending]
        ask_inputs = [pending, chat, conversation, fresh]

        def then_answer(taken):
            """After a question is taken: the answer, with Stop around it when a model writes it."""
            if stop_button is None:
                return taken.then(respond, ask_inputs, ask_outputs, concurrency_id="ask", **private)
            armed = taken.then(arm_stop, None, [stop_button], queue=False, **private)
            answered = armed.then(respond, ask_inputs, ask_outputs, concurrency_id="ask", **private)
            return answered.then(disarm_stop, None, [stop_button], queue=False, **private)

        for trigger in (question.submit, send.click):
            then_answer(
                trigger(take_question, [question, chat], [question, chat, pending, fresh], queue=False, **private)
            )
        then_answer(chat.example_select(take_example, [chat], [chat, pending, fresh], queue=False, **private))
        then_answer(
            reask_go.click(
                take_reask, [reasking, chat, conversation], [reasking, chat, pending, fresh], queue=False, **private
            )
        )
        if stop_button is not None:
            stop_button.click(stop_answer, None, [stop_button], queue=False, **private)
        restore_go.click(
            restore,
            [restoring, chat, conversation],
            [restoring, chat, conversation, sources, kept],
            queue=False,
            **private,
        )
        chat.like(on_like, [conversation], [conversation, note, reason_box, rated, about], queue=False, **private)
        closed = [note, reason_box, rated, reason, remark, share]
        send_reason.click(give_reason, [reason, remark, share, conversation, rated], closed, queue=False, **private)
        skip_reason.click(close_reason, None, closed, queue=False, **private)
        reset = [chat, conversation, sources, note, reason_box, rated, question, pending, kept]
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
    app.include_router(export_router(settings))  # the chat's export; an app route, before the mount at "/"
    app.add_middleware(ChatPage, paths={"/"})
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
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


HEAD = f'<meta name="description" content="{CHAT_DESCRIPTION}">'

# Gradio's Source Sans Pro SemiBold file holds only a few dozen glyphs, so bold text
# fell back to another font letter by letter; the complete Bold file replaces it.
CSS = "\n" + read_text("chat.css")
