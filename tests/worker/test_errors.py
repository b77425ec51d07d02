"""Business errors (TaskError, with a name) and crashes (any other exception)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.worker import TaskError, Worker
from podium.worker.outcomes import CAUSE_LIMIT, ERROR_LIMIT, crashed, failed
from tests.worker.conftest import Start
from tests.worker.fakes import MemoryTransport, command


class CardReaderError(Exception):
    pass


def risk() -> Worker:
    worker = Worker("risk")

    @worker.handler("score")
    def score(payment: dict[str, Any]) -> dict[str, Any]:
        if payment["amount"] > 100:
            raise TaskError("Payment.Declined", f"score 97 for amount {payment['amount']}")
        if payment["amount"] < 0:
            raise CardReaderError("negative amount")
        return {"score": 3}

    return worker


def test_a_task_error_fails_the_task_with_its_name_and_cause(
    transport: MemoryTransport, start: Start
) -> None:
    start(risk())
    task = command({"amount": 500})
    transport.send_command(task)
    reply = transport.answer_of(task.task_token)
    assert (reply.status, reply.error, reply.cause) == (
        "failure",
        "Payment.Declined",
        "score 97 for amount 500",
    )
    assert transport.settled("acked") == [task.task_token]  # answered: done, not redelivered


def test_a_crash_is_reported_as_lambda_does_with_the_innermost_frame_only(
    transport: MemoryTransport, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    start(risk())
    task = command({"amount": -1})
    with caplog.at_level("INFO", logger="podium.worker"):
        transport.send_command(task)
        reply = transport.answer_of(task.task_token)
        transport.wait_for(lambda: any("CRASHED" in r.getMessage() for r in caplog.records))
    assert (reply.status, reply.error) == ("failure", "CardReaderError")
    assert reply.cause is not None
    cause = json.loads(reply.cause)
    assert cause["errorMessage"] == "negative amount" and cause["errorType"] == "CardReaderError"
    [frame] = cause["stackTrace"]
    assert "test_errors.py" in frame and "in score" in frame and "raise CardReaderError" in frame
    # The worker's own log has the whole traceback, on the task's line.
    [record] = [r for r in caplog.records if "CRASHED" in r.getMessage()]
    assert record.levelname == "WARNING" and record.exc_info is not None
    assert record.getMessage().split()[5:7] == ["CRASHED", "CardReaderError"]


def test_a_task_error_without_cause_has_none() -> None:
    worker = Worker("svc")

    def refuse(body: Any) -> None:
        raise TaskError("Card.Expired")

    worker.handle("work", refuse)
    transport = MemoryTransport()
    worker.start(transport)
    try:
        task = command({})
        transport.send_command(task)
        reply = transport.answer_of(task.task_token)
    finally:
        worker.stop(grace=0)
    assert (reply.error, reply.cause) == ("Card.Expired", None)


def test_errors_and_causes_fit_sendtaskfailures_limits() -> None:
    outcome = failed("E" * 1000, "c" * 100_000)
    assert len(outcome.error or "") == ERROR_LIMIT and len(outcome.cause or "") == CAUSE_LIMIT
    try:
        raise ValueError('"quoted" ' * 20_000)  # escaping makes the JSON longer than the message
    except ValueError as exc:
        crash = crashed(exc)
    assert crash.cause is not None and len(crash.cause) <= CAUSE_LIMIT
    parsed = json.loads(crash.cause)  # cut inside the message, never through the JSON
    assert parsed["errorType"] == "ValueError" and parsed["errorMessage"].startswith('"quoted"')


def test_system_exit_in_a_handler_releases_its_task_and_stops_the_worker(
    transport: MemoryTransport, start: Start
) -> None:
    # Not an Exception: the task is not failed (nothing went wrong with it); it goes back.
    worker = Worker("svc")

    def leave(body: Any) -> None:
        raise SystemExit(3)

    worker.handle("work", leave)
    start(worker)
    task = command({})
    transport.send_command(task)
    transport.wait_for(lambda: task.task_token in transport.settled("released"))
    assert transport.answers() == []
    assert worker.stop(grace=1) is True
