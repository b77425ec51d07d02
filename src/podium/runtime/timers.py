"""Timers: a heap and one thread that calls back when each timer is due."""

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
            heapq.heappush(self._heap, (fire_at_ms, next(self._seq), execution_arn, timer_id))
            self._cond.notify()

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
                _, _, arn, timer_id = heapq.heappop(self._heap)
            self._fire(arn, timer_id)
