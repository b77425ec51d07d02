"""Concurrency, graceful shutdown, a transport that fails, late answers."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from podium.worker import Worker, liveness
from tests.worker.conftest import Start
from tests.worker.fakes import MemoryTransport, command


class Gate:
    """Handlers wait at the gate; the test counts them and opens it."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.entered = threading.Semaphore(0)

    def handler(self, body: Any) -> Any:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        self.entered.release()
        try:
            assert self.opened.wait(10)
            return body
        finally:
            with self.lock:
                self.inside -= 1

    def wait_entered(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=5)


def gated(gate: Gate, **options: Any) -> Worker:
    worker = Worker("gated", **options)
    worker.handle("work", gate.handler)
    return worker


def test_no_more_tasks_in_flight_than_the_concurrency(transport: MemoryTransport, start: Start) -> None:
    gate = Gate()
    worker = start(gated(gate, concurrency=3))
    tasks = [command(i) for i in range(10)]
    for task in tasks:
        transport.send_command(task)
    gate.wait_entered(3)
    time.sleep(0.2)
    assert gate.inside == 3 and worker.in_flight == 3
    assert len(transport.commands) == 7  # the others were not taken: a slot takes one when free
    gate.opened.set()
    for task in tasks:
        assert transport.answer_of(task.task_token).output == int(task.body)
    assert gate.most == 3


def test_tasks_run_in_parallel_up_to_the_concurrency(transport: MemoryTransport, start: Start) -> None:
    worker = Worker("parallel", concurrency=4)
    worker.handle("work", lambda body: time.sleep(0.3))
    start(worker)
    tasks = [command(i) for i in range(8)]
    began = time.monotonic()
    for task in tasks:
        transport.send_command(task)
    for task in tasks:
        transport.answer_of(task.task_token)
    assert time.monotonic() - began < 1.5  # two rounds of 0.3 s, not eight


def test_stop_lets_the_task_in_flight_finish_and_takes_no_new_one(transport: MemoryTransport) -> None:
    gate = Gate()
    worker = gated(gate, concurrency=2)
    worker.start(transport)
    first = command("first")
    transport.send_command(first)
    gate.wait_entered(1)
    threading.Timer(0.3, gate.opened.set).start()
    stopping_since = time.monotonic()
    assert worker.stop(grace=5) is True  # waits for the task, releases nothing
    assert time.monotonic() - stopping_since >= 0.25
    assert transport.answer_of(first.task_token).output == "first"
    assert transport.settled("acked") == [first.task_token]
    later = command("later")
    transport.send_command(later)
    time.sleep(0.2)
    assert list(transport.commands) == [later]  # nobody took it
    assert transport.closed is False  # the test's transport: not ours to close


def test_after_the_grace_period_a_task_is_released_not_acked_and_its_answer_dropped(
    transport: MemoryTransport, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate()
    worker = gated(gate)
    worker.start(transport)
    task = command("slow")
    transport.send_command(task)
    gate.wait_entered(1)
    with caplog.at_level("INFO", logger="podium.worker"):
        assert worker.stop(grace=0.2) is False
        assert transport.settled("released") == [task.task_token]  # back to the broker at once
        gate.opened.set()  # the handler finishes after all
        transport.wait_for(lambda: "answer dropped" in caplog.text)
    assert transport.answers() == []
    assert "released after the 0.2 s grace period" in caplog.text


def test_an_idle_worker_stops_within_a_poll(transport: MemoryTransport) -> None:
    worker = Worker("idle", concurrency=4, poll_wait=0.2)
    worker.handle("work", lambda body: body)
    worker.start(transport)
    time.sleep(0.1)
    began = time.monotonic()
    assert worker.stop(grace=10) is True
    assert time.monotonic() - began < 1.0
    assert worker.stop() is True  # twice is fine


def test_a_worker_runs_again_after_a_stop_but_not_twice_at_once(transport: MemoryTransport) -> None:
    worker = Worker("again", poll_wait=0.05)
    worker.handle("work", lambda body: body)
    worker.start(transport)
    with pytest.raises(RuntimeError, match="already running"):
        worker.start(transport)
    worker.stop()
    worker.start(transport)
    task = command(1)
    transport.send_command(task)
    assert transport.answer_of(task.task_token).output == 1
    worker.stop()


def test_a_failing_transport_is_retried_with_one_warning(
    transport: MemoryTransport, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    transport.fail_receives = 3
    worker = Worker("patient", poll_wait=0.05)
    worker.handle("work", lambda body: body)
    with caplog.at_level("INFO", logger="podium.worker"):
        start(worker)
        task = command("eventually")
        transport.send_command(task)
        assert transport.answer_of(task.task_token).output == "eventually"
    warnings = [r for r in caplog.records if "cannot take tasks" in r.getMessage()]
    assert len(warnings) == 1 and "ConnectionError: broker down" in warnings[0].getMessage()
    assert "taking tasks from memory again" in caplog.text


def test_a_failed_answer_leaves_the_command_unacked(
    transport: MemoryTransport,
    start: Start,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(queue: str, reply: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(transport, "send_reply", refuse)
    worker = Worker("unheard")
    worker.handle("work", lambda body: body)
    with caplog.at_level("INFO", logger="podium.worker"):
        start(worker)
        task = command(1)
        transport.send_command(task)
        transport.wait_for(lambda: "UNANSWERED" in caplog.text)
    [delivery] = transport.deliveries
    assert delivery.settled is None  # the broker delivers it again; the ledger dedupes the rerun


def test_an_answer_after_the_deadline_is_sent_and_logged_as_late(
    transport: MemoryTransport, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Worker("tardy")
    worker.handle("work", lambda body: time.sleep(0.2) or "late")
    with caplog.at_level("INFO", logger="podium.worker"):
        start(worker)
        # TimeoutSeconds=1, sent 0.9 s ago: the handler keeps running past the deadline.
        task = command({}, timeout_seconds=1, sent_ms=int(time.time() * 1000) - 900)
        transport.send_command(task)
        assert transport.answer_of(task.task_token).output == "late"  # harmless: the core drops it
        transport.wait_for(lambda: "late: after the task's deadline" in caplog.text)


def test_run_serves_until_stopped_from_another_thread(transport: MemoryTransport) -> None:
    worker = Worker("served", poll_wait=0.05)
    worker.handle("work", lambda body: body)
    task = command("x")
    transport.send_command(task)
    threading.Timer(0.5, worker.stop).start()
    assert worker.run(transport, handle_signals=False) is True
    assert transport.answer_of(task.task_token).output == "x"


def test_a_health_file_is_kept_fresh_while_the_worker_runs(
    transport: MemoryTransport, tmp_path: Path
) -> None:
    path = tmp_path / "run" / "svc-1.heartbeat"
    worker = Worker("healthy", poll_wait=0.05, health_file=str(path))
    worker.handle("work", lambda body: body)
    worker.start(transport)
    try:
        assert path.exists()  # at once: a supervisor's start period need not wait for the first beat
        os.utime(path, (0, 0))
        deadline = time.monotonic() + 5
        while path.stat().st_mtime == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert time.time() - path.stat().st_mtime < 5
    finally:
        worker.stop()
    os.utime(path, (0, 0))
    time.sleep(liveness.EVERY + 0.5)
    assert path.stat().st_mtime == 0  # a stopped worker is not alive


def test_sigterm_stops_gracefully_and_a_second_one_ends_the_grace_period(transport: MemoryTransport) -> None:
    gate = Gate()
    worker = gated(gate, grace=30)
    task = command("long")
    transport.send_command(task)
    before = signal.getsignal(signal.SIGTERM)

    def installed() -> bool:
        return signal.getsignal(signal.SIGTERM) is not before

    def signal_twice() -> None:
        gate.wait_entered(1)
        # The task can reach its handler before run() has installed the signal handlers (on
        # a loaded machine): a SIGTERM then would take the default action and end pytest.
        deadline = time.monotonic() + 10
        while not installed() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not installed():
            worker.stop(0)  # the test fails below (nothing released by a signal), pytest lives
            return
        os.kill(os.getpid(), signal.SIGTERM)  # stop taking tasks; the one in flight has 30 s
        time.sleep(0.3)
        if worker.in_flight == 1 and installed():
            os.kill(os.getpid(), signal.SIGTERM)  # no: now

    threading.Thread(target=signal_twice, daemon=True).start()
    began = time.monotonic()
    try:
        assert worker.run(transport) is False  # on the main thread: it handles the signals
    finally:
        gate.opened.set()
    assert time.monotonic() - began < 5
    assert transport.settled("released") == [task.task_token]
    assert signal.getsignal(signal.SIGTERM) is before  # put back as it was
