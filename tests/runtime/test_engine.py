"""The durable engine: executions run to their end, start is idempotent, recovery commits what was owed."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.core.messages import StartExecution
from podium.runtime.engine import Engine, ExecutionAlreadyExistsError
from podium.runtime.simulator import execution_info
from podium.store.memory import MemoryStore
from podium.store.records import ExecutionRecord
from podium.store.sqlite import SQLiteStore
from tests.callbacks import promise

GREET = json.dumps(
    {
        "StartAt": "Greet",
        "States": {
            "Greet": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:greet",
                "ResultPath": "$.greeting",
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
)


def greet(event: dict[str, Any]) -> str:
    return f"hello {event['who']}"


@pytest.fixture
def engine() -> Iterator[Engine]:
    store = MemoryStore()
    with Engine(store, connectors=[FunctionConnector(FunctionRegistry({"greet": greet}))]) as running:
        yield running


def test_an_execution_runs_to_its_end_and_records_its_history(engine: Engine) -> None:
    machine = engine.create_state_machine("greeter", GREET)
    started = engine.start_execution(machine.arn, {"who": "ada"}, name="first")
    record = engine.wait(started.arn, timeout=10)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "null") == {"who": "ada", "greeting": "hello ada"}
    types = [e.type for e in engine.store.history(started.arn)]
    assert types == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert engine.store.pending_commands(started.arn) == []


def test_start_is_idempotent_on_name_and_input_while_running(engine: Engine) -> None:
    wait = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}})
    machine = engine.create_state_machine("waiter", wait)
    first = engine.start_execution(machine.arn, {"a": 1}, name="same")
    again = engine.start_execution(machine.arn, {"a": 1}, name="same")
    assert again.arn == first.arn
    with pytest.raises(ExecutionAlreadyExistsError):
        engine.start_execution(machine.arn, {"a": 2}, name="same")


def submitted(engine: Engine, arn: str, value: Any, **params: Any) -> Future[ExecutionRecord]:
    future, done = promise()
    engine.submit_start(engine.prepare_start(arn, value, **params), done)
    return future


def test_a_submitted_execution_runs_once_durable_and_is_idempotent_as_a_start(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "podium.db")
    connectors = [FunctionConnector(FunctionRegistry({"greet": greet}))]
    with contextlib.closing(store), Engine(store, connectors=connectors) as engine:
        machine = engine.create_state_machine("greeter", GREET)
        started = submitted(engine, machine.arn, {"who": "ada"}, name="first").result(timeout=10)
        assert store.get_execution(started.arn) is not None  # durable before the future resolved
        record = engine.wait(started.arn, timeout=10)
        assert record.status == "SUCCEEDED"
        assert json.loads(record.output or "null") == {"who": "ada", "greeting": "hello ada"}
        # A finished execution's name is taken: the future carries ExecutionAlreadyExists.
        with pytest.raises(ExecutionAlreadyExistsError):
            submitted(engine, machine.arn, {"who": "ada"}, name="first").result(timeout=10)
        pass_only = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
        quick = engine.create_state_machine("quick", pass_only)
        ended = submitted(engine, quick.arn, {"x": 1}).result(timeout=10)
        assert ended.status == "SUCCEEDED"  # ended in its first step, written closed
        assert engine.wait(ended.arn, timeout=1).status == "SUCCEEDED"


def test_a_task_without_connector_fails_the_execution_with_a_clear_cause(engine: Engine) -> None:
    unknown = json.dumps(
        {
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}},
        }
    )
    machine = engine.create_state_machine("unknown", unknown)
    record = engine.wait(engine.start_execution(machine.arn, {}).arn, timeout=10)
    assert record.status == "FAILED"
    assert "no connector" in (record.cause or "")


def test_an_unknown_function_fails_the_task_as_lambda_would(engine: Engine) -> None:
    machine = engine.create_state_machine("missing", GREET.replace("function:greet", "function:nobody"))
    record = engine.wait(engine.start_execution(machine.arn, {"who": "x"}).arn, timeout=10)
    assert record.status == "FAILED"
    assert record.error == "Lambda.ResourceNotFoundException"


def test_a_started_execution_whose_first_step_was_never_committed_is_resumed(tmp_path: Path) -> None:
    """The crash window between StartExecution's insert and the first step's commit."""
    db = str(tmp_path / "podium.db")
    store = SQLiteStore(db)
    registry = FunctionRegistry({"greet": greet})
    with Engine(store, connectors=[FunctionConnector(registry)]) as engine:
        machine = engine.create_state_machine("greeter", GREET)
    info = execution_info(name="orphan", machine_name="greeter")
    store.create_execution(
        ExecutionRecord(
            arn=info.execution_arn,
            name="orphan",
            state_machine_arn=machine.arn,
            definition=GREET,
            input='{"who":"bob"}',
            start_ms=1,
        ),
        StartExecution(1, input={"who": "bob"}, info=info, seed=7),
    )
    assert store.event_count(info.execution_arn) == 0
    with Engine(store, connectors=[FunctionConnector(registry)]) as engine:
        record = engine.wait(info.execution_arn, timeout=10)
    assert record.status == "SUCCEEDED"
    assert json.loads(record.output or "null")["greeting"] == "hello bob"
    store.close()


def test_a_wait_fires_at_its_time(tmp_path: Path) -> None:
    wait = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}})
    store = SQLiteStore(str(tmp_path / "w.db"))
    with Engine(store) as engine:
        machine = engine.create_state_machine("waiter", wait)
        record = engine.wait(engine.start_execution(machine.arn, {}).arn, timeout=10)
    events = store.history(record.arn)
    entered = next(e for e in events if e.type == "WaitStateEntered")
    exited = next(e for e in events if e.type == "WaitStateExited")
    assert record.status == "SUCCEEDED"
    assert 0.99 <= exited.timestamp - entered.timestamp < 2.0
    store.close()


# --- informational steps go into the next commit ---------------------------------------------

SUBMITTED = json.dumps(
    {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "End": True,
            }
        },
    }
)


class SubmittingConnector:
    """Reports TaskSubmitted at once, and answers only when the test says so."""

    def __init__(self) -> None:
        self.replies: list[Any] = []
        self.commands: list[Any] = []

    def accepts(self, resource: str) -> bool:
        return resource.startswith("arn:aws:states:::sqs:")

    def invoke(self, command: Any, reply: Any) -> None:
        from podium.core.messages import TaskSubmitted

        self.commands.append(command)
        self.replies.append(reply)
        reply(TaskSubmitted(0, command.command_id, {"MessageId": "m-1"}))


def started_with_submission(store: MemoryStore) -> tuple[Engine, SubmittingConnector, str]:
    connector = SubmittingConnector()
    engine = Engine(store, connectors=[connector])
    engine.start()
    machine = engine.create_state_machine("submitter", SUBMITTED)
    arn = engine.start_execution(machine.arn, {"a": 1}).arn
    deadline = time.monotonic() + 10
    while not connector.replies and time.monotonic() < deadline:
        time.sleep(0.005)
    assert connector.replies
    return engine, connector, arn


def test_a_submission_is_committed_with_the_answer_that_follows_it() -> None:
    from podium.core.messages import TaskSucceeded

    store = MemoryStore()
    engine, connector, arn = started_with_submission(store)
    try:
        time.sleep(0.05)  # the engine has applied TaskSubmitted by now; it waits for the next step
        assert "TaskSubmitted" not in [e.type for e in store.history(arn)]
        command = connector.commands[0]
        connector.replies[0](TaskSucceeded(0, command.command_id, {"ok": True}))
        record = engine.wait(arn, timeout=10)
        assert record.status == "SUCCEEDED"
        types = [e.type for e in store.history(arn)]
        assert types.index("TaskSubmitted") < types.index("TaskSucceeded")
        assert [e.id for e in store.history(arn)] == list(range(1, len(types) + 1))
        assert record.version == 2  # the first step, then TaskSubmitted and the answer in one commit
    finally:
        engine.stop()


def test_a_submission_with_no_answer_is_committed_alone_soon_after() -> None:
    from podium.runtime.engine import DEFER_SECONDS

    store = MemoryStore()
    engine, _, arn = started_with_submission(store)
    try:
        deadline = time.monotonic() + DEFER_SECONDS + 5
        while "TaskSubmitted" not in [e.type for e in store.history(arn)]:
            assert time.monotonic() < deadline, "the deferred step was never committed"
            time.sleep(0.01)
        record = store.get_execution(arn)
        assert record is not None and (record.status, record.version) == ("RUNNING", 2)
    finally:
        engine.stop()


def test_stopping_the_engine_commits_a_deferred_submission() -> None:
    store = MemoryStore()
    engine, _, arn = started_with_submission(store)
    time.sleep(0.05)
    engine.stop()
    assert "TaskSubmitted" in [e.type for e in store.history(arn)]


class ExpeditingConnector(SubmittingConnector):
    """Notes whether the engine let it send on its thread (invoke_now) or not (invoke)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []  # (method, state)

    def invoke(self, command: Any, reply: Any) -> None:
        self.calls.append(("invoke", command.state_name))
        super().invoke(command, reply)

    def invoke_now(self, command: Any, reply: Any) -> None:
        self.calls.append(("invoke_now", command.state_name))
        super().invoke(command, reply)


PARALLEL_SENDS = json.dumps(
    {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": name,
                        "States": {
                            name: {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                                "Parameters": {"QueueUrl": "q", "MessageBody": {"T.$": "$$.Task.Token"}},
                                "End": True,
                            }
                        },
                    }
                    for name in ("Left", "Right")
                ],
                "End": True,
            }
        },
    }
)


def test_a_connector_sends_on_the_engines_thread_and_its_answers_are_taken_there() -> None:
    """With nothing queued, both commands of a step go out on the stepping thread (invoke_now);
    the TaskSubmitted each gives at once is taken by that thread right after the step (no
    wake-up of another thread), and both tasks are then submitted."""
    connector = ExpeditingConnector()
    with parallel_sends(connector) as (engine, arn):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and engine.store.get_execution(arn).version < 2:
            time.sleep(0.005)
        assert connector.calls == [("invoke_now", "Left"), ("invoke_now", "Right")]
        engine.stop()  # commits the deferred TaskSubmitted step
        types = [event.type for event in engine.store.history(arn)]
        assert types.count("TaskSubmitted") == 2


@contextlib.contextmanager
def parallel_sends(connector: ExpeditingConnector) -> Iterator[tuple[Engine, str]]:
    """An engine on `connector` running PARALLEL_SENDS: the engine and the execution's ARN."""
    engine = Engine(MemoryStore(), connectors=[connector])
    engine.start()
    try:
        machine = engine.create_state_machine("both", PARALLEL_SENDS)
        yield engine, engine.start_execution(machine.arn, {}).arn
    finally:
        engine.stop()


class LateAnsweringConnector(ExpeditingConnector):
    """Answers Left's TaskSubmitted from another thread, as a broker's confirmation would."""

    def invoke_now(self, command: Any, reply: Any) -> None:
        from podium.core.messages import TaskSubmitted

        self.calls.append(("invoke_now", command.state_name))
        self.commands.append(command)
        self.replies.append(reply)
        answer = threading.Thread(target=reply, args=(TaskSubmitted(0, command.command_id, {}),))
        answer.start()
        answer.join()


def test_a_connector_sends_on_the_engines_thread_only_while_nothing_waits_for_it() -> None:
    """An answer from another thread is queued for the engine as usual; with it waiting, the
    step's next command is handed over (invoke), not sent on the stepping thread."""
    connector = LateAnsweringConnector()
    with parallel_sends(connector) as (engine, arn):
        deadline = time.monotonic() + 10
        while len(connector.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert connector.calls == [("invoke_now", "Left"), ("invoke", "Right")]
        engine.stop()
        types = [event.type for event in engine.store.history(arn)]
        assert types.count("TaskSubmitted") == 2


TWO_CALLS = json.dumps(
    {
        "StartAt": "A",
        "States": {
            name: {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                **({"Next": "B"} if name == "A" else {"End": True}),
            }
            for name in ("A", "B")
        },
    }
)


class NotingConnector:
    """Notes the thread each command is sent from; answers only when the test says so, and
    holds a send while `hold` is clear."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []  # (execution name, state, thread)
        self.commands: dict[tuple[str, str], Any] = {}
        self.hold = threading.Event()
        self.hold.set()
        self.holding = threading.Event()

    def accepts(self, resource: str) -> bool:
        return resource.startswith("arn:aws:states:::sqs:")

    def invoke(self, command: Any, reply: Any) -> None:
        from podium.core import tokens

        parts = tokens.parse(command.task_token)
        assert parts is not None
        name = parts.execution_arn.rsplit(":", 1)[-1]
        if not self.hold.is_set():
            self.holding.set()
            self.hold.wait(10)
        self.commands[name, command.state_name] = command
        self.sent.append((name, command.state_name, threading.current_thread().name))


def answer(command: Any) -> Any:
    from podium.core.messages import TaskSucceeded

    return TaskSucceeded(0, command.command_id, {"ok": True})


def until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_an_answer_delivered_now_to_an_idle_engine_takes_its_step_on_the_callers_thread() -> None:
    connector = NotingConnector()
    with Engine(MemoryStore(), connectors=[connector]) as engine:
        machine = engine.create_state_machine("two", TWO_CALLS)
        arn = engine.start_execution(machine.arn, {}, name="one").arn
        until(lambda: ("one", "A") in connector.commands)
        caller = threading.Thread(
            target=engine.deliver_now, args=(arn, answer(connector.commands["one", "A"])), name="replier"
        )
        caller.start()
        caller.join(10)
        # B was sent within deliver_now, on the caller's thread: the step was taken there.
        assert connector.sent == [("one", "A", "podium-engine"), ("one", "B", "replier")]
        engine.deliver_now(arn, answer(connector.commands["one", "B"]))
        assert engine.wait(arn, timeout=10).status == "SUCCEEDED"
        types = [e.type for e in engine.store.history(arn)]
        assert types.count("TaskSucceeded") == 2 and types[-1] == "ExecutionSucceeded"


def test_an_answer_delivered_now_to_a_busy_engine_waits_its_turn_on_the_engines_thread() -> None:
    connector = NotingConnector()
    with Engine(MemoryStore(), connectors=[connector]) as engine:
        machine = engine.create_state_machine("two", TWO_CALLS)
        first = engine.start_execution(machine.arn, {}, name="first").arn
        until(lambda: ("first", "A") in connector.commands)
        connector.hold.clear()
        engine.start_execution(machine.arn, {}, name="second")  # its send is held: the engine is busy
        assert connector.holding.wait(10)
        engine.deliver_now(first, answer(connector.commands["first", "A"]))  # returns: queued
        assert ("first", "B") not in connector.commands
        connector.hold.set()
        until(lambda: ("first", "B") in connector.commands)
        assert connector.sent[-1] == ("first", "B", "podium-engine")


def test_answers_delivered_together_are_committed_together_then_each_goes_on(tmp_path: Path) -> None:
    connector = NotingConnector()
    store = SQLiteStore(tmp_path / "podium.db")
    with Engine(store, connectors=[connector]) as engine:
        machine = engine.create_state_machine("two", TWO_CALLS)
        names = [f"run-{n}" for n in range(6)]
        arns = [engine.start_execution(machine.arn, {}, name=name).arn for name in names]
        until(lambda: all((name, "A") in connector.commands for name in names))
        before = store._group.transactions
        answers = [
            (arn, answer(connector.commands[name, "A"])) for arn, name in zip(arns, names, strict=True)
        ]
        engine.deliver_all_now(answers)
        # Six steps, one transaction (one fsync); then every execution sent its next task.
        assert store._group.transactions == before + 1
        assert all((name, "B") in connector.commands for name in names)
        engine.deliver_all_now(
            [(arn, answer(connector.commands[name, "B"])) for arn, name in zip(arns, names, strict=True)]
        )
        for arn in arns:
            assert engine.wait(arn, timeout=10).status == "SUCCEEDED"
    store.close()


def test_a_step_the_store_refuses_in_a_batch_costs_only_its_own_execution(tmp_path: Path) -> None:
    """One execution moved under the engine (another writer bumped its version): its step is
    refused, the others of the batch commit; reloaded, the refused one goes on from the store."""
    connector = NotingConnector()
    store = SQLiteStore(tmp_path / "podium.db")
    with Engine(store, connectors=[connector]) as engine:
        machine = engine.create_state_machine("two", TWO_CALLS)
        names = ["good-1", "moved", "good-2"]
        arns = [engine.start_execution(machine.arn, {}, name=name).arn for name in names]
        until(lambda: all((name, "A") in connector.commands for name in names))
        record = store.get_execution(arns[1])
        assert record is not None
        store.commit(arns[1], record.version)  # an empty step by someone else: version + 1
        answers = [
            (arn, answer(connector.commands[name, "A"])) for arn, name in zip(arns, names, strict=True)
        ]
        engine.deliver_all_now(answers)
        assert ("good-1", "B") in connector.commands and ("good-2", "B") in connector.commands
        assert ("moved", "B") not in connector.commands
        assert "TaskSucceeded" not in [e.type for e in store.history(arns[1])]
        # Its answer again (the broker redelivers what was not acked): loaded afresh, it goes on.
        engine.deliver_all_now([(arns[1], answer(connector.commands["moved", "A"]))])
        until(lambda: ("moved", "B") in connector.commands)
    store.close()


def test_a_submission_delivered_now_is_still_committed_in_time() -> None:
    """A step taken on the caller's thread that is deferred (TaskSubmitted) still gets its
    commit from the engine's thread, DEFER_SECONDS later."""
    from podium.core.messages import TaskSubmitted
    from podium.runtime.engine import DEFER_SECONDS

    connector = NotingConnector()
    store = MemoryStore()
    with Engine(store, connectors=[connector]) as engine:
        machine = engine.create_state_machine("two", TWO_CALLS)
        arn = engine.start_execution(machine.arn, {}, name="one").arn
        until(lambda: ("one", "A") in connector.commands)
        engine.deliver_now(arn, TaskSubmitted(0, connector.commands["one", "A"].command_id, {}))
        assert "TaskSubmitted" not in [e.type for e in store.history(arn)]  # deferred
        until(lambda: "TaskSubmitted" in [e.type for e in store.history(arn)], DEFER_SECONDS + 5)


def test_the_timers_of_a_closed_task_and_of_an_ended_execution_do_not_fire() -> None:
    """A task's TimeoutSeconds/HeartbeatSeconds timers, and a Wait cut short by StopExecution,
    are cancelled: firing them later would cost the engine a step, or a database look, for nothing."""
    connector = SubmittingConnector()
    engine = Engine(MemoryStore(), connectors=[connector])
    engine.start()
    try:
        from podium.core.messages import TaskSucceeded

        timed = json.loads(SUBMITTED)
        task = next(s for s in timed["States"].values() if s["Type"] == "Task")
        task.update(TimeoutSeconds=300, HeartbeatSeconds=100)
        machine = engine.create_state_machine("timed", json.dumps(timed))
        arn = engine.start_execution(machine.arn, {}).arn
        deadline = time.monotonic() + 10
        while (not connector.replies or engine._timers.armed() < 2) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert engine._timers.armed() == 2  # the task's timeout and heartbeat timeout
        connector.replies[0](TaskSucceeded(0, connector.commands[0].command_id, {"ok": True}))
        assert engine.wait(arn, timeout=10).status == "SUCCEEDED"
        assert engine._timers.armed() == 0

        wait = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 300, "End": True}}})
        waiting = engine.start_execution(engine.create_state_machine("waiter", wait).arn, {}).arn
        while engine._timers.armed() < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert engine._timers.armed() == 1
        engine.stop_execution(waiting)
        assert engine.wait(waiting, timeout=10).status == "ABORTED"
        assert engine._timers.armed() == 0
    finally:
        engine.stop()
