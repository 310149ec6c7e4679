"""One concurrency gate for the whole process (assistant.core.gate): the chat and the API
together answer at most ``concurrency`` questions at once, the API still says "busy" when
the gate is crowded, and /healthz answers while every slot is taken.

A real app (FastAPI, the Gradio chat, uvicorn on 127.0.0.1) over a real index of the small
corpus, built with the deterministic fake embedder: these tests are about mechanics, not the
meaning of answers. The pipeline behind the gate is wrapped to count who is inside it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import AppServer, HashEmbedding, client, settings_for, write_small_corpus

from assistant.core.assistant import Assistant
from assistant.core.gate import Gate
from assistant.core.index import build_index
from assistant.web.app import create_app
from assistant.web.chat import mount

CONCURRENCY = 2
QUESTION = "Wie leidt de cel?"


class Inside:
    """Wraps the assistant's work behind the gate: counts entries, and the most at once."""

    def __init__(self, assistant: Assistant, hold: float):
        self.lock = threading.Lock()
        self.now = self.most = self.entries = 0
        self.hold = hold
        work = assistant._answer

        def counted(question, history, *rest):
            with self.lock:
                self.now += 1
                self.entries += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(self.hold)  # long enough that every question overlaps the others
                return work(question, history, *rest)
            finally:
                with self.lock:
                    self.now -= 1

        assistant._answer = counted


@pytest.fixture
def app(tmp_path):
    """The whole app (API and chat) over one assistant with `CONCURRENCY` slots."""
    write_small_corpus(tmp_path / "corpus")
    settings = settings_for(
        tmp_path / "corpus",
        tmp_path / "index",
        concurrency=CONCURRENCY,
        queue_size=64,
        rate_limit=0,
        feedback_db=str(tmp_path / "feedback.sqlite"),
    )
    embedder = HashEmbedding()
    build_index(settings, embedder, progress=False)
    assistant = Assistant.open(settings, embedder=embedder)
    return assistant, mount(create_app(settings, assistant), assistant, settings)


def ask_api(server) -> int:
    with client(server) as http:
        return http.post("/api/v1/ask", json={"question": QUESTION}).status_code


def ask_chat(server, session: str) -> str:
    """One question through the chat's Gradio queue, as the page sends it; the event's end."""
    with client(server) as http:
        fns = {d["api_name"]: d["id"] for d in http.get("/config").json()["dependencies"]}
        taken = http.post(
            "/gradio_api/run/predict",
            json={"data": [QUESTION, []], "fn_index": fns["take_question"], "trigger_id": 12, "session_hash": session},
        )
        assert taken.status_code == 200, taken.text
        joined = http.post(
            "/gradio_api/queue/join",
            # The answer's inputs: the pending question, the chat, the conversation, "asked alone".
            json={"data": [None, [], None, None], "fn_index": fns["answer"], "trigger_id": 12, "session_hash": session},
        )
        assert joined.status_code == 200, joined.text
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                event = json.loads(line[5:]) if line.startswith("data:") else {}
                if event.get("msg") == "process_completed":
                    return "ok" if event.get("success") else json.dumps(event)
    return "no answer"


def test_the_chat_and_the_api_together_never_answer_more_than_concurrency_at_once(app):
    assistant, web = app
    inside = Inside(assistant, hold=0.4)
    with AppServer(web) as server, ThreadPoolExecutor(12) as pool:
        api = [pool.submit(ask_api, server) for _ in range(6)]
        chat = [pool.submit(ask_chat, server, f"gate-{i}") for i in range(6)]
        time.sleep(0.3)
        with client(server) as http:  # every slot taken, a dozen waiting: the process still answers at once
            started = time.perf_counter()
            assert http.get("/healthz", timeout=2).status_code == 200
            assert time.perf_counter() - started < 1
        assert [f.result(timeout=60) for f in api] == [200] * 6
        assert [f.result(timeout=60) for f in chat] == ["ok"] * 6
    assert inside.entries == 12
    assert inside.most == CONCURRENCY  # both front ends' answers went through the one gate


def test_the_api_says_busy_when_the_shared_gate_is_crowded(app):
    """queue_size 0: with the chat holding both slots, an API question is refused at once."""
    assistant, web = app
    assistant.gate.queue_size = 0
    inside = Inside(assistant, hold=1.5)
    with AppServer(web) as server, ThreadPoolExecutor(3) as pool:
        chat = [pool.submit(ask_chat, server, f"crowd-{i}") for i in range(CONCURRENCY)]
        deadline = time.time() + 10
        while inside.now < CONCURRENCY and time.time() < deadline:
            time.sleep(0.02)
        with client(server) as http:
            busy = http.post("/api/v1/ask", json={"question": QUESTION})
            health = http.get("/healthz")
            still_held = inside.now
        assert busy.status_code == 503 and busy.json()["code"] == "busy"
        assert busy.headers["retry-after"] == "30"
        # The health check never waits for the gate: it answered while every slot was held.
        assert health.status_code == 200 and still_held == CONCURRENCY
        assert [f.result(timeout=60) for f in chat] == ["ok"] * CONCURRENCY


def test_a_waiter_that_gives_up_passes_its_slot_on():
    """An API request cancelled while it waits (the client went away) takes no slot with it."""

    async def scenario():
        gate = Gate(1)
        await gate.acquire()
        gone = asyncio.create_task(gate.acquire())
        waiting = asyncio.create_task(gate.acquire())
        await asyncio.sleep(0)
        gone.cancel()
        gate.release()  # handed to the first waiter, which is gone: it passes it on
        await asyncio.wait_for(waiting, 1)
        assert gate.running == 1 and gate.waiting == 0
        gate.release()
        assert gate.running == 0

    asyncio.run(scenario())


def test_a_thread_that_holds_a_slot_enters_ask_without_a_second_one():
    gate = Gate(1)
    with gate.slot():
        with gate.slot():  # the same thread: no deadlock
            assert gate.running == 1
    assert gate.running == 0
    assert gate.holding(lambda: gate.running)() == 0  # holding() takes none itself
