"""The timer wheel: timers fire when due, in order; cancelled ones never do."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from podium.runtime.clock import SystemClock
from podium.runtime.timers import TimerWheel

Wheel = tuple[TimerWheel, list[tuple[str, str]], threading.Event, int]


@pytest.fixture
def wheel() -> Iterator[Wheel]:
    """A running wheel, what it fired, an event set when the timer "last" fires, and now (ms)."""
    fired: list[tuple[str, str]] = []
    last = threading.Event()

    def fire(arn: str, timer_id: str) -> None:
        fired.append((arn, timer_id))
        if timer_id == "last":
            last.set()

    timers = TimerWheel(SystemClock(), fire)
    timers.start()
    try:
        yield timers, fired, last, SystemClock().now_ms()
    finally:
        timers.stop()


def test_timers_fire_in_order_and_cancelled_ones_do_not(wheel: Wheel) -> None:
    timers, fired, last, now = wheel
    timers.schedule(now + 60, "exec-1", "heartbeat")
    timers.schedule(now + 40, "exec-1", "timeout")
    timers.schedule(now + 50, "exec-2", "wait")
    timers.schedule(now + 70, "exec-3", "a")
    timers.schedule(now + 80, "exec-3", "b")
    timers.schedule(now + 150, "exec-4", "last")
    timers.cancel("exec-1", "heartbeat")  # its task closed
    timers.cancel("exec-1", "no-such-timer")
    timers.cancel_execution("exec-3")  # it ended
    assert timers.armed() == 3
    assert last.wait(5)
    assert fired == [("exec-1", "timeout"), ("exec-2", "wait"), ("exec-4", "last")]
    assert timers.armed() == 0


def test_a_timer_scheduled_again_fires_once_at_its_last_time(wheel: Wheel) -> None:
    timers, fired, last, now = wheel
    timers.schedule(now + 30, "exec-1", "heartbeat")
    timers.schedule(now + 90, "exec-1", "heartbeat")  # a heartbeat came: later now
    timers.schedule(now + 120, "exec-1", "last")
    started = time.monotonic()
    assert last.wait(5)
    assert fired == [("exec-1", "heartbeat"), ("exec-1", "last")]
    assert time.monotonic() - started >= 0.08


def test_an_earlier_timer_than_the_one_waited_for_fires_on_time(wheel: Wheel) -> None:
    timers, fired, last, now = wheel
    timers.schedule(now + 60_000, "exec-1", "far")
    time.sleep(0.05)  # the wheel's thread now waits for "far" (at most a second at a time)
    scheduled = time.monotonic()
    timers.schedule(SystemClock().now_ms() + 20, "exec-2", "last")
    assert last.wait(5)
    assert time.monotonic() - scheduled < 0.5  # woken for it, not at the next second
    timers.schedule(SystemClock().now_ms() + 60_000, "exec-3", "later")  # not the earliest: no wake
    assert fired == [("exec-2", "last")]
