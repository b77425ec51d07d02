"""Timers: a heap and one thread that calls back when each timer is due.

A timer no longer wanted (its task closed, its execution ended) is cancelled: it stays in the
heap until due but does not fire. Firing it would cost the engine a step for nothing, and for
an execution that ended, a look in the database (it is no longer in memory).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable

from podium.runtime.clock import Clock


class TimerWheel:
    def __init__(self, clock: Clock, fire: Callable[[str, str], None]) -> None:
        self._clock = clock
        self._fire = fire
        self._heap: list[tuple[int, int, str, str]] = []
        self._armed: dict[str, dict[str, int]] = {}  # execution -> timer id -> its heap entry's seq
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="podium-timers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def schedule(self, fire_at_ms: int, execution_arn: str, timer_id: str) -> None:
        with self._cond:
            seq = next(self._seq)
            entry = (fire_at_ms, seq, execution_arn, timer_id)
            heapq.heappush(self._heap, entry)
            self._armed.setdefault(execution_arn, {})[timer_id] = seq
            # Only a new earliest timer needs the thread awake: waking it for every task's
            # TimeoutSeconds would have it take the GIL in the middle of each step.
            if self._heap[0] is entry:
                self._cond.notify()

    def cancel(self, execution_arn: str, timer_id: str) -> None:
        """Do not fire that timer (no-op for an id that is not an armed timer)."""
        with self._cond:
            timers = self._armed.get(execution_arn)
            if timers is not None and timers.pop(timer_id, None) is not None and not timers:
                del self._armed[execution_arn]

    def cancel_execution(self, execution_arn: str) -> None:
        """Do not fire any timer of that execution."""
        with self._cond:
            self._armed.pop(execution_arn, None)

    def armed(self) -> int:
        """Timers still to fire: for tests."""
        with self._cond:
            return sum(len(timers) for timers in self._armed.values())

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap:
                        delay = (self._heap[0][0] - self._clock.now_ms()) / 1000
                        if delay <= 0:
                            break
                        self._cond.wait(timeout=min(delay, 1.0))
                    else:
                        self._cond.wait()
                if self._stopped:
                    return
                _, seq, arn, timer_id = heapq.heappop(self._heap)
                timers = self._armed.get(arn)
                if timers is None or timers.get(timer_id) != seq:
                    continue  # cancelled (or scheduled again: that later entry fires)
                del timers[timer_id]
                if not timers:
                    del self._armed[arn]
            self._fire(arn, timer_id)
