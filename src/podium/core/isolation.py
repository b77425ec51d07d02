"""One state on its own, as the TestState API runs it: the interpreter's semantics, one attempt.

A `Trial` runs a single state once, through the same handlers an execution uses (so every data
flow field, error and message is the execution's), and reports what TestState answers:

    SUCCEEDED     the state's output, and the next state (none after End, Succeed)
    FAILED        the error and cause, when no Retry would retry it and no Catch catches it
    RETRIABLE     a Retry would retry it: the error and cause, which retrier and its backoff
    CAUGHT_ERROR  a Catch caught it: the catcher's output and Next, and the error and cause

It never retries and never sleeps: `retrier_retry_count` says how many retries the matching
retrier has already made (whether one more is allowed, and the backoff it would wait). A Wait
state does not wait: its fields are evaluated, then it moves on, since a test of a state's data
flow learns nothing from the clock. Along the way the interpreter records the values of the data
flow in TestState's names (`inspection`: afterInputPath, afterParameters, result, ...).

A mock (TestState's `mock`) stands in for what the state would call: a Task's service answers
with it at once, and for a Map or a Parallel it is the result of all the iterations or branches
(which do not run). With a Map whose tolerated failures are set, `map_iteration_failure_count`
iterations are taken to have failed: past the threshold the Map fails with
States.ExceedToleratedFailureThreshold, as it would in an execution. A mocked error of a Map or
Parallel is the error its failing branch raised, hence the state's.

Pure, like the rest of the core: the caller drives it with signals (a real task's answer, a
timer) and carries out the commands it returns (InvokeTask without a mock, StartTimer of a
task's TimeoutSeconds/HeartbeatSeconds).
"""

from __future__ import annotations

import csv
import io
import json
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from random import Random
from types import MappingProxyType
from typing import Any

from podium.asl.errors import ErrorName, StatesError
from podium.asl.jsontext import to_json_text
from podium.asl.model import (
    JSON,
    AnyState,
    ItemReader,
    MapState,
    ParallelState,
    StateMachine,
    TaskState,
)
from podium.core import tokens
from podium.core.context import Frame, context_object
from podium.core.interpreter import (
    DEFAULT_PAYLOAD_LIMIT,
    Decision,
    Interpreter,
    StateFailure,
    Step,
    _StateRun,
    _too_large_cause,
)
from podium.core.mapping import THRESHOLD_CAUSE, tolerance_exceeded
from podium.core.messages import (
    Command,
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartTimer,
    TaskFailed,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
    TimerFired,
)
from podium.core.resources import IntegrationPattern, ResourceFamily, classify
from podium.core.retry import find_catcher, find_retrier, retry_delay_ms
from podium.core.scheduler import Fiber

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
RETRIABLE = "RETRIABLE"
CAUGHT_ERROR = "CAUGHT_ERROR"

# What TestState shows as $$.State.Name, whatever the state under test is called.
CONTEXT_STATE_NAME = "StateName"
# The state is the first of its run, as an execution's first state is entered at event #2
# (after ExecutionStarted): the number shows in the causes of evaluation errors.
_ENTERED_EVENT_ID = 2


@dataclass(frozen=True)
class MockResult:
    """The mocked result of the state's invocation."""

    value: JSON


@dataclass(frozen=True)
class MockError:
    """The mocked error of the state's invocation."""

    error: str | None
    cause: str | None = None


Mock = MockResult | MockError


@dataclass(frozen=True)
class TrialRequest:
    """What to run. `context`: the context object to use instead of the one TestState builds
    (used as given); `role_arn`: `$$.Execution.RoleArn` (None when the test gives none);
    `reader_items`: what a Map's ItemReader reads (see `read_items`)."""

    state: AnyState
    input: JSON
    info: ExecutionInfo
    role_arn: str | None = None
    context: Mapping[str, Any] | None = None
    variables: Mapping[str, JSON] = field(default_factory=dict)
    mock: Mock | None = None
    retrier_retry_count: int = 0
    map_iteration_failure_count: int = 0
    reader_items: list[JSON] | None = None
    seed: int = 0
    token_key: str = ""


@dataclass
class TrialResult:
    status: str
    output: JSON = None
    has_output: bool = False
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    # The data flow in TestState's names (input, afterInputPath, ..., variables), as JSON values.
    inspection: dict[str, JSON] = field(default_factory=dict)
    # InspectionErrorDetails: catchIndex, retryIndex, retryBackoffIntervalSeconds.
    error_details: dict[str, int] = field(default_factory=dict)


class Trial:
    """Drives one attempt of a state: `start`, then `apply` each signal the world sends back,
    until `result` is set. Both return the commands the world must carry out."""

    def __init__(self, request: TrialRequest, *, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> None:
        self.request = request
        state = request.state
        machine = StateMachine(
            start_at=state.name,
            states=MappingProxyType({state.name: state}),
            query_language=state.query_language,
        )
        self.interpreter = Interpreter(machine, payload_limit=payload_limit)
        self.result: TrialResult | None = None
        self._frame = Frame(variables=ChainMap({}, dict(request.variables)), record=False)

    # --- driving -----------------------------------------------------------------------------

    def start(self, now_ms: int) -> list[Command]:
        request = self.request
        interp = self.interpreter
        interp.info = request.info
        interp.execution_input = request.input
        interp._random = Random(request.seed)
        interp.token_key = request.token_key
        interp.inspection = {"input": request.input}
        interp.fixed_context = dict(request.context) if request.context is not None else self._context(now_ms)
        interp.reader_items = request.reader_items
        if request.mock is not None and isinstance(request.state, MapState | ParallelState):
            interp.children_stub = self._children
        interp._decision = Decision()
        interp._now_ms = now_ms
        interp.scheduler.spawn(self._attempt(), "main", self._done)
        interp.scheduler.run()
        return self._settle(interp._decision.commands, now_ms)

    def apply(self, signal: Signal) -> list[Command]:
        if self.result is not None:
            return []
        decision = self.interpreter.apply(signal)
        return self._settle(decision.commands, signal.now_ms)

    @property
    def outstanding(self) -> frozenset[str]:
        return self.interpreter.outstanding_commands

    def _settle(self, commands: list[Command], now_ms: int) -> list[Command]:
        """Answer what the trial answers itself (a mocked task, a Wait); the rest is the world's."""
        interp = self.interpreter
        pending = list(commands)
        owed: list[Command] = []
        while pending and self.result is None:
            command = pending.pop(0)
            if command.command_id not in interp.outstanding_commands:
                continue  # already retired
            signals = self._answer(command, now_ms)
            if signals is None:
                owed.append(command)
                continue
            for signal in signals:
                if self.result is not None or command.command_id not in interp.outstanding_commands:
                    break
                pending.extend(interp.apply(signal).commands)
        return [c for c in owed if c.command_id in interp.outstanding_commands and self.result is None]

    def _answer(self, command: Command, now_ms: int) -> list[Signal] | None:
        interp = self.interpreter
        if isinstance(command, StartTimer):
            tasks_in_flight = any(interp.task_phase(c) is not None for c in interp.outstanding_commands)
            # A Wait's timer fires at once; a task's TimeoutSeconds runs in the world's time.
            return None if tasks_in_flight else [TimerFired(now_ms, command.command_id)]
        if not isinstance(command, InvokeTask) or self.request.mock is None:
            return None
        task_id = command.command_id
        signals: list[Signal] = []
        if classify(command.resource).family == ResourceFamily.ACTIVITY:
            # An activity is queued and taken by a worker before it answers.
            signals += [TaskSubmitted(now_ms, task_id), TaskStarted(now_ms, task_id)]
        mock = self.request.mock
        if isinstance(mock, MockResult):
            signals.append(TaskSucceeded(now_ms, task_id, mock.value))
        else:
            signals.append(TaskFailed(now_ms, task_id, mock.error, mock.cause))
        return signals

    def _done(self, fiber: Fiber, result: Any, error: BaseException | None) -> None:
        if error is not None:
            # A bug in podium, not in the definition: fail visibly, as an execution does.
            result = TrialResult(
                FAILED, error=ErrorName.RUNTIME.value, cause=f"{type(error).__name__}: {error}"
            )
        assert isinstance(result, TrialResult)
        result.inspection = dict(self.interpreter.inspection or {})
        variables = dict(self._frame.variables)
        if variables:
            result.inspection["variables"] = variables
        self.result = result

    # --- the attempt -------------------------------------------------------------------------

    def _attempt(self) -> Step:
        interp = self.interpreter
        state = self.request.state
        raw_input = self.request.input
        frame = self._frame
        run = _StateRun(state, _ENTERED_EVENT_ID, interp._now_ms)
        run.retry_count = self.request.retrier_retry_count
        try:
            output, assigned, nxt = yield from interp._handler(state)(state, raw_input, frame, run)
            if interp._text_too_large(to_json_text(output)):
                raise StateFailure(ErrorName.DATA_LIMIT_EXCEEDED.value, _too_large_cause(state.name))
        except (StatesError, StateFailure) as exc:
            return self._failed(interp._as_failure(exc, run, frame), raw_input, frame, run)
        if assigned:
            frame.variables.update(assigned)
        return TrialResult(SUCCEEDED, output=output, has_output=True, next_state=nxt)

    def _failed(self, failure: StateFailure, raw_input: JSON, frame: Frame, run: _StateRun) -> TrialResult:
        """Retry, then Catch, as the execution would decide them after this attempt."""
        interp = self.interpreter
        state = self.request.state
        details: dict[str, int] = {}
        retriers = getattr(state, "retry", ())
        index = find_retrier(retriers, failure.error, failure.aliases)
        if index is not None:
            details["retryIndex"] = index
            retrier = retriers[index]
            done = self.request.retrier_retry_count
            if done < retrier.max_attempts:
                delay_ms = retry_delay_ms(retrier, done, interp._random)
                details["retryBackoffIntervalSeconds"] = delay_ms // 1000
                return TrialResult(RETRIABLE, error=failure.error, cause=failure.cause, error_details=details)
        catchers = getattr(state, "catch", ())
        catcher = find_catcher(catchers, failure.error, failure.aliases)
        if catcher is None:
            return TrialResult(FAILED, error=failure.error, cause=failure.cause, error_details=details)
        details["catchIndex"] = catchers.index(catcher)
        try:
            output, assigned = interp._caught(state, catcher, raw_input, failure, frame, run)
        except StateFailure as exc:  # the catcher's own Output or Assign failed
            return TrialResult(FAILED, error=exc.error, cause=exc.cause, error_details=details)
        if assigned:
            frame.variables.update(assigned)
        return TrialResult(
            CAUGHT_ERROR,
            output=output,
            has_output=True,
            error=failure.error,
            cause=failure.cause,
            next_state=catcher.next,
            error_details=details,
        )

    def _children(self, state: AnyState, count: int, tolerated: int | None, percentage: float | None) -> JSON:
        """The mock as the outcome of a Map's iterations or a Parallel's branches."""
        mock = self.request.mock
        if isinstance(mock, MockError):
            raise StateFailure(mock.error, mock.cause)
        assert mock is not None
        failures = self.request.map_iteration_failure_count
        # Only a Map that sets a threshold counts its failed iterations against it.
        if (tolerated is not None or percentage is not None) and tolerance_exceeded(
            failures, count, tolerated, percentage
        ):
            raise StateFailure(ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD.value, THRESHOLD_CAUSE)
        return mock.value

    # --- the context object ------------------------------------------------------------------

    def _context(self, now_ms: int) -> dict[str, Any]:
        """The context object TestState builds when the test gives none.

        An EXPRESS execution's (no RedriveCount); $$.State.Name is always "StateName"; the
        states that can retry show RetryCount (the retries already made); a Task that hands its
        token out shows $$.Task.Token.
        """
        request = self.request
        state = request.state
        retries = isinstance(state, TaskState | MapState | ParallelState)
        ctx = context_object(
            request.info,
            request.input,
            state_name=CONTEXT_STATE_NAME,
            entered_ms=now_ms,
            retry_count=request.retrier_retry_count if retries else None,
            task_token=self._token() if isinstance(state, TaskState) else None,
        )
        ctx["Execution"]["RoleArn"] = request.role_arn
        return ctx

    def _token(self) -> str | None:
        assert isinstance(self.request.state, TaskState)
        kind = classify(self.request.state.resource)
        if kind.pattern != IntegrationPattern.WAIT_FOR_TASK_TOKEN and kind.family != ResourceFamily.ACTIVITY:
            return None
        return tokens.mint(self.request.token_key, self.request.info.execution_arn, "test-state")


def run_trial(
    request: TrialRequest, *, now_ms: int, payload_limit: int = DEFAULT_PAYLOAD_LIMIT
) -> TrialResult:
    """A trial that needs nothing from the world (a mocked or service-free state) run to its end.

    A task still owed (no mock) fails with States.Runtime: nothing here can carry it out.
    """
    trial = Trial(request, payload_limit=payload_limit)
    owed = trial.start(now_ms)
    while trial.result is None:
        live = [c for c in owed if c.command_id in trial.outstanding]
        if not live:
            break
        command = live[0]
        signal: Signal
        if isinstance(command, InvokeTask):
            cause = f"podium has no connector for the resource '{command.resource}'"
            signal = TaskFailed(now_ms, command.command_id, ErrorName.RUNTIME.value, cause)
        else:
            signal = TimerFired(now_ms, command.command_id)
        owed = live[1:] + trial.apply(signal)
    assert trial.result is not None, "a trial with nothing owed has ended"
    return trial.result


# --- what an ItemReader reads ---------------------------------------------------------------------


def read_items(reader: ItemReader, data: str) -> list[JSON]:
    """The items an ItemReader makes of `data` (TestState's mapItemReaderData: the source's
    content as it is stored), per its ReaderConfig: InputType JSON (an array), JSONL (one value
    a line) or CSV (a row an item, the header row's or CSVHeaders' names for keys), then MaxItems.
    Raises ValueError when the data does not fit."""
    config = reader.reader_config.value if reader.reader_config is not None else {}
    config = config if isinstance(config, dict) else {}
    input_type = config.get("InputType", "JSON")
    if input_type == "JSON":
        value = json.loads(data)
        if not isinstance(value, list):
            raise ValueError("the ItemReader's data must be a JSON array")
        items: list[JSON] = value
    elif input_type == "JSONL":
        items = [json.loads(line) for line in data.splitlines() if line.strip()]
    elif input_type == "CSV":
        items = _csv_items(config, data)
    else:
        raise ValueError(f"podium cannot read ItemReader data of InputType {input_type}")
    limit = config.get("MaxItems")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        items = items[:limit]
    return items


_CSV_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def _csv_items(config: Mapping[str, Any], data: str) -> list[JSON]:
    delimiter = _CSV_DELIMITERS.get(str(config.get("CSVDelimiter", "COMMA")), ",")
    rows = [row for row in csv.reader(io.StringIO(data), delimiter=delimiter) if row]
    if config.get("CSVHeaderLocation") == "GIVEN":
        headers = [str(h) for h in config.get("CSVHeaders") or []]
    elif rows:
        headers, rows = rows[0], rows[1:]
    else:
        headers = []
    return [dict(zip(headers, row, strict=False)) for row in rows]
