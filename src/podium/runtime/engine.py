"""The orchestrator loop: apply signals to executions, commit each step, carry out commands.

One step at a time touches the interpreters of the running executions: the engine's thread
takes them in order, and a thread that hands an answer over (`deliver_now`) takes it itself
when the engine is idle, under the same lock. For each signal the engine asks the pure core
for a Decision, commits the signal, the events, the new commands and the
retired ones in one transaction, and only then hands the commands to connectors and timers.
A crash at any point therefore loses nothing. Signals that wait together (a reply queue's
read, the engine's queue under load) are taken as a batch: their steps are computed one
after the other, committed together (each step still on its own: one the store refuses
costs only its execution), and only then carried out.

On start the engine replays every unfinished execution's journal; the trailing entries
journaled but never committed (a StartExecution or a RedriveExecution whose first step a
crash cut short) have their decisions committed now; then the commands still owed are sent
again (tasks at least once, timers at their time), or re-attached when their service had
already accepted them.

The engine also knows every task in flight by its token (`task_by_token`, `lookup_task`), so
that SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat and GetActivityTask can answer it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from podium.arns import NAME_PATTERN, ArnFactory
from podium.asl.model import JSON, StateMachine
from podium.asl.parser import parse_definition
from podium.connectors.base import Cancellable, Connector, Expedites, Resumable
from podium.core import tasks, tokens
from podium.core.context import iso_millis
from podium.core.interpreter import DEFAULT_PAYLOAD_LIMIT, Decision, Interpreter
from podium.core.messages import (
    ExecutionInfo,
    InvokeTask,
    RedriveExecution,
    Signal,
    StartExecution,
    StartTimer,
    StopExecution,
    TaskFailed,
    TaskStarted,
    TaskSubmitted,
    TimerFired,
)
from podium.runtime.clock import Clock, SystemClock
from podium.runtime.entropy import ENTROPY
from podium.runtime.task_tokens import TaskRef, TaskRegistry, TokenStatus
from podium.runtime.timers import TimerWheel
from podium.store.base import Store
from podium.store.records import (
    ExecutionOutcome,
    ExecutionRecord,
    ExecutionStatus,
    FirstStep,
    StateMachineRecord,
    StateMachineType,
    StepCommit,
)

log = logging.getLogger("podium.engine")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
EndListener = Callable[[str], None]
Started = Callable[[ExecutionRecord | None, BaseException | None], None]  # submit_start's callback


class ExecutionAlreadyExistsError(Exception):
    def __init__(self, message: str, record: ExecutionRecord) -> None:
        super().__init__(message)
        self.record = record


@dataclass
class _Live:
    interpreter: Interpreter
    version: int
    tasks: dict[str, InvokeTask] = field(default_factory=dict)  # dispatched and still owed
    # An informational step applied but not yet committed (see DEFER_SECONDS): its signals
    # and decisions go first into the execution's next commit.
    deferred_signals: list[Signal] = field(default_factory=list)
    deferred: list[Decision] = field(default_factory=list)


@dataclass(frozen=True)
class _Route:
    """Where the tasks of one Resource go (Engine._route)."""

    connector: Connector | None
    expedites: bool
    resumes: bool
    cancels: bool


@dataclass(frozen=True)
class Starting:
    """An execution computed but not yet written (Engine.prepare_start)."""

    record: ExecutionRecord
    start: StartExecution
    first: FirstStep
    interpreter: Interpreter
    decision: Decision


@dataclass
class _Pending:
    """A step computed, its write not yet committed (in a batch: Engine._take_all), and what
    to carry out once it is (Engine._committed)."""

    live: _Live
    step: StepCommit
    decision: Decision
    dispatch: bool
    handled: set[str]


@dataclass
class _Adopt:
    """A started execution whose first step the starting thread already committed."""

    live: _Live
    decision: Decision


# A step that only records that a task was handed over (TaskSubmitted, TaskStarted: history
# events, no command, nothing retired, no end) is not committed on its own: it goes into the
# execution's next commit (its answer, usually, a few milliseconds later), or is committed
# alone after this long. That saves a commit and its fsync in each task's way. Losing such a
# step in a crash loses nothing: the task is then still "scheduled" in the journal, and
# recovery sends it again, as for a crash just before it (the service deduplicates on the
# token). The history shows the events once committed.
DEFER_SECONDS = 0.25
_INFORMATIONAL = (TaskSubmitted, TaskStarted)

# At most this many signals are folded into one step, so that a loop of inline tasks still
# commits (and can be stopped) every so often.
FOLD_LIMIT = 64

# Signals waiting for the engine are taken together, up to this many: their steps are
# computed one after the other and committed in one go (Store.commit_steps: one fsync on
# SQLite instead of one each), then each step's commands go out. Under load the waiting is
# for the disk, not the CPU; a bound keeps the first step's commands from waiting long.
BATCH_LIMIT = 32


class Engine:
    def __init__(
        self,
        store: Store,
        *,
        connectors: Sequence[Connector] = (),
        clock: Clock | None = None,
        arns: ArnFactory | None = None,
        payload_limit: int = DEFAULT_PAYLOAD_LIMIT,
        express: bool = False,
    ) -> None:
        self.store = store
        self.connectors = list(connectors)
        self.clock = clock or SystemClock()
        self.arns = arns or ArnFactory()
        self.payload_limit = payload_limit
        self.express = express  # runs EXPRESS executions: `express:` ARNs, never redriven
        self.tasks = TaskRegistry()
        self._queue: deque[tuple[str, Signal | _Adopt | None]] = deque()
        self._waiters: dict[str, threading.Event] = {}
        self._waiters_lock = threading.Lock()
        self._cond = threading.Condition()
        # Held for each step, by the engine's thread or by a deliver_now caller: one at a time.
        self._stepping = threading.Lock()
        self._in_hand = False  # the engine's thread took an item off the queue, not yet done
        self._live: dict[str, _Live] = {}
        self._machines: dict[str, StateMachine] = {}
        self._deferred: dict[str, float] = {}  # execution -> when its deferred step is committed
        # When the engine's thread wakes next by itself (monotonic; inf: not before a notify).
        self._wakes_at = math.inf
        # Answers a connector gave while a step dispatched on this thread (a queue's
        # TaskSubmitted, once the broker has the command): taken next, by the same thread.
        self._given_now: deque[tuple[str, Signal]] = deque()
        # While the stepping thread takes a batch: the steps computed, to commit together.
        self._batch: list[_Pending] | None = None
        self._end_listeners: list[EndListener] = []
        self._timers = TimerWheel(self.clock, self._timer_fired)
        self._routes: dict[str, _Route] = {}  # Resource -> its connector (_route)
        self._routed_for = 0  # len(self.connectors) when _routes was filled
        self._thread = threading.Thread(target=self._loop, name="podium-engine", daemon=True)
        self._running = False

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Resume every unfinished execution, then start processing.

        The journals are replayed here, before start() returns, so that every task in flight
        is known by its token by then: a worker's SendTaskSuccess right after a restart finds
        its task.
        """
        self._running = True
        self._timers.start()
        for arn in self.store.unfinished_executions():
            try:
                self._load(arn)
            except Exception:  # one broken execution must not keep the others down
                log.exception("podium engine: resuming %s failed", arn)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._timers.stop()

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def on_execution_end(self, listener: EndListener) -> None:
        """Call `listener(execution_arn)` each time an execution ends: on the engine thread, or,
        for an execution that ended in its first step, on the starting thread (the store's
        writing thread for `submit_start`). It must be thread-safe."""
        self._end_listeners.append(listener)

    # --- state machines and executions ----------------------------------------------------

    def create_state_machine(
        self, name: str, definition: str, *, type: StateMachineType = "STANDARD"
    ) -> StateMachineRecord:
        parse_definition(definition)  # raises DefinitionError naming every problem
        arn = self.arns.state_machine(name)
        existing = self.store.get_state_machine(arn)
        if existing is not None and existing.definition == definition and existing.type == type:
            return existing
        record = StateMachineRecord(
            arn=arn,
            name=name,
            definition=definition,
            type=type,
            role_arn=_ROLE,
            created_ms=self.clock.now_ms(),
            revision_id=str(uuid.uuid4()),
        )
        self.store.put_state_machine(record)
        return record

    def start_execution(
        self,
        state_machine_arn: str,
        input_value: JSON = None,
        *,
        name: str | None = None,
        input_text: str | None = None,
        machine: StateMachineRecord | None = None,
        version_arn: str | None = None,
        alias_arn: str | None = None,
    ) -> ExecutionRecord:
        """Start an execution; idempotent on name and input while it runs (STANDARD only).

        `machine` is what runs when the caller resolved a version or an alias already (its
        `arn` and `name` being the state machine's); `input_text` is the client's JSON text,
        kept as given (`input_value` must then be its value).
        """
        starting = self.prepare_start(
            state_machine_arn,
            input_value,
            name=name,
            input_text=input_text,
            machine=machine,
            version_arn=version_arn,
            alias_arn=alias_arn,
        )
        stored, created = self.store.create_execution(
            starting.record, starting.start, first_step=starting.first
        )
        return self._started(starting, stored, created)

    def submit_start(self, starting: Starting, done: Started) -> None:
        """Hand a prepared start's write to the store, for a caller that must not block (the
        API's event loop): `done(record, None)` once it is durable, or `done(None, exception)`
        (ExecutionAlreadyExistsError among them), on the thread that wrote it."""

        def written(created: tuple[ExecutionRecord, bool] | None, error: BaseException | None) -> None:
            if created is None:
                done(None, error)
                return
            try:
                record = self._started(starting, *created)
            except Exception as exc:
                done(None, exc)
                return
            done(record, None)

        self.store.submit_execution(starting.record, starting.start, written, first_step=starting.first)

    def prepare_start(
        self,
        state_machine_arn: str,
        input_value: JSON = None,
        *,
        name: str | None = None,
        input_text: str | None = None,
        machine: StateMachineRecord | None = None,
        version_arn: str | None = None,
        alias_arn: str | None = None,
    ) -> Starting:
        """An execution about to be written (start_execution's arguments): its record, its
        start signal and its first step, computed on the caller's thread."""
        if machine is None:
            machine = self.store.get_state_machine(state_machine_arn)
            if machine is None:
                raise LookupError(f"State Machine Does Not Exist: '{state_machine_arn}'")
        name = name or ENTROPY.uuid4()
        if not NAME_PATTERN.match(name):
            raise ValueError(f"Invalid Name: '{name}'")
        if input_text is None:
            input_value = {} if input_value is None else input_value
            input_text = json.dumps(input_value, separators=(",", ":"), ensure_ascii=False)
        now = self.clock.now_ms()
        arn = (self.arns.express_execution if self.express else self.arns.execution)(machine.name, name)
        info = ExecutionInfo(
            execution_arn=arn,
            name=name,
            state_machine_arn=machine.arn,
            state_machine_name=machine.name,
            start_time=iso_millis(now),
            role_arn=machine.role_arn,
            redrive_count=None if self.express else 0,
            region=self.arns.region,
            account=self.arns.account,
        )
        start = StartExecution(
            now, input=input_value, info=info, seed=ENTROPY.randbits128(), token_key=ENTROPY.token_hex()
        )
        record = ExecutionRecord(
            arn=arn,
            name=name,
            state_machine_arn=machine.arn,
            definition=machine.definition,
            status="RUNNING",
            input=input_text,
            start_ms=now,
            version=0,
            state_machine_version_arn=version_arn,
            state_machine_alias_arn=alias_arn,
            type=machine.type,
        )
        # The start signal's step is pure: compute it here and write it with the execution, in
        # one transaction; the engine thread then adopts the interpreter and sends its commands.
        interpreter = Interpreter(self._machine(machine.definition), payload_limit=self.payload_limit)
        decision = interpreter.apply(start)
        first = FirstStep(
            events=tuple(decision.events),
            new_commands=tuple(decision.commands),
            retired=tuple(decision.retired),
            outcome=self._outcome(decision),
        )
        return Starting(record, start, first, interpreter, decision)

    def _started(self, starting: Starting, stored: ExecutionRecord, created: bool) -> ExecutionRecord:
        """After the write: the execution handed to the engine thread, or the one found instead."""
        arn = starting.record.arn
        if not created:
            # StartExecution is idempotent on name and input while running (not for EXPRESS).
            same_input = _same_json(stored.input, starting.record.input)
            if not self.express and stored.status == "RUNNING" and same_input:
                return stored
            raise ExecutionAlreadyExistsError(f"Execution Already Exists: '{arn}'", stored)
        if starting.first.outcome is not None:
            # Ended in its first step (a machine of Pass, Choice, ...): nothing for the engine
            # thread to adopt or dispatch, only the end to announce, here and now.
            self._announce_end(arn)
        else:
            self._enqueue(arn, _Adopt(_Live(starting.interpreter, stored.version), starting.decision))
        return stored

    def deliver(self, execution_arn: str, signal: Signal) -> None:
        """A signal from outside (a connector's answer, SendTaskSuccess, StopExecution)."""
        self._enqueue(execution_arn, signal)

    def deliver_now(self, execution_arn: str, signal: Signal) -> None:
        """`deliver`, its step taken on the caller's thread if the engine is idle.

        For a thread whose only work is to hand answers over (a reply queue's consumer): when
        nothing is queued or in hand, waking the engine's thread would only add a thread's
        wake-up to the step's way (about 0.2 ms on this project's benchmark machine). Steps
        stay one at a time and in order: the caller takes the same lock the engine's thread
        takes for each step, and only when nothing came before it.
        """
        self.deliver_all_now([(execution_arn, signal)])

    def deliver_all_now(self, signals: Sequence[tuple[str, Signal]]) -> None:
        """`deliver_now` for several (execution ARN, signal) pairs, taken as one batch: their
        steps are committed together (a reply queue's consumer hands over what one read
        brought)."""
        if not signals:
            return
        if self._running and self._stepping.acquire(blocking=False):
            try:
                with self._cond:
                    idle = not self._queue and not self._in_hand
                if idle:
                    self._take_all(list(signals))
                    self._wake_for_deferred()
                    return
            finally:
                self._stepping.release()
        with self._cond:
            self._queue.extend(signals)
            self._cond.notify()

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None, *, timeout: float = 30
    ) -> ExecutionRecord:
        """StopExecution: ABORTED with `error` and `cause`; returns the record once it has ended."""
        self.deliver(execution_arn, StopExecution(0, error, cause))
        return self.wait(execution_arn, timeout=timeout)

    def redrive(self, execution_arn: str) -> ExecutionRecord:
        """RedriveExecution: reopen an execution that ended FAILED, TIMED_OUT or ABORTED.

        Raises the store's ExecutionNotRedrivableError (its status forbids it) or
        ConflictError (it moved meanwhile). The redrive signal is journaled uncommitted by the
        store, so the step it starts survives a crash right after this call.
        """
        record = self.store.get_execution(execution_arn)
        if record is None:
            raise LookupError(execution_arn)
        now = self.clock.now_ms()
        signal = RedriveExecution(now, redrive_count=record.redrive_count + 1)
        self.store.reopen_execution(execution_arn, record.version, signal, now_ms=now)
        self._enqueue(execution_arn, None)
        reopened = self.store.get_execution(execution_arn)
        assert reopened is not None
        return reopened

    def wait(self, execution_arn: str, timeout: float | None = None) -> ExecutionRecord:
        """Block until the execution has ended (or the timeout passed); return its record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._waiters_lock:
            ended = self._waiters.setdefault(execution_arn, threading.Event())
        while True:
            # Registered first, read second: an end between the two still sets the event.
            record = self.store.get_execution(execution_arn)
            if record is None:
                raise LookupError(execution_arn)
            if record.status in TERMINAL:
                return record
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return record
            # The periodic wake-up covers an end written by another process on the same store.
            ended.wait(timeout=0.5 if remaining is None else min(remaining, 0.5))

    # --- tasks by token -------------------------------------------------------------------

    def task_by_token(self, token: str) -> TaskRef | None:
        """The task in flight that `token` names, or None."""
        return self.tasks.get(token)

    def lookup_task(self, token: str) -> tuple[TokenStatus, TaskRef | None]:
        """What a token is: a task in flight, a genuine token whose task has closed, or not one of ours."""
        ref = self.tasks.get(token)
        if ref is not None:
            return TokenStatus.OPEN, ref
        parts = tokens.parse(token)
        if parts is None:
            return TokenStatus.INVALID, None
        key = self._token_key(parts.execution_arn)
        if key is None or not tokens.verify(key, parts):
            return TokenStatus.INVALID, None
        return TokenStatus.CLOSED, None

    def _token_key(self, execution_arn: str) -> str | None:
        live = self._live.get(execution_arn)
        if live is not None:
            return live.interpreter.token_key
        try:
            entries = self.store.journal_entries(execution_arn)
        except LookupError:
            return None
        except Exception:
            return None
        if not entries or not isinstance(entries[0][0], StartExecution):
            return None
        return entries[0][0].token_key

    # --- the loop -------------------------------------------------------------------------

    def _enqueue(self, arn: str, signal: Signal | _Adopt | None) -> None:
        with self._cond:
            self._queue.append((arn, signal))
            self._cond.notify()

    def _timer_fired(self, arn: str, timer_id: str) -> None:
        self._enqueue(arn, TimerFired(0, timer_id))

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._running and not self._queue:
                    if self._deferred and self._deferred_due() is not None:
                        break
                    wait = self._deferred_wait()
                    self._wakes_at = math.inf if wait is None else time.monotonic() + wait
                    self._cond.wait(wait)
                self._wakes_at = -math.inf  # awake: it looks at the deferred steps before it sleeps
                if not self._running:
                    break
                items = [self._queue.popleft() for _ in range(min(len(self._queue), BATCH_LIMIT))]
                self._in_hand = bool(items)  # deliver_now must not overtake them
            with self._stepping:
                if not items:
                    self._flush_deferred(time.monotonic())
                else:
                    self._take_all(items)
            with self._cond:
                self._in_hand = False
        with self._stepping:
            self._flush_deferred(None)  # stopping: what was applied is committed, not left to recovery

    def _take_all(self, items: list[tuple[str, Signal | _Adopt | None]]) -> None:
        """Steps for `items`, in order, committed together; then those of the answers their
        dispatches got at once, the same way. The caller holds `_stepping`."""
        while items:
            self._batch = []
            try:
                for arn, item in items:
                    self._take_one(arn, item)
            finally:
                self._commit_batch()
            items = list(self._given_now)
            self._given_now.clear()

    def _take_one(self, arn: str, item: Signal | _Adopt | None) -> None:
        try:
            self._process(arn, item)
        except Exception:  # keep the engine alive; the execution is retried on restart
            log.exception("podium engine: step of %s failed", arn)
            self._forget(arn)

    def _wake_for_deferred(self) -> None:
        """Wake the engine's thread if a deferred step falls due before it would wake by itself
        (not for every step: a wake-up takes the GIL just as a service starts on the task)."""
        if not self._deferred:
            return
        due = min(self._deferred.values())
        with self._cond:
            if due < self._wakes_at:
                self._cond.notify()

    def _deferred_wait(self) -> float | None:
        if not self._deferred:
            return None
        return max(0.0, min(self._deferred.values()) - time.monotonic())

    def _deferred_due(self) -> str | None:
        now = time.monotonic()
        return next((arn for arn, due in self._deferred.items() if due <= now), None)

    def _flush_deferred(self, now: float | None) -> None:
        """Commit the deferred steps due by `now` (all of them when None), together."""
        due = [a for a, at in self._deferred.items() if now is None or at <= now]
        if not due:
            return
        self._batch = []
        try:
            for arn in due:
                del self._deferred[arn]
                live = self._live.get(arn)
                if live is None or not live.deferred_signals:
                    continue
                try:
                    self._commit(arn, live, [], Decision(), dispatch=False)
                except Exception:
                    log.exception("podium engine: step of %s failed", arn)
                    self._forget(arn)
        finally:
            self._commit_batch()

    def _process(self, arn: str, item: Signal | _Adopt | None) -> None:
        if isinstance(item, _Adopt):
            self._adopt(arn, item)
            return
        live = self._live.get(arn)
        if live is None:
            live = self._load(arn)
            if live is None:
                return
        if item is None:
            return
        signals, decision, handled = self._step(arn, live, item)
        if not signals:
            return  # nothing waited for it (a late answer): no step to record
        if _informational(signals, decision):
            live.deferred_signals.extend(signals)
            live.deferred.append(decision)
            self._deferred.setdefault(arn, time.monotonic() + DEFER_SECONDS)
            return
        self._commit(arn, live, signals, decision, handled=handled)

    def _step(self, arn: str, live: _Live, signal: Signal) -> tuple[list[Signal], Decision, set[str]]:
        """Apply a signal, and the answers inline connectors give at once to the tasks it starts.

        Folding those answers into the same step makes a chain of local functions cost one
        commit instead of one per task. It stays at least once: a crash before the commit
        replays from the last committed step, which starts those tasks again.
        """
        signals: list[Signal] = []
        decisions: list[Decision] = []
        handled: set[str] = set()
        pending: deque[Signal] = deque([signal])
        while pending and len(signals) < FOLD_LIMIT:
            applied = dataclasses.replace(pending.popleft(), now_ms=self.clock.now_ms())
            decision = live.interpreter.apply(applied)
            if not (decision.events or decision.commands or decision.retired or decision.outcome):
                continue
            signals.append(applied)
            decisions.append(decision)
            if live.interpreter.outcome is not None:
                break
            pending.extend(self._run_inline(live, decision, handled))
        if pending:  # past the limit: the next steps take them, first, in order
            with self._cond:
                self._queue.extendleft((arn, answer) for answer in reversed(pending))
        return signals, _merged(decisions), handled

    def _run_inline(self, live: _Live, decision: Decision, handled: set[str]) -> list[Signal]:
        answers: list[Signal] = []
        owed = live.interpreter.outstanding_commands
        for command in decision.commands:
            if isinstance(command, InvokeTask) and command.command_id in owed:
                connector = self._route(command.resource).connector
                if connector is not None and getattr(connector, "inline", False):
                    handled.add(command.command_id)
                    connector.invoke(command, answers.append)
        return answers

    def _adopt(self, arn: str, adopt: _Adopt) -> None:
        if arn in self._live:
            return  # a signal got here first and loaded it from the store, commands and all
        self._live[arn] = adopt.live
        self._dispatch_owed(arn, adopt.live, adopt.decision, set())

    def _load(self, arn: str) -> _Live | None:
        """Rebuild a RUNNING execution from its journal, commit what never was, re-send what is owed."""
        record = self.store.get_execution(arn)
        if record is None or record.status != "RUNNING":
            return None
        interpreter = Interpreter(self._machine(record.definition), payload_limit=self.payload_limit)
        uncommitted: list[Decision] = []
        for signal, committed in self.store.journal_entries(arn):
            decision = interpreter.apply(signal)
            if not committed:
                uncommitted.append(decision)
        live = _Live(interpreter, record.version)
        self._live[arn] = live
        if uncommitted:
            self._commit(arn, live, [], _merged(uncommitted), dispatch=False, now=True)
            if arn not in self._live:
                return None  # that step ended it
        self._redispatch(arn, live)
        return live

    def _redispatch(self, arn: str, live: _Live) -> None:
        owed = live.interpreter.outstanding_commands
        for _arn, command in self.store.pending_commands(arn):
            if command.command_id not in owed:
                continue
            if isinstance(command, StartTimer):
                self._timers.schedule(command.fire_at_ms, arn, command.command_id)
            elif isinstance(command, InvokeTask):
                phase = live.interpreter.task_phase(command.command_id)
                if phase in (None, tasks.SCHEDULED):
                    self._dispatch(arn, live, command)
                else:
                    self._reattach(arn, live, command, phase)

    def _machine(self, definition: str) -> StateMachine:
        machine = self._machines.get(definition)
        if machine is None:
            machine = parse_definition(definition)
            self._machines[definition] = machine
        return machine

    def _outcome(self, decision: Decision) -> ExecutionOutcome | None:
        if decision.outcome is None:
            return None
        o = decision.outcome
        return ExecutionOutcome(
            cast(ExecutionStatus, o.status), o.output, o.error, o.cause, self.clock.now_ms()
        )

    def _commit(
        self,
        arn: str,
        live: _Live,
        signals: list[Signal],
        decision: Decision,
        *,
        dispatch: bool = True,
        handled: set[str] | None = None,
        now: bool = False,
    ) -> None:
        """Commit a step (`now`), or, inside a batch, add it to the batch's commit."""
        if live.deferred_signals:  # the informational steps applied before this one go first
            signals = [*live.deferred_signals, *signals]
            decision = _merged([*live.deferred, decision])
            live.deferred_signals, live.deferred = [], []
            self._deferred.pop(arn, None)
        step = StepCommit(
            arn,
            live.version,
            signals=signals,
            events=decision.events,
            new_commands=decision.commands,
            retired=decision.retired,
            outcome=self._outcome(decision),
        )
        pending = _Pending(live, step, decision, dispatch, handled or set())
        if self._batch is not None and not now:
            # Committed with the rest of the batch; the next step of this execution, if the
            # batch holds one, builds on this one's version.
            self._batch.append(pending)
            live.version += 1
            return
        [error] = self.store.commit_steps([step])
        if error is not None:
            raise error
        live.version = step.expected_version + 1
        self._committed(pending)

    def _commit_batch(self) -> None:
        """Commit the steps the batch computed, then carry each out, in order. A step the store
        refuses (or a failed COMMIT) makes its execution forgotten, to be reloaded as stored."""
        batch, self._batch = self._batch, None
        if not batch:
            return
        try:
            errors = self.store.commit_steps([pending.step for pending in batch])
        except Exception as exc:  # the store itself failed: nothing of the batch is known written
            errors = [exc] * len(batch)
        failed: set[str] = set()
        for pending, error in zip(batch, errors, strict=True):
            arn = pending.step.arn
            if error is not None or arn in failed:
                if arn not in failed:
                    log.error("podium engine: step of %s failed", arn, exc_info=error)
                    failed.add(arn)
                    self._forget(arn)
                continue
            try:
                self._committed(pending)
            except Exception:
                log.exception("podium engine: carrying out the step of %s failed", arn)
                self._forget(arn)

    def _committed(self, pending: _Pending) -> None:
        """What follows a step's commit: retire, end, or send its commands."""
        live, step, decision = pending.live, pending.step, pending.decision
        arn = step.arn
        for command_id in decision.retired:
            self._retired(arn, live, command_id)
        if step.outcome is not None:
            self._ended(arn)
            return
        if pending.dispatch:
            self._dispatch_owed(arn, live, decision, pending.handled)

    def _ended(self, arn: str) -> None:
        self._live.pop(arn, None)
        self.tasks.remove_execution(arn)
        self._timers.cancel_execution(arn)
        self._announce_end(arn)

    def _announce_end(self, arn: str) -> None:
        """Tell the end listeners and wake the waiters; thread-safe (both sides hold locks)."""
        for listener in self._end_listeners:
            try:
                listener(arn)
            except Exception:
                log.exception("podium engine: end listener failed for %s", arn)
        with self._waiters_lock:
            ended = self._waiters.pop(arn, None)
        if ended is not None:
            ended.set()

    def _dispatch_owed(self, arn: str, live: _Live, decision: Decision, handled: set[str]) -> None:
        owed = live.interpreter.outstanding_commands
        for command in decision.commands:
            if command.command_id in owed and command.command_id not in handled:
                self._dispatch(arn, live, command)

    def _forget(self, arn: str) -> None:
        """Drop an execution's in-memory state after a failed step: the next signal reloads it."""
        self._deferred.pop(arn, None)
        self._live.pop(arn, None)
        self.tasks.remove_execution(arn)

    def _route(self, resource: str) -> _Route:
        """The connector for a Resource, and what it can do, looked up once per Resource: every
        task asks twice (dispatch, retire), and each `accepts` and each check against a
        runtime-checkable protocol costs microseconds. `accepts` depends on the Resource only;
        connectors may be added to the list at any time (which starts the lookups over)."""
        if len(self.connectors) != self._routed_for:
            self._routes.clear()
            self._routed_for = len(self.connectors)
        route = self._routes.get(resource)
        if route is None:
            connector = next((c for c in self.connectors if c.accepts(resource)), None)
            route = _Route(
                connector,
                expedites=isinstance(connector, Expedites),
                resumes=isinstance(connector, Resumable),
                cancels=isinstance(connector, Cancellable),
            )
            self._routes[resource] = route
        return route

    def _dispatch(self, arn: str, live: _Live, command: object) -> None:
        if isinstance(command, StartTimer):
            self._timers.schedule(command.fire_at_ms, arn, command.command_id)
            return
        if not isinstance(command, InvokeTask):
            return
        live.tasks[command.command_id] = command
        self.tasks.add(arn, command)
        route = self._route(command.resource)
        connector = route.connector
        if connector is not None:
            # Nothing else waits for this thread: the connector may send at once on it. What it
            # answers meanwhile is taken right after this step, on this thread, instead of
            # waking the engine's thread for it.
            if not self._queue and route.expedites:
                given = _GivenNow(self, arn)
                cast(Expedites, connector).invoke_now(command, given)
                given.close()
            else:
                connector.invoke(command, functools.partial(self.deliver, arn))
            return
        self.deliver(
            arn,
            TaskFailed(
                0,
                command.command_id,
                "States.Runtime",
                f"podium has no connector for the resource '{command.resource}'",
            ),
        )

    def _reattach(self, arn: str, live: _Live, command: InvokeTask, phase: str) -> None:
        """A task its service had accepted before the restart: known by its token again, not re-sent."""
        live.tasks[command.command_id] = command
        self.tasks.add(arn, command)
        route = self._route(command.resource)
        if route.resumes:
            cast(Resumable, route.connector).resume(command, functools.partial(self.deliver, arn), phase)

    def _retired(self, arn: str, live: _Live, command_id: str) -> None:
        command = live.tasks.pop(command_id, None)
        if command is None:
            self._timers.cancel(arn, command_id)  # a timer (or nothing): the core ignores it now
            return
        self.tasks.remove(command.task_token)
        route = self._route(command.resource)
        if route.cancels:
            try:
                cast(Cancellable, route.connector).cancel(command)
            except Exception:
                log.exception("podium engine: cancelling %s failed", command_id)


class _GivenNow:
    """A task's reply function: what the connector answers during `invoke_now`, on the
    dispatching thread, waits in `Engine._given_now` for the same thread to take; anything
    later (a re-send's TaskSubmitted from the connector's own thread) is delivered as usual."""

    def __init__(self, engine: Engine, arn: str) -> None:
        self._engine = engine
        self._arn = arn
        self._thread: int | None = threading.get_ident()

    def close(self) -> None:
        self._thread = None

    def __call__(self, signal: Signal) -> None:
        if self._thread == threading.get_ident():
            self._engine._given_now.append((self._arn, signal))
        else:
            self._engine.deliver(self._arn, signal)


def _informational(signals: list[Signal], decision: Decision) -> bool:
    """A step that only records a task's hand-over: nothing to send, retire or end."""
    return (
        all(isinstance(signal, _INFORMATIONAL) for signal in signals)
        and not decision.commands
        and not decision.retired
        and decision.outcome is None
    )


def _merged(decisions: list[Decision]) -> Decision:
    """Several steps' decisions as one (the trailing uncommitted entries of a journal)."""
    out = Decision()
    for decision in decisions:
        out.events.extend(decision.events)
        out.commands.extend(decision.commands)
        out.retired.extend(decision.retired)
        if decision.outcome is not None:
            out.outcome = decision.outcome
    return out


def _same_json(left: str, right: str) -> bool:
    if left == right:
        return True
    try:
        return bool(json.loads(left) == json.loads(right))
    except ValueError:
        return False


_ROLE = "arn:aws:iam::000000000000:role/podium"
