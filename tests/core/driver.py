"""A tiny driver for scripting one execution through the pure interpreter.

A test builds a `Run` from a definition and an input, then says what the world does, in
virtual time:

    run = Run(definition, {"x": 1})
    run.at(5).succeed("Work", {"done": True})   # at t=5 s the task of state Work answers
    run.fire_timer()                             # the earliest armed timer fires (clock jumps)
    assert run.types() == ["ExecutionStarted", ...]

Each call is one signal through `Interpreter.apply`; the driver keeps the history, the
commands still owed (from `commands` minus `retired`, cross-checked against the interpreter's
own account) and the journal of signals, so a test can replay that journal through a fresh
interpreter and compare.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from podium.asl.jsontext import to_json_text
from podium.asl.model import JSON
from podium.asl.parser import parse_definition
from podium.core.context import iso_millis
from podium.core.history import HistoryEvent
from podium.core.interpreter import DEFAULT_PAYLOAD_LIMIT, Decision, Interpreter, Outcome
from podium.core.messages import (
    Command,
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartExecution,
    StartTimer,
    StopExecution,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
    TimerFired,
)

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20.000Z: the execution's start, in epoch ms
ACCOUNT = "123456789012"
REGION = "us-east-1"


def info(name: str = "exec-1", machine: str = "machine", start_ms: int = T0) -> ExecutionInfo:
    return ExecutionInfo(
        execution_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{name}",
        name=name,
        state_machine_arn=f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{machine}",
        state_machine_name=machine,
        start_time=iso_millis(start_ms),
        region=REGION,
        account=ACCOUNT,
    )


def lam(name: str = "work") -> str:
    """A Lambda function ARN (LambdaFunction* events)."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def activity(name: str = "act") -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:activity:{name}"


def machine(start: str, states: Mapping[str, Any], **top: Any) -> dict[str, Any]:
    return {"StartAt": start, "States": dict(states), **top}


def task(resource: str | None = None, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": "Task", "Resource": resource or lam()}
    out.update(fields)
    if "Next" not in out and "End" not in out:
        out["End"] = True
    return out


@dataclass
class Step:
    signal: Signal
    decision: Decision


class Run:
    def __init__(
        self,
        definition: Mapping[str, Any] | str,
        input_value: JSON = None,
        *,
        seed: int = 7,
        start_ms: int = T0,
        payload_limit: int = DEFAULT_PAYLOAD_LIMIT,
        execution: ExecutionInfo | None = None,
    ) -> None:
        self.machine = parse_definition(definition)
        self.interpreter = Interpreter(self.machine, payload_limit=payload_limit)
        self.now_ms = start_ms
        self.start_ms = start_ms
        self.events: list[HistoryEvent] = []
        self.steps: list[Step] = []
        self.issued: dict[str, Command] = {}
        self.owed: dict[str, Command] = {}
        self.input = {} if input_value is None else input_value
        self.token_key = "test-token-key"
        start_info = execution or info(start_ms=start_ms)
        self.arn = start_info.execution_arn
        self.apply(
            StartExecution(start_ms, input=self.input, info=start_info, seed=seed, token_key=self.token_key)
        )

    # --- time -----------------------------------------------------------------------------

    def at(self, seconds: float) -> Run:
        """Move the clock to `seconds` after the start (never backwards)."""
        target = self.start_ms + round(seconds * 1000)
        assert target >= self.now_ms, "time does not go backwards"
        self.now_ms = target
        return self

    def after(self, seconds: float) -> Run:
        self.now_ms += round(seconds * 1000)
        return self

    @property
    def t(self) -> float:
        """Seconds since the start."""
        return (self.now_ms - self.start_ms) / 1000

    # --- signals --------------------------------------------------------------------------

    def apply(self, signal: Signal) -> Decision:
        decision = self.interpreter.apply(signal)
        self.steps.append(Step(signal, decision))
        self.events.extend(decision.events)
        for command in decision.commands:
            assert command.command_id not in self.issued, f"command id reused: {command.command_id}"
            self.issued[command.command_id] = command
            self.owed[command.command_id] = command
        for command_id in decision.retired:
            self.owed.pop(command_id, None)
        assert set(self.owed) == set(self.interpreter.outstanding_commands)
        return decision

    def succeed(self, which: str, output: JSON = None) -> Decision:
        return self.apply(TaskSucceeded(self.now_ms, self.task(which).command_id, output))

    def fail(self, which: str, error: str | None = "Boom", cause: str | None = None) -> Decision:
        return self.apply(TaskFailed(self.now_ms, self.task(which).command_id, error, cause))

    def submitted(self, which: str, output: JSON = None) -> Decision:
        """The service accepted the task (an activity queued, a callback request delivered)."""
        return self.apply(TaskSubmitted(self.now_ms, self.task(which).command_id, output))

    def started(self, which: str, worker: str | None = None) -> Decision:
        return self.apply(TaskStarted(self.now_ms, self.task(which).command_id, worker))

    def heartbeat(self, which: str) -> Decision:
        return self.apply(TaskHeartbeat(self.now_ms, self.task(which).command_id))

    def stop(self, error: str | None = None, cause: str | None = None) -> Decision:
        return self.apply(StopExecution(self.now_ms, error, cause))

    def fire(self, timer: StartTimer) -> Decision:
        """Fire a timer at its time (the clock jumps there unless it has passed)."""
        self.now_ms = max(self.now_ms, timer.fire_at_ms)
        return self.apply(TimerFired(self.now_ms, timer.command_id))

    def fire_timer(self) -> Decision:
        """Fire the earliest armed timer."""
        timers = self.timers()
        assert timers, "no timer armed"
        return self.fire(min(timers, key=lambda t: (t.fire_at_ms, t.command_id)))

    # --- what is owed ---------------------------------------------------------------------

    def tasks(self, state: str | None = None) -> list[InvokeTask]:
        """Tasks in flight, oldest first; those of one state when `state` is given."""
        out = [c for c in self.owed.values() if isinstance(c, InvokeTask)]
        if state is not None:
            out = [c for c in out if c.state_name == state]
        return out

    def task(self, which: str) -> InvokeTask:
        """The one task in flight for a state name (or with that command id)."""
        if which in self.owed and isinstance(self.owed[which], InvokeTask):
            command = self.owed[which]
            assert isinstance(command, InvokeTask)
            return command
        found = self.tasks(which)
        assert len(found) == 1, f"{len(found)} tasks in flight for {which!r}: {self.owed}"
        return found[0]

    def task_phase(self, which: str) -> str | None:
        return self.interpreter.task_phase(self.task(which).command_id)

    def timers(self) -> list[StartTimer]:
        return [c for c in self.owed.values() if isinstance(c, StartTimer)]

    def fire_times(self) -> list[float]:
        """When the armed timers fire, in seconds after the start."""
        return sorted((t.fire_at_ms - self.start_ms) / 1000 for t in self.timers())

    # --- what happened --------------------------------------------------------------------

    @property
    def outcome(self) -> Outcome | None:
        return self.interpreter.outcome

    @property
    def status(self) -> str:
        return self.outcome.status if self.outcome else "RUNNING"

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of_type(self, event_type: str) -> list[HistoryEvent]:
        return [e for e in self.events if e.type == event_type]

    def one(self, event_type: str) -> HistoryEvent:
        found = self.of_type(event_type)
        assert len(found) == 1, f"{len(found)} {event_type} events"
        return found[0]

    def details(self, event_type: str) -> dict[str, Any]:
        return self.one(event_type).details or {}

    def history(self) -> list[tuple[str, dict[str, Any]]]:
        """(type, details) of each event, with the JSON-text payloads decoded for reading."""
        return [(e.type, decoded(e.details)) for e in self.events]

    def output(self) -> JSON:
        assert self.outcome is not None and self.outcome.output is not None, self.outcome
        return json.loads(self.outcome.output)

    def signals(self) -> list[Signal]:
        return [s.signal for s in self.steps]


def replay(definition: Mapping[str, Any] | str, signals: Iterable[Signal], **kwargs: Any) -> list[Step]:
    """Apply a journal of signals to a fresh interpreter: the steps it takes."""
    interpreter = Interpreter(parse_definition(definition), **kwargs)
    return [Step(s, interpreter.apply(s)) for s in signals]


def text(value: JSON) -> str:
    """A value as AWS writes it in event details (compact JSON)."""
    return to_json_text(value)


_PAYLOADS = ("input", "output", "parameters")


def decoded(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Event details with the payload fields (JSON text on the wire) decoded, the
    `*Details: {truncated: false}` noise dropped, and assigned variables decoded too."""
    out: dict[str, Any] = {}
    for key, value in (details or {}).items():
        if key in ("inputDetails", "outputDetails", "assignedVariablesDetails"):
            continue
        if key in _PAYLOADS and isinstance(value, str):
            out[key] = json.loads(value)
        elif key == "assignedVariables":
            out[key] = {name: json.loads(v) for name, v in value.items()}
        else:
            out[key] = value
    return out
