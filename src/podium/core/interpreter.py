"""The interpreter: signals in, history events and commands out. Pure and deterministic.

`Interpreter(machine).apply(signal) -> Decision` advances one execution by one signal. It
reads no clock (time arrives in `signal.now_ms`), draws randomness only from the seed in the
StartExecution signal, and does no I/O: tasks and timers leave as commands, their outcomes
come back as signals. Replaying an execution's journal of signals through a fresh
Interpreter therefore rebuilds it exactly, event ids included: that is how an execution
survives a crash.

The states run as fibers of a deterministic scheduler (podium.core.scheduler): the main
program is one, each Parallel branch and each Map iteration another.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from random import Random
from typing import Any

from podium.asl import jsonata, payload
from podium.asl.errors import ErrorName, EvaluationError, StatesError
from podium.asl.jsontext import to_json_text
from podium.asl.model import (
    JSON,
    AnyState,
    ChoiceState,
    FailState,
    MapState,
    ParallelState,
    PassState,
    Program,
    QueryLanguage,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    Template,
    WaitState,
)
from podium.asl.scope import Scope
from podium.core import dataflow, tasks, tokens
from podium.core.context import Frame, context_object
from podium.core.history import HistoryEvent
from podium.core.messages import (
    Command,
    ExecutionInfo,
    RedriveExecution,
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
from podium.core.redrive import BranchProgress, ResumePoint
from podium.core.resources import IntegrationPattern, ResourceFamily, classify
from podium.core.retry import find_catcher, find_retrier, retry_delay_ms
from podium.core.scheduler import Await, Cancelled, Fiber, Message, Scheduler

DEFAULT_PAYLOAD_LIMIT = 256 * 1024
EXECUTION_TIMEOUT_TIMER = "execution-timeout"
_NO_DETAILS = {"truncated": False}

Step = Generator[Await, Message, Any]


class StateFailure(Exception):  # noqa: N818 - a state's outcome, named as the spec names it
    """A state (or branch) failed with a named error; handled by Retry/Catch or propagated.

    `aliases`: further names a Retry/Catch `ErrorEquals` matches it by (a heartbeat timeout is
    States.Timeout in the history, yet States.HeartbeatTimeout catches it). `shown_cause`: the
    Cause of its error output when that differs from `cause`: a timeout records no cause, and
    AWS shows it to catchers as "".
    """

    def __init__(
        self,
        error: str | None,
        cause: str | None,
        *,
        aliases: tuple[str, ...] = (),
        shown_cause: str | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause
        self.aliases = aliases
        self.shown_cause = shown_cause

    def error_output(self) -> dict[str, JSON]:
        return {"Error": self.error, "Cause": self.cause if self.shown_cause is None else self.shown_cause}


@dataclass(frozen=True)
class Outcome:
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: str | None = None  # JSON text
    error: str | None = None
    cause: str | None = None


@dataclass
class Decision:
    events: list[HistoryEvent] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    outcome: Outcome | None = None


@dataclass
class _StateRun:
    """What one visit of a state knows: for error prefixes and the context object."""

    state: AnyState
    entered_event_id: int
    entered_ms: int
    retry_count: int = 0
    task_token: str | None = None
    progress: BranchProgress | None = None  # a Parallel's branches, a Map's iterations
    resumed: ResumePoint | None = None  # set when a redrive goes on inside this visit
    # The context object of this visit, built once per (retry count, task token): a state
    # evaluates several fields and each would otherwise build `$$` anew.
    context: tuple[tuple[int, str | None], dict[str, Any]] | None = None


# An interpreter draws nothing before its start, which gives it its own seeded Random; until
# then it shares this one (seeding a Random costs about 3 us, and every start would pay twice).
_BEFORE_START = Random(0)


class Interpreter:
    def __init__(self, machine: StateMachine, *, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> None:
        self._last_text: tuple[JSON, str] | None = None
        self.machine = machine
        self.payload_limit = payload_limit
        self.scheduler = Scheduler()
        self.outcome: Outcome | None = None
        self.info: ExecutionInfo | None = None
        self.execution_input: JSON = None
        self._random = _BEFORE_START
        self._now_ms = 0
        self._next_event_id = 1
        self._seq = 0
        self._decision = Decision()
        self._main: Fiber | None = None
        self._main_frame = Frame()
        self._outstanding: set[str] = set()  # command ids owed to the world
        self._task_phase: dict[str, str] = {}  # task id -> podium.core.tasks phase, while in flight
        self.token_key = ""
        self._redriven_event_id = 0
        self._timeout_timer = EXECUTION_TIMEOUT_TIMER
        self.map_runs: dict[str, Any] = {}  # map run ARN -> podium.core.mapping.MapRun
        # TestState (podium.core.isolation) runs one state on its own and sets these; an
        # execution leaves them None. `inspection` collects what the state's fields produced,
        # under TestState's names (afterInputPath, afterParameters, result, ...); `fixed_context`
        # is the context object ($$) as the test gives it; `children_stub` stands in for the
        # branches or iterations of a Parallel or Map, from the tested state, the number of
        # branches or items and the Map's tolerated failures: it returns the state's result or
        # raises StateFailure.
        self.inspection: dict[str, JSON] | None = None
        self.fixed_context: dict[str, Any] | None = None
        self.children_stub: Callable[[AnyState, int, int | None, float | None], JSON] | None = None
        # The items a Map's ItemReader would read (TestState's mapItemReaderData), when given.
        self.reader_items: list[JSON] | None = None

    # --- the public step ------------------------------------------------------------------

    def apply(self, signal: Signal) -> Decision:
        self._decision = Decision()
        self._now_ms = signal.now_ms
        if isinstance(signal, RedriveExecution):
            self._redrive(signal)
            self.scheduler.run()
            return self._decision
        if self.outcome is not None:
            return self._decision  # a late answer to a finished execution: nothing to do
        if isinstance(signal, StartExecution):
            self._start(signal)
        elif isinstance(signal, TaskStarted | TaskSubmitted | TaskSucceeded | TaskFailed | TaskHeartbeat):
            self.scheduler.deliver(signal.task_id, signal)
        elif isinstance(signal, TimerFired):
            if signal.timer_id == self._timeout_timer:
                self._retire(self._timeout_timer)
                self._end_abnormally("ExecutionTimedOut", "TIMED_OUT", ErrorName.TIMEOUT.value, None)
            else:
                self.scheduler.deliver(signal.timer_id, signal)
        elif isinstance(signal, StopExecution):
            self._end_abnormally("ExecutionAborted", "ABORTED", signal.error, signal.cause)
        self.scheduler.run()
        return self._decision

    @property
    def outstanding_commands(self) -> frozenset[str]:
        return frozenset(self._outstanding)

    def task_phase(self, task_id: str) -> str | None:
        """How far a task in flight has got (podium.core.tasks.SCHEDULED, ...); None if not in flight."""
        return self._task_phase.get(task_id)

    # --- execution lifecycle --------------------------------------------------------------

    def _start(self, signal: StartExecution) -> None:
        self.info = signal.info
        self.execution_input = signal.input
        self._random = Random(signal.seed)
        self.token_key = signal.token_key
        frame = self._main_frame
        details = {
            "input": to_json_text(signal.input),
            "inputDetails": _NO_DETAILS,
            "roleArn": signal.info.role_arn,
        }
        # AWS chains the first state's events from 0, not from ExecutionStarted.
        self._emit(Frame(), "ExecutionStarted", details)
        self._arm_execution_timeout()
        body = self._run_program(self.machine, signal.input, frame)
        self._main = self.scheduler.spawn(body, "main", self._main_done)

    def _arm_execution_timeout(self) -> None:
        if self.machine.timeout_seconds:
            fire_at = self._now_ms + int(self.machine.timeout_seconds) * 1000
            # Each run (the first, each redrive) has its own timer: an earlier run's may still fire.
            redrives = self.info.redrive_count if self.info is not None else None
            self._timeout_timer = EXECUTION_TIMEOUT_TIMER + (f"-{redrives}" if redrives else "")
            self._command(StartTimer(self._timeout_timer, fire_at))

    def _redrive(self, signal: RedriveExecution) -> None:
        """Go on from where the run stopped: see podium.core.redrive."""
        if self.outcome is None or self.outcome.status == "SUCCEEDED" or self.info is None:
            return  # nothing to redrive (the runtime checks this first; replay may not)
        self.outcome = None
        self.info = dataclasses.replace(self.info, redrive_count=signal.redrive_count)
        frame = self._main_frame
        frame.last_event_id = self._next_event_id - 1  # after the run's last event
        self._redriven_event_id = self._emit(
            frame, "ExecutionRedriven", {"redriveCount": signal.redrive_count}
        )
        # A guess: AWS does not say whether the state machine's TimeoutSeconds counts again
        # from the redrive; it must, or a redriven timed-out execution could never run.
        self._arm_execution_timeout()
        resume = frame.resume
        frame.resume = None
        if isinstance(resume, ResumePoint):
            body = self._run_program(self.machine, resume.raw_input, frame, resume=resume)
        else:  # it stopped before entering any state: run it again from the start
            body = self._run_program(self.machine, self.execution_input, frame)
        self._main = self.scheduler.spawn(body, "main", self._main_done)

    def _main_done(self, fiber: Fiber, result: Any, error: BaseException | None) -> None:
        if self.outcome is not None or isinstance(error, Cancelled):
            return
        frame = self._main_frame  # the execution's last event chains from the main program's
        if isinstance(error, StateFailure):
            self._finish_failed(frame, error.error, error.cause)
            return
        if error is not None:  # a bug in podium, not in the definition: fail visibly
            self._finish_failed(frame, ErrorName.RUNTIME.value, f"{type(error).__name__}: {error}")
            return
        text = to_json_text(result)
        self._emit(frame, "ExecutionSucceeded", {"output": text, "outputDetails": _NO_DETAILS})
        self._set_outcome(Outcome("SUCCEEDED", output=text))

    def _finish_failed(self, frame: Frame, error: str | None, cause: str | None) -> None:
        self._emit(frame, "ExecutionFailed", _error_details(error, cause))
        self._set_outcome(Outcome("FAILED", error=error, cause=cause))

    def _end_abnormally(self, event_type: str, status: str, error: str | None, cause: str | None) -> None:
        self._set_outcome(Outcome(status, error=error, cause=cause))  # first: no other ending after it
        if self._main is not None:
            self.scheduler.cancel(self._main)
        self._emit(self._main_frame, event_type, _error_details(error, cause))

    def _set_outcome(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self._decision.outcome = outcome
        for command_id in sorted(self._outstanding):
            self._decision.retired.append(command_id)
        self._outstanding.clear()
        self._task_phase.clear()

    # --- events and commands --------------------------------------------------------------

    def _emit(self, frame: Frame, event_type: str, details: dict[str, Any] | None = None) -> int:
        if not frame.record:
            return 0
        event_id = self._next_event_id
        self._next_event_id += 1
        event = HistoryEvent(event_id, frame.last_event_id, self._now_ms / 1000, event_type, details)
        self._decision.events.append(event)
        frame.last_event_id = event_id
        return event_id

    def _command(self, command: Command) -> None:
        self._outstanding.add(command.command_id)
        self._decision.commands.append(command)

    def _retire(self, command_id: str) -> None:
        if command_id in self._outstanding:
            self._outstanding.discard(command_id)
            self._task_phase.pop(command_id, None)
            self._decision.retired.append(command_id)

    def _inspect(self, name: str, value: JSON) -> None:
        """Record a step of the state's data flow for TestState's inspectionData (else nothing)."""
        if self.inspection is not None:
            self.inspection[name] = value

    def _new_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}-{self._seq}"

    # --- programs and states --------------------------------------------------------------

    def _run_program(
        self, program: Program, value: JSON, frame: Frame, resume: ResumePoint | None = None
    ) -> Step:
        """Run a program from its StartAt, or (a redrive) from inside the state it stopped in."""
        name = program.start_at if resume is None else resume.state_name
        if resume is not None:
            frame.last_event_id = self._redriven_event_id
        while True:
            state = program.states[name]
            nxt, value = yield from self._run_state(state, value, frame, resume)
            resume = None
            if nxt is None:
                return value
            name = nxt

    def _run_state(
        self, state: AnyState, raw_input: JSON, frame: Frame, resume: ResumePoint | None = None
    ) -> Step:
        if resume is None:
            entered_id = self._emit(
                frame,
                f"{state.type.value}StateEntered",
                {"name": state.name, "input": self._text(raw_input), "inputDetails": _NO_DETAILS},
            )
            run = _StateRun(state, entered_id, self._now_ms)
        else:  # still open since it stopped: no second StateEntered
            raw_input = resume.raw_input
            run = _StateRun(state, resume.entered_event_id, resume.entered_ms, resumed=resume)
        retries = getattr(state, "retry", ())
        attempts = [0] * len(retries)
        try:
            while True:
                try:
                    handler = self._handler(state)
                    output, assigned, nxt = yield from handler(state, raw_input, frame, run)
                    output_text = self._remember_text(output)
                    if self._text_too_large(output_text):  # a state's output is held to the limit too
                        raise StateFailure(ErrorName.DATA_LIMIT_EXCEEDED.value, _too_large_cause(state.name))
                    break
                except (StatesError, StateFailure) as exc:
                    # Without its traceback: kept in `failure` (while retrying, once caught),
                    # the traceback would hold this frame, and the frame `failure`: a cycle.
                    failure = self._as_failure(exc, run, frame).with_traceback(None)
                    index = find_retrier(retries, failure.error, failure.aliases)
                    if index is not None and attempts[index] < retries[index].max_attempts:
                        delay = retry_delay_ms(retries[index], attempts[index], self._random)
                        attempts[index] += 1
                        run.retry_count += 1
                        yield from self._sleep(self._now_ms + delay)
                        continue
                    self._state_failed(state, failure, frame)
                    catcher = find_catcher(getattr(state, "catch", ()), failure.error, failure.aliases)
                    if catcher is None:
                        if frame.in_parallel and isinstance(state, TaskState):
                            # AWS aborts the branch's running state when the branch fails.
                            self._emit(frame, "TaskStateAborted")
                        frame.resume = self._resume_point(state, raw_input, run)
                        raise failure from None
                    output, assigned = self._caught(state, catcher, raw_input, failure, frame, run)
                    nxt = catcher.next
                    break
        except Cancelled:
            # Only a failed sibling branch records what it abandons: when the whole execution
            # ends (StopExecution, its TimeoutSeconds) AWS records just ExecutionAborted /
            # ExecutionTimedOut, with no WaitStateAborted for the Wait it was in.
            if self.outcome is None and state.type.value in ("Task", "Map", "Parallel", "Wait"):
                self._emit(frame, f"{state.type.value}StateAborted")
            frame.resume = self._resume_point(state, raw_input, run)
            raise
        details: dict[str, Any] = {
            "name": state.name,
            "output": self._text(output),
            "outputDetails": _NO_DETAILS,
        }
        if assigned:
            details["assignedVariables"] = {k: to_json_text(v) for k, v in assigned.items()}
            details["assignedVariablesDetails"] = _NO_DETAILS
        self._emit(frame, f"{state.type.value}StateExited", details)
        if assigned:
            frame.variables.update(assigned)
        return (None if nxt is None else nxt), output

    @staticmethod
    def _resume_point(state: AnyState, raw_input: JSON, run: _StateRun) -> ResumePoint:
        return ResumePoint(state.name, raw_input, run.entered_event_id, run.entered_ms, run.progress)

    def _handler(self, state: AnyState) -> Callable[[Any, JSON, Frame, _StateRun], Step]:
        # By name, from a table built once: a table of bound methods per call cost a dict
        # and eight method objects for every state run.
        handler: Callable[[Any, JSON, Frame, _StateRun], Step] = getattr(self, _HANDLERS[type(state)])
        return handler

    def _as_failure(self, exc: Exception, run: _StateRun, frame: Frame) -> StateFailure:
        if isinstance(exc, StateFailure):
            return exc
        assert isinstance(exc, StatesError)
        cause = exc.cause
        if isinstance(exc, EvaluationError):
            cause = (
                f"An error occurred while executing the state '{run.state.name}' "
                f"(entered at the event id #{run.entered_event_id}). {exc.cause or ''}"
            )
            if exc.error == ErrorName.QUERY_EVALUATION_ERROR:
                details: dict[str, Any] = {"error": exc.error, "cause": cause}
                if exc.location:
                    details["location"] = exc.location
                details["state"] = run.state.name
                self._emit(frame, "EvaluationFailed", details)
        return StateFailure(exc.error, cause)

    def _state_failed(self, state: AnyState, failure: StateFailure, frame: Frame) -> None:
        # AWS records MapStateFailed/ParallelStateFailed for a failed branch or a query error,
        # not for a States.Runtime error in the state's own fields.
        if isinstance(state, MapState | ParallelState) and failure.error != ErrorName.RUNTIME:
            self._emit(frame, f"{state.type.value}StateFailed")

    def _caught(
        self,
        state: AnyState,
        catcher: Any,
        raw_input: JSON,
        failure: StateFailure,
        frame: Frame,
        run: _StateRun,
    ) -> tuple[JSON, dict[str, JSON] | None]:
        error_output = failure.error_output()
        scope = self._scope(raw_input, frame, run, error_output=error_output)
        try:
            if state.query_language == QueryLanguage.JSONATA:
                assigned = self._assign(catcher.assign, scope, state)
                if catcher.output is not None:
                    output = jsonata.resolve_template(catcher.output.value, scope, field="Output")
                else:
                    output = error_output
                return output, assigned
            err_scope = self._scope(error_output, frame, run)
            assigned = self._assign(catcher.assign, err_scope, state)
            return dataflow.apply_result_path(catcher.result_path, raw_input, error_output), assigned
        except StatesError as exc:
            raise self._as_failure(exc, run, frame) from None

    # --- scope and data flow helpers ------------------------------------------------------

    def _scope(
        self,
        value: JSON,
        frame: Frame,
        run: _StateRun,
        *,
        result: JSON = dataflow.UNSET,
        error_output: JSON = dataflow.UNSET,
        map_item: dict[str, Any] | None = None,
    ) -> Scope:
        assert self.info is not None
        key = (run.retry_count, run.task_token)
        if self.fixed_context is not None:
            ctx = (
                self.fixed_context if map_item is None else {**self.fixed_context, "Map": {"Item": map_item}}
            )
        elif map_item is None and run.context is not None and run.context[0] == key:
            ctx = run.context[1]
        else:
            ctx = context_object(
                self.info,
                self.execution_input,
                state_name=run.state.name,
                entered_ms=run.entered_ms,
                retry_count=run.retry_count if isinstance(run.state, TaskState) else None,
                task_token=run.task_token,
                map_item=map_item,
            )
            if map_item is None:
                run.context = (key, ctx)
        kwargs: dict[str, Any] = {}
        if result is not dataflow.UNSET:
            kwargs["result"] = result
        if error_output is not dataflow.UNSET:
            kwargs["error_output"] = error_output
        return Scope(
            input=value,
            context=ctx,
            variables=frame.variables,
            now_ms=self._now_ms,
            random=self._random,
            **kwargs,
        )

    def _assign(self, template: Template | None, scope: Scope, state: State) -> dict[str, JSON] | None:
        if template is None:
            return None
        if state.query_language == QueryLanguage.JSONATA:
            value = jsonata.resolve_template(template.value, scope, field="Assign")
        else:
            value = payload.resolve_template(template.value, scope)
        return dict(value) if isinstance(value, dict) else {}

    def _finish_jsonpath(
        self, state: Any, raw_input: JSON, result: JSON, frame: Frame, run: _StateRun
    ) -> tuple[JSON, dict[str, JSON] | None]:
        """ResultSelector -> Assign -> ResultPath -> OutputPath, the JSONPath tail of a state."""
        selector = getattr(state, "result_selector", None)
        if selector is not None:
            result = payload.resolve_template(selector.value, self._scope(result, frame, run))
        self._inspect("afterResultSelector", result)
        assigned = self._assign(state.assign, self._scope(result, frame, run), state)
        merged = dataflow.apply_result_path(getattr(state, "result_path", "$"), raw_input, result)
        self._inspect("afterResultPath", merged)
        output = dataflow.output_path(state.output_path, merged, self._scope(merged, frame, run))
        return output, assigned

    def _finish_jsonata(
        self, state: State, raw_input: JSON, result: JSON, frame: Frame, run: _StateRun, *, default: JSON
    ) -> tuple[JSON, dict[str, JSON] | None]:
        """Assign and Output of a JSONata state, both seeing the variables as they were before."""
        scope = self._scope(raw_input, frame, run, result=result)
        assigned = self._assign(state.assign, scope, state)
        if state.output is not None:
            output = jsonata.resolve_template(state.output.value, scope, field="Output")
        else:
            output = default
        return output, assigned

    # --- Pass, Succeed, Fail, Choice, Wait ------------------------------------------------

    def _pass(self, state: PassState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        if state.query_language == QueryLanguage.JSONATA:
            output, assigned = self._finish_jsonata(
                state, raw_input, raw_input, frame, run, default=raw_input
            )
            return output, assigned, _next(state)
        effective = dataflow.input_path(state.input_path, raw_input, self._scope(raw_input, frame, run))
        if state.result is not None:
            result = state.result.value
            # AWS shows a Result as the state's result, and no InputPath or Parameters beside it.
            self._inspect("result", result)
        else:
            self._inspect("afterInputPath", effective)
            if state.parameters is not None:
                result = payload.resolve_template(state.parameters.value, self._scope(effective, frame, run))
            else:
                result = effective
            self._inspect("afterParameters", result)
        output, assigned = self._finish_jsonpath(state, raw_input, result, frame, run)
        return output, assigned, _next(state)
        yield  # pragma: no cover - makes this a generator like the others

    def _succeed(self, state: SucceedState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        if state.query_language == QueryLanguage.JSONATA:
            output, assigned = self._finish_jsonata(
                state, raw_input, raw_input, frame, run, default=raw_input
            )
            return output, assigned, None
        effective = dataflow.input_path(state.input_path, raw_input, self._scope(raw_input, frame, run))
        self._inspect("afterInputPath", effective)
        output = dataflow.output_path(state.output_path, effective, self._scope(effective, frame, run))
        return output, None, None
        yield  # pragma: no cover

    def _fail(self, state: FailState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        scope = self._scope(raw_input, frame, run)
        if state.query_language == QueryLanguage.JSONPATH:
            self._inspect("afterInputPath", raw_input)  # a Fail state has no InputPath: its input
        error, cause = dataflow.fail_fields(state, scope)
        raise StateFailure(error, cause)
        yield  # pragma: no cover

    def _choice(self, state: ChoiceState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        from podium.asl import choice as choice_rules

        if state.query_language == QueryLanguage.JSONATA:
            scope = self._scope(raw_input, frame, run)
            chosen = choice_rules.choose(state, scope)
            target = chosen.next if chosen is not None else state.default
            if target is None:
                raise StateFailure(ErrorName.NO_CHOICE_MATCHED.value, "No Matches!")
            assign_t = chosen.assign if chosen is not None else state.assign
            output_t = chosen.output if chosen is not None else state.output
            assigned = None
            if assign_t is not None:
                assigned = dict(jsonata.resolve_template(assign_t.value, scope, field="Assign") or {})
            output = raw_input
            if output_t is not None:
                output = jsonata.resolve_template(output_t.value, scope, field="Output")
            return output, assigned, target
        effective = dataflow.input_path(state.input_path, raw_input, self._scope(raw_input, frame, run))
        self._inspect("afterInputPath", effective)
        scope = self._scope(effective, frame, run)
        chosen = choice_rules.choose(state, scope)
        target = chosen.next if chosen is not None else state.default
        if target is None:
            raise StateFailure(ErrorName.NO_CHOICE_MATCHED.value, "No Matches!")
        assign_t = chosen.assign if chosen is not None else state.assign
        assigned = self._assign(assign_t, scope, state) if assign_t is not None else None
        output = dataflow.output_path(state.output_path, effective, scope)
        return output, assigned, target
        yield  # pragma: no cover

    def _wait(self, state: WaitState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        jsonata_state = state.query_language == QueryLanguage.JSONATA
        effective = raw_input
        if not jsonata_state:
            effective = dataflow.input_path(state.input_path, raw_input, self._scope(raw_input, frame, run))
            self._inspect("afterInputPath", effective)
        scope = self._scope(effective, frame, run)
        fire_at = dataflow.wait_until(state, scope, self._now_ms)
        yield from self._sleep(fire_at)
        if jsonata_state:
            output, assigned = self._finish_jsonata(
                state, raw_input, raw_input, frame, run, default=raw_input
            )
            return output, assigned, _next(state)
        scope = self._scope(effective, frame, run)
        assigned = self._assign(state.assign, scope, state)
        output = dataflow.output_path(state.output_path, effective, scope)
        return output, assigned, _next(state)

    def _sleep(self, fire_at_ms: int) -> Step:
        timer_id = self._new_id("timer")
        fiber = self._current_fiber()
        self.scheduler.subscribe(fiber, timer_id)
        self._command(StartTimer(timer_id, fire_at_ms))
        try:
            yield Await((timer_id,))
        finally:
            self.scheduler.unsubscribe(fiber, timer_id)
            self._retire(timer_id)

    def _current_fiber(self) -> Fiber:
        fiber = self.scheduler.current
        assert fiber is not None
        return fiber

    # --- Task -----------------------------------------------------------------------------

    def _task(self, state: TaskState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        kind = classify(state.resource)
        task_id = self._new_id("task")
        assert self.info is not None
        token = tokens.mint(self.token_key, self.info.execution_arn, task_id)
        # Only the states that hand the token out show it in the context object ($$.Task).
        exposed = (
            kind.pattern == IntegrationPattern.WAIT_FOR_TASK_TOKEN or kind.family == ResourceFamily.ACTIVITY
        )
        run.task_token = token if exposed else None
        jsonata_state = state.query_language == QueryLanguage.JSONATA
        if jsonata_state:
            scope = self._scope(raw_input, frame, run)
            if state.arguments is not None:
                params = jsonata.resolve_template(state.arguments.value, scope, field="Arguments")
            else:
                params = raw_input
            self._inspect("afterArguments", params)
        else:
            effective = dataflow.input_path(state.input_path, raw_input, self._scope(raw_input, frame, run))
            self._inspect("afterInputPath", effective)
            scope = self._scope(effective, frame, run)
            if state.parameters is not None:
                params = payload.resolve_template(state.parameters.value, scope)
            else:
                params = effective
            self._inspect("afterParameters", params)
        timeout = dataflow.seconds_field(
            state, "TimeoutSeconds", state.timeout_seconds, state.timeout_seconds_path, scope
        )
        heartbeat = dataflow.seconds_field(
            state, "HeartbeatSeconds", state.heartbeat_seconds, state.heartbeat_seconds_path, scope
        )
        result = yield from tasks.invoke(
            self, state, kind, params, timeout, heartbeat, frame, run, task_id, token
        )
        self._inspect("result", result)
        if jsonata_state:
            output, assigned = self._finish_jsonata(state, raw_input, result, frame, run, default=result)
        else:
            output, assigned = self._finish_jsonpath(state, raw_input, result, frame, run)
        return output, assigned, _next(state)

    def _text_too_large(self, text: str) -> bool:
        # A character is at most 4 bytes in UTF-8: encode only when the length can't decide.
        if len(text) * 4 <= self.payload_limit:
            return False
        return len(text.encode()) > self.payload_limit

    def _remember_text(self, value: JSON) -> str:
        """Encode a state's output once: its StateExited and the next StateEntered reuse the text."""
        text = to_json_text(value)
        self._last_text = (value, text)  # holds `value`, so its id can't be reused meanwhile
        return text

    def _text(self, value: JSON) -> str:
        last = self._last_text
        if last is not None and last[0] is value:
            return last[1]
        return to_json_text(value)

    def _arm(self, fiber: Fiber, fire_at_ms: int) -> str:
        timer_id = self._new_id("timer")
        self.scheduler.subscribe(fiber, timer_id)
        self._command(StartTimer(timer_id, fire_at_ms))
        return timer_id

    def _disarm(self, fiber: Fiber, timer_id: str) -> None:
        self.scheduler.unsubscribe(fiber, timer_id)
        self._retire(timer_id)

    # --- Parallel and Map -----------------------------------------------------------------

    def _parallel(self, state: ParallelState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        jsonata_state = state.query_language == QueryLanguage.JSONATA
        if jsonata_state:
            scope = self._scope(raw_input, frame, run)
            branch_input = raw_input
            if state.arguments is not None:
                branch_input = jsonata.resolve_template(state.arguments.value, scope, field="Arguments")
        else:
            effective = dataflow.input_path(state.input_path, raw_input, self._scope(raw_input, frame, run))
            branch_input = effective
            if state.parameters is not None:
                branch_input = payload.resolve_template(
                    state.parameters.value, self._scope(effective, frame, run)
                )
        if self.children_stub is not None:  # TestState: a mock stands in for the branches
            stubbed = self.children_stub(state, len(state.branches), None, None)
            if jsonata_state:
                output, assigned = self._finish_jsonata(
                    state, raw_input, stubbed, frame, run, default=stubbed
                )
            else:
                output, assigned = self._finish_jsonpath(state, raw_input, stubbed, frame, run)
            return output, assigned, _next(state)
        resumed = run.resumed.progress if run.resumed is not None else None
        if isinstance(resumed, BranchProgress):
            progress = resumed  # a redrive: only the branches that did not succeed run again
        else:
            self._emit(frame, "ParallelStateStarted")
            progress = BranchProgress.of([branch_input] * len(state.branches))
        run.progress = progress
        bodies: list[Step | None] = []
        for index, branch in enumerate(state.branches):
            if progress.done[index]:
                bodies.append(None)
                continue
            child, resume = self._branch_frame(progress, index, lambda: frame.child(in_parallel=True))
            bodies.append(self._run_program(branch, progress.inputs[index], child, resume))
        results = yield from self._join(bodies, frame, f"{state.name}-branch", progress)
        if jsonata_state:
            output, assigned = self._finish_jsonata(state, raw_input, results, frame, run, default=results)
        else:
            output, assigned = self._finish_jsonpath(state, raw_input, results, frame, run)
        return output, assigned, _next(state)

    @staticmethod
    def _branch_frame(
        progress: BranchProgress, index: int, new_frame: Callable[[], Frame]
    ) -> tuple[Frame, ResumePoint | None]:
        """The frame a branch or iteration runs in, and where a redrive resumes it (if it does)."""
        child = progress.frames[index]
        resume = child.resume if child is not None else None
        if child is None or not isinstance(resume, ResumePoint):
            child = new_frame()
            progress.frames[index] = child
            return child, None
        child.resume = None
        return child, resume

    def _join(self, bodies: list[Step | None], frame: Frame, name: str, progress: BranchProgress) -> Step:
        """Run child fibers to the end; the first failure cancels the rest and is raised.

        A None body is a branch that already succeeded (in the run a redrive goes on from):
        its result is in `progress`, which records every branch that succeeds.
        """
        parent = self._current_fiber()
        key = self._new_id("join")
        self.scheduler.subscribe(parent, key)
        children: list[Fiber] = []
        for index, body in enumerate(bodies):
            if body is None:
                continue

            def done(fiber: Fiber, result: Any, error: BaseException | None, index: int = index) -> None:
                self.scheduler.deliver(key, (index, result, error))

            children.append(self.scheduler.spawn(body, f"{name}-{index}", done))
        remaining = len(children)
        try:
            while remaining:
                message = yield Await((key,))
                index, result, error = message.value
                remaining -= 1
                if error is not None:
                    for child in children:
                        self.scheduler.cancel(child)
                    raise error
                progress.results[index] = result
                progress.done[index] = True
        except Cancelled:
            for child in children:
                self.scheduler.cancel(child)
            raise
        finally:
            self.scheduler.unsubscribe(parent, key)
        return list(progress.results)

    def _map(self, state: MapState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
        from podium.core import mapping

        result = yield from mapping.run_map(self, state, raw_input, frame, run)
        if state.query_language == QueryLanguage.JSONATA:
            output, assigned = self._finish_jsonata(state, raw_input, result, frame, run, default=result)
        else:
            output, assigned = self._finish_jsonpath(state, raw_input, result, frame, run)
        return output, assigned, _next(state)


_HANDLERS: dict[type, str] = {
    PassState: "_pass",
    TaskState: "_task",
    ChoiceState: "_choice",
    WaitState: "_wait",
    SucceedState: "_succeed",
    FailState: "_fail",
    ParallelState: "_parallel",
    MapState: "_map",
}


def _next(state: State) -> str | None:
    return None if state.end else state.next


def _too_large_cause(name: str) -> str:
    return (
        f"The state/task '{name}' returned a result with a size exceeding the maximum number of bytes "
        "service limit."
    )


def _error_details(error: str | None, cause: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if error is not None:
        out["error"] = error
    if cause is not None:
        out["cause"] = cause
    return out
