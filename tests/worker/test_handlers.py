"""Handlers by name: which one runs, what it gets, what its answer becomes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from podium.worker import HandlerNotFoundError, TaskContext, Worker
from tests.worker.conftest import Start
from tests.worker.fakes import MemoryTransport, command


def payment_auth() -> Worker:
    worker = Worker("payment-auth")

    @worker.handler("authorize")
    def authorize(payment: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        return {"authorized": payment["amount"], "by": ctx.handler}

    @worker.handler("void")
    def void(payment: dict[str, Any]) -> dict[str, Any]:  # the context is optional
        return {"voided": payment["amount"]}

    return worker


def test_the_command_field_names_the_handler(transport: MemoryTransport, start: Start) -> None:
    start(payment_auth())
    first = command({"command": "authorize", "amount": 5})
    second = command({"command": "void", "amount": 5})
    transport.send_command(first)
    transport.send_command(second)
    assert transport.answer_of(first.task_token).output == {"authorized": 5, "by": "authorize"}
    assert transport.answer_of(second.task_token).output == {"voided": 5}
    assert sorted(transport.settled("acked")) == sorted([first.task_token, second.task_token])


def test_without_a_command_field_the_only_handler_runs(transport: MemoryTransport, start: Start) -> None:
    worker = Worker("risk")
    worker.handle("score", lambda payment: {"score": 10})
    start(worker)
    task = command({"amount": 5})
    transport.send_command(task)
    assert transport.answer_of(task.task_token).output == {"score": 10}


def test_without_a_command_field_the_default_handler_runs(transport: MemoryTransport, start: Start) -> None:
    worker = Worker("transaction")
    worker.handle("capture", lambda body: "captured", default=True)
    worker.handle("reverse", lambda body: "reversed")
    start(worker)
    plain, named = command([1, 2]), command({"command": "reverse"})
    transport.send_command(plain)
    transport.send_command(named)
    assert transport.answer_of(plain.task_token).output == "captured"
    assert transport.answer_of(named.task_token).output == "reversed"


def test_an_unknown_command_fails_the_task_with_lambdas_handler_not_found(
    transport: MemoryTransport, start: Start
) -> None:
    start(payment_auth())
    unknown, unnamed = command({"command": "refund"}), command({"amount": 1})
    transport.send_command(unknown)
    transport.send_command(unnamed)
    reply = transport.answer_of(unknown.task_token)
    assert (reply.status, reply.error) == ("failure", "Runtime.HandlerNotFound")
    assert reply.cause == "payment-auth has no handler for command='refund' (it has authorize, void)"
    reply = transport.answer_of(unnamed.task_token)
    assert reply.error == "Runtime.HandlerNotFound"
    assert "no 'command' field" in str(reply.cause)


def test_the_command_key_is_configurable_and_can_be_turned_off() -> None:
    worker = Worker("svc", command_key="op")
    worker.handle("a", lambda body: 1)
    worker.handle("b", lambda body: 2, default=True)
    assert worker.route({"op": "a"})[0] == "a"
    assert worker.route({"command": "a"})[0] == "b"
    worker.configure(command_key=None)
    assert worker.route({"op": "a"})[0] == "b"


def test_handlers_are_declared_once_each_and_take_one_or_two_arguments() -> None:
    worker = Worker("svc")
    worker.handle("a", lambda body: 1, default=True)
    with pytest.raises(ValueError, match="already has a handler 'a'"):
        worker.handle("a", lambda body: 2)
    with pytest.raises(ValueError, match="already has a default handler"):
        worker.handle("b", lambda body: 2, default=True)
    with pytest.raises(TypeError, match="takes \\(input\\) or \\(input, ctx\\)"):
        worker.handle("c", lambda: 3)
    with pytest.raises(HandlerNotFoundError):
        Worker("empty").route({})
    with pytest.raises(ValueError, match="has no handlers"):
        Worker("empty").start(MemoryTransport())


def test_the_context_carries_the_token_as_idempotency_key_attempt_and_deadline(
    transport: MemoryTransport, start: Start
) -> None:
    seen: list[TaskContext] = []
    worker = Worker("svc")
    worker.handle("work", lambda body, ctx: seen.append(ctx))
    start(worker)
    sent_ms = int(time.time() * 1000)
    task = command({}, attempt=3, sent_ms=sent_ms, timeout_seconds=60)
    transport.send_command(task)
    transport.answer_of(task.task_token)
    [ctx] = seen
    assert ctx.token == ctx.idempotency_key == task.task_token
    assert ctx.attempt == 3 and ctx.handler == "work" and ctx.worker == "svc"
    assert ctx.deadline == pytest.approx(sent_ms / 1000 + 60)
    remaining = ctx.remaining()
    assert remaining is not None and 55 < remaining <= 60
    assert ctx.execution_arn == task.execution_arn and ctx.state_name == "Work"
    assert ctx.tag == task.task_token[-8:]


def test_the_context_logger_names_the_task(
    transport: MemoryTransport, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Worker("svc")
    worker.handle("work", lambda body, ctx: ctx.logger.info("holding %s", body["amount"]))
    start(worker)
    task = command({"amount": 7})
    with caplog.at_level("INFO"):
        transport.send_command(task)
        transport.answer_of(task.task_token)
    records = [r for r in caplog.records if r.name == "podium.worker.svc"]
    assert [r.getMessage() for r in records] == [f"task {task.task_token[-8:]}: holding 7"]


def test_each_task_logs_one_line_with_tag_handler_time_and_outcome(
    transport: MemoryTransport, start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    start(payment_auth())
    task = command({"command": "authorize", "amount": 1})
    with caplog.at_level("INFO", logger="podium.worker"):
        transport.send_command(task)
        transport.answer_of(task.task_token)
        transport.wait_for(lambda: any("SUCCEEDED" in r.getMessage() for r in caplog.records))
    [line] = [r.getMessage() for r in caplog.records if "SUCCEEDED" in r.getMessage()]
    tag = task.task_token[-8:]
    assert line.startswith(f"task {tag} payment-auth.authorize ") and " ms SUCCEEDED" in line
    assert line.endswith(f"execution={task.execution_arn.rsplit(':', 1)[-1]}")


def returning(value: Any) -> Any:
    return lambda body: value


@pytest.mark.parametrize(
    ("value", "output", "error", "cause"),
    [
        ((1, 2), [1, 2], None, None),
        (
            {1},
            None,
            "Runtime.MarshalError",
            "Unable to marshal response: Object of type set is not JSON serializable",
        ),
        (
            float("nan"),
            None,
            "Runtime.MarshalError",
            "Unable to marshal response: Out of range float values are not JSON compliant",
        ),
    ],
)
def test_outputs_cross_as_json(
    transport: MemoryTransport, start: Start, value: Any, output: Any, error: str | None, cause: str | None
) -> None:
    worker = Worker("svc")
    worker.handle("work", returning(value))
    start(worker)
    task = command({})
    transport.send_command(task)
    reply = transport.answer_of(task.task_token)
    assert (reply.output, reply.error, reply.cause) == (output, error, cause)
