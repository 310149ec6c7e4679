"""The one concurrency gate: at most ``settings.concurrency`` answers at once in a process.

``Assistant.ask()`` enters the gate itself, so every front end (the chat, the API, the CLI)
shares one set of slots; before, the API and the chat each had a pool of ``concurrency``
and one process answered twice as many questions at once as the setting said.

A thread waits for a slot in ``slot()``. An event loop must not: the API waits with
``await acquire()`` (no thread is held while it waits, so ``/healthz`` and the rest stay
quick), then runs the work in a thread through ``holding()``, which tells ``ask()`` that its
thread holds a slot already. Slots are handed over first come, first served, to threads and
coroutines alike. ``crowded()`` says when all slots are taken and ``queue_size`` are waiting:
the API then answers "busy" at once instead of queueing more.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Waiter:
    event: threading.Event | None = None  # a waiting thread
    loop: asyncio.AbstractEventLoop | None = None  # or a waiting coroutine on this loop
    future: asyncio.Future | None = None
    granted: bool = field(default=False)  # a slot was handed to it

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()
        else:
            self.loop.call_soon_threadsafe(_resolve, self.future)


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class Gate:
    """`slots` answers at once; `queue_size` waiting beyond them is "crowded"."""

    def __init__(self, slots: int, queue_size: int = 0):
        self.slots = max(1, int(slots))
        self.queue_size = max(0, int(queue_size))
        self._free = self.slots
        self._queue: deque[_Waiter] = deque()
        self._lock = threading.Lock()
        self._held = threading.local()  # per thread: how many slot() or holding() it is inside

    @property
    def running(self) -> int:
        return self.slots - self._free

    @property
    def waiting(self) -> int:
        return len(self._queue)

    def crowded(self) -> bool:
        """All slots taken and `queue_size` waiting: no room for one more."""
        with self._lock:
            return self._free == 0 and len(self._queue) >= self.queue_size

    def _take_or_queue(self, waiter: _Waiter) -> bool:
        with self._lock:
            if self._free and not self._queue:
                self._free -= 1
                return True
            self._queue.append(waiter)
            return False

    def release(self) -> None:
        """Give a slot back: to the longest waiter, else to the free ones."""
        with self._lock:
            if not self._queue:
                self._free += 1
                return
            waiter = self._queue.popleft()
            waiter.granted = True
        waiter.wake()

    @contextmanager
    def slot(self):
        """Hold a slot in this thread (waiting for one if need be); a thread that holds
        one already (``holding()``, or ``slot()`` further up) goes on with it."""
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            waiter = _Waiter(event=threading.Event())
            if not self._take_or_queue(waiter):
                waiter.event.wait()
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0:
                self.release()

    async def acquire(self) -> None:
        """Wait on the event loop for a slot; the caller releases it (``release()``)."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop=loop, future=loop.create_future())
        if self._take_or_queue(waiter):
            return
        try:
            await waiter.future
        except BaseException:  # cancelled while waiting: leave the queue, or pass on a slot just handed over
            with self._lock:
                granted = waiter.granted
                if not granted:
                    self._queue.remove(waiter)
            if granted:
                self.release()
            raise

    def holding(self, fn):
        """`fn` for a worker thread, run as holding the slot its caller acquired."""

        def run(*args, **kwargs):
            depth = getattr(self._held, "depth", 0)
            self._held.depth = depth + 1
            try:
                return fn(*args, **kwargs)
            finally:
                self._held.depth = depth

        return run
