"""The heartbeats of one task: automatic ones every N seconds while its handler runs, and manual ones.

N is the shortest of: `Worker(heartbeat_every=...)`; a third of the task's HeartbeatSeconds
when the command carries it (two beats may be lost before the orchestrator gives up); a
third of the transport's lease (a broker's visibility timeout, after which it would hand the
task to another consumer). When none is known, the source's fallback (activities: the API
does not tell a worker the state's HeartbeatSeconds); when there is none either, no beats.

A heartbeat that fails (the network, the broker) is logged and the handler goes on: a missed
beat costs at worst a heartbeat timeout, which the definition's Retry handles; a crashed
handler would cost the work done. A heartbeat the orchestrator answers "closed" (the task
timed out) stops the automatic beats and sets `closed`, which a handler may check to give up.
Manual beats closer together than `min_spacing` (a quarter second) are coalesced, so that calling
`ctx.heartbeat()` once per item of a big loop does not flood the transport.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("podium.worker")

# Seconds between two manual heartbeats actually sent: a flood costs at most 4 a second, and
# even HeartbeatSeconds=1 (the least ASL allows) survives a beat that was coalesced away.
MIN_SPACING = 0.25


def interval(
    configured: float | None,
    heartbeat_seconds: float | None,
    lease_seconds: float | None = None,
    fallback: float | None = None,
) -> float | None:
    """Seconds between automatic heartbeats, or None for none."""
    known = [configured] + [limit / 3 for limit in (heartbeat_seconds, lease_seconds) if limit]
    chosen = [v for v in known if v]
    return min(chosen) if chosen else fallback


class Heartbeats:
    """`send()` is one heartbeat; it returns False when the task is known to be closed."""

    def __init__(
        self,
        send: Callable[[], bool],
        every: float | None,
        *,
        tag: str = "",
        min_spacing: float = MIN_SPACING,
    ) -> None:
        self.every = every
        self.closed = False
        self.sent = 0
        self._send = send
        self._tag = tag
        self._min_spacing = min(min_spacing, every) if every else min_spacing
        self._lock = threading.Lock()
        self._last = time.monotonic()  # the task's start counts as a beat: none is due before `every`
        self._last_sent: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """A manual heartbeat; True while the task is open as far as anyone said."""
        now = time.monotonic()
        with self._lock:
            if self.closed or (self._last_sent is not None and now - self._last_sent < self._min_spacing):
                return not self.closed
            return self._beat_locked()

    def __enter__(self) -> Heartbeats:
        if self.every:
            # No thread yet: most tasks end before their first beat is due, and a thread's start
            # and join would sit in every task's way. A task still running then gets its own.
            _LATE_STARTER.add(self._last + self.every, self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            # A heartbeat in progress may be slow (a retrying client): don't hold the answer for it.
            thread.join(timeout=0.1)

    def _start_thread(self) -> None:
        """Called when the first automatic beat is due: the task's own heartbeat thread."""
        with self._lock:
            if self._stop.is_set() or self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._auto, name=f"podium-heartbeat-{self._tag}", daemon=True
            )
        self._thread.start()

    def _auto(self) -> None:
        assert self.every is not None
        while True:
            with self._lock:
                due = self._last + self.every
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            with self._lock:
                if time.monotonic() < self._last + self.every:  # a manual beat went meanwhile
                    continue
                if not self._beat_locked():
                    return

    def _beat_locked(self) -> bool:
        self._last = self._last_sent = time.monotonic()
        try:
            still_open = self._send()
        except Exception as exc:
            log.warning("task %s: heartbeat failed: %s: %s", self._tag, type(exc).__name__, exc)
            return True
        self.sent += 1
        if not still_open:
            self.closed = True
        return still_open


class _LateStarter:
    """One thread per process that starts a task's heartbeat thread when its first beat is due.

    A slow heartbeat never holds up another task's: this thread only starts threads, and each
    long task beats on its own. Entries of tasks that ended stay until their time comes and are
    dropped then (one small tuple per task, for at most one interval).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: list[tuple[float, int, Heartbeats]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, due: float, beats: Heartbeats) -> None:
        with self._cond:
            entry = (due, next(self._order), beats)
            heapq.heappush(self._due, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="podium-heartbeats", daemon=True)
                self._thread.start()
            # Only a new earliest entry needs the thread awake: waking it for every task would
            # have it take the GIL just as the task's handler starts.
            if self._due[0] is entry:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due:
                    self._cond.wait()
                due, _, beats = self._due[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._due)
            beats._start_thread()


_LATE_STARTER = _LateStarter()
