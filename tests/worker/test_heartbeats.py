"""Heartbeats: automatic while a handler runs, manual through the context, and what stops them."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from podium.worker import TaskContext, Worker
from podium.worker.heartbeats import Heartbeats, interval
from tests.worker.conftest import Start
from tests.worker.fakes import MemoryTransport, command


def sleeper(seconds: float) -> Worker:
    worker = Worker("slow")
    worker.handle("work", lambda body: time.sleep(seconds) or "done")
    return worker


def test_the_interval_is_the_shortest_of_what_is_known() -> None:
    assert interval(None, 30) == 10  # a third of HeartbeatSeconds
    assert interval(4.0, 30) == 4.0  # the worker's own, when shorter
    assert interval(20.0, 30) == 10  # never longer than HeartbeatSeconds allows
    assert interval(None, None, lease_seconds=30) == 10  # the broker's visibility timeout
    assert interval(None, 60, lease_seconds=30) == 10
    assert interval(None, None, None, fallback=10.0) == 10.0  # activities: nothing is known
    assert interval(None, None) is None  # no HeartbeatSeconds, no lease: no beats


def test_a_slow_handler_heartbeats_on_its_own(transport: MemoryTransport, start: Start) -> None:
    start(sleeper(0.75))
    task = command({}, heartbeat_seconds=1)  # a beat every third of a second
    transport.send_command(task)
    reply = transport.answer_of(task.task_token)
    assert reply.output == "done"
    beats = transport.heartbeats(task.task_token)
    assert 1 <= len(beats) <= 3
    assert all(b.worker and b.worker.startswith("slow@") for b in beats)
    # Every heartbeat came before the answer.
    assert transport.replies.index(reply) > max(transport.replies.index(b) for b in beats)


def test_a_task_without_heartbeat_seconds_gets_no_heartbeats(
    transport: MemoryTransport, start: Start
) -> None:
    start(sleeper(0.3))
    task = command({})
    transport.send_command(task)
    transport.answer_of(task.task_token)
    assert transport.heartbeats() == []


def test_heartbeats_keep_a_brokers_lease_alive(start: Start) -> None:
    leased = MemoryTransport(visibility_timeout=0.6)  # a long task would go to another consumer
    start(sleeper(0.5), leased)
    task = command({})
    leased.send_command(task)
    leased.answer_of(task.task_token)
    [delivery] = leased.deliveries
    assert delivery.touches >= 1 and len(leased.heartbeats()) == delivery.touches


def test_ctx_heartbeat_sends_one_at_once_and_coalesces_a_flood(
    transport: MemoryTransport, start: Start
) -> None:
    worker = Worker("manual")
    results: list[bool] = []

    @worker.handler("work")
    def work(body: Any, ctx: TaskContext) -> int:
        results.extend(ctx.heartbeat() for _ in range(1000))  # one per item of a big loop
        return len(results)

    start(worker)
    task = command({})
    transport.send_command(task)
    assert transport.answer_of(task.task_token).output == 1000
    assert len(transport.heartbeats(task.task_token)) == 1
    assert all(results)


def test_the_worker_may_set_the_interval(transport: MemoryTransport, start: Start) -> None:
    worker = sleeper(0.45)
    worker.configure(heartbeat_every=0.1)
    start(worker)
    task = command({})
    transport.send_command(task)
    transport.answer_of(task.task_token)
    assert len(transport.heartbeats(task.task_token)) >= 3


def test_a_closed_task_stops_the_beats_and_tells_the_handler() -> None:
    sent: list[float] = []

    def send() -> bool:
        sent.append(time.monotonic())
        return len(sent) < 2  # the orchestrator says "closed" at the second beat

    with Heartbeats(send, 0.05) as beats:
        deadline = time.monotonic() + 2
        while not beats.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert beats.closed
        time.sleep(0.2)
        assert len(sent) == 2  # no more automatic beats after that
        assert beats.beat() is False  # nor manual ones


def test_a_failing_heartbeat_is_logged_and_the_handler_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls = threading.Event()

    def send() -> bool:
        calls.set()
        raise ConnectionError("broker down")

    with caplog.at_level("WARNING", logger="podium.worker"), Heartbeats(send, 0.05, tag="t1") as beats:
        assert calls.wait(2)
        assert beats.beat() is True and not beats.closed
    assert "task t1: heartbeat failed: ConnectionError: broker down" in caplog.text


def test_a_manual_beat_postpones_the_automatic_one() -> None:
    sent: list[float] = []
    with Heartbeats(lambda: sent.append(time.monotonic()) is None, 0.6) as beats:
        time.sleep(0.3)
        beats.beat()
        time.sleep(0.4)  # 0.7 s after the start, but only 0.4 s after the manual beat
        assert len(sent) == 1
        time.sleep(0.5)
        assert len(sent) == 2


def test_a_task_that_ends_before_its_first_beat_starts_no_thread() -> None:
    sent: list[int] = []
    beats = Heartbeats(lambda: sent.append(1) or True, 0.3, tag="quick")
    with beats:
        pass
    time.sleep(0.5)  # past the first beat's time: nothing starts for a task that has ended
    assert beats._thread is None and sent == []
    assert not [t for t in threading.enumerate() if t.name == "podium-heartbeat-quick"]
