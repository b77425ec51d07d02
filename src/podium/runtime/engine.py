"""The orchestrator loop: apply signals to executions, commit each step, carry out commands.

One engine thread owns the interpreters of the running executions. For each signal it asks
the pure core for a Decision, commits the signal, the events, the new commands and the
retired ones in one transaction, and only then hands the commands to connectors and timers.
A crash at any point therefore loses nothing: on start the engine replays every unfinished
execution's journal, commits the first step if it was never committed, and re-sends the
commands still owed (tasks at least once; timers at their time).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from podium.arns import NAME_PATTERN, ArnFactory
from podium.asl.model import JSON, StateMachine
from podium.asl.parser import parse_definition
from podium.connectors.base import Connector
from podium.core.context import iso_millis
from podium.core.interpreter import DEFAULT_PAYLOAD_LIMIT, Decision, Interpreter
from podium.core.messages import (
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartExecution,
    StartTimer,
    TaskFailed,
    TimerFired,
)
from podium.runtime.clock import Clock, SystemClock
from podium.runtime.timers import TimerWheel
from podium.store.base import Store
from podium.store.records import (
    ExecutionOutcome,
    ExecutionRecord,
    ExecutionStatus,
    StateMachineRecord,
    StateMachineType,
)

log = logging.getLogger("podium.engine")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class ExecutionAlreadyExistsError(Exception):
    pass


@dataclass
class _Live:
    interpreter: Interpreter
    version: int


class Engine:
    def __init__(
        self,
        store: Store,
        *,
        connectors: Sequence[Connector] = (),
        clock: Clock | None = None,
        arns: ArnFactory | None = None,
        payload_limit: int = DEFAULT_PAYLOAD_LIMIT,
    ) -> None:
        self.store = store
        self.connectors = list(connectors)
        self.clock = clock or SystemClock()
        self.arns = arns or ArnFactory()
        self.payload_limit = payload_limit
        self._queue: deque[tuple[str, Signal | None]] = deque()
        self._cond = threading.Condition()
        self._done = threading.Condition()
        self._live: dict[str, _Live] = {}
        self._machines: dict[str, StateMachine] = {}
        self._timers = TimerWheel(self.clock, self._timer_fired)
        self._thread = threading.Thread(target=self._loop, name="podium-engine", daemon=True)
        self._running = False

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Resume every unfinished execution, then start processing."""
        self._running = True
        self._timers.start()
        self._thread.start()
        with self._cond:
            for arn in self.store.unfinished_executions():
                self._queue.append((arn, None))
            self._cond.notify()

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
        self, state_machine_arn: str, input_value: JSON = None, *, name: str | None = None
    ) -> ExecutionRecord:
        machine = self.store.get_state_machine(state_machine_arn)
        if machine is None:
            raise LookupError(f"State Machine Does Not Exist: '{state_machine_arn}'")
        name = name or str(uuid.uuid4())
        if not NAME_PATTERN.match(name):
            raise ValueError(f"Invalid Name: '{name}'")
        input_value = {} if input_value is None else input_value
        input_text = json.dumps(input_value, separators=(",", ":"), ensure_ascii=False)
        now = self.clock.now_ms()
        arn = self.arns.execution(machine.name, name)
        info = ExecutionInfo(
            execution_arn=arn,
            name=name,
            state_machine_arn=machine.arn,
            state_machine_name=machine.name,
            start_time=iso_millis(now),
            role_arn=machine.role_arn,
            region=self.arns.region,
            account=self.arns.account,
        )
        start = StartExecution(now, input=input_value, info=info, seed=secrets.randbits(63))
        record = ExecutionRecord(
            arn=arn,
            name=name,
            state_machine_arn=machine.arn,
            definition=machine.definition,
            status="RUNNING",
            input=input_text,
            output=None,
            error=None,
            cause=None,
            start_ms=now,
            stop_ms=None,
            version=0,
        )
        stored, created = self.store.create_execution(record, start)
        if not created:
            if stored.status == "RUNNING" and stored.input == input_text:
                return stored  # StartExecution is idempotent on name and input while running
            raise ExecutionAlreadyExistsError(f"Execution Already Exists: '{arn}'")
        self._enqueue(arn, None)
        return stored

    def deliver(self, execution_arn: str, signal: Signal) -> None:
        """A signal from outside (a connector's answer, SendTaskSuccess, StopExecution)."""
        self._enqueue(execution_arn, signal)

    def wait(self, execution_arn: str, timeout: float | None = None) -> ExecutionRecord:
        """Block until the execution has ended (or the timeout passed); return its record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while True:
                record = self.store.get_execution(execution_arn)
                if record is None:
                    raise LookupError(execution_arn)
                if record.status in TERMINAL:
                    return record
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return record
                self._done.wait(timeout=0.5 if remaining is None else min(remaining, 0.5))

    # --- the loop -------------------------------------------------------------------------

    def _enqueue(self, arn: str, signal: Signal | None) -> None:
        with self._cond:
            self._queue.append((arn, signal))
            self._cond.notify()

    def _timer_fired(self, arn: str, timer_id: str) -> None:
        self._enqueue(arn, TimerFired(0, timer_id))

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._running and not self._queue:
                    self._cond.wait()
                if not self._running:
                    return
                arn, signal = self._queue.popleft()
            try:
                self._process(arn, signal)
            except Exception:  # keep the engine alive; the execution is retried on restart
                log.exception("podium engine: step of %s failed", arn)

    def _process(self, arn: str, signal: Signal | None) -> None:
        live = self._live.get(arn)
        if live is None:
            live = self._load(arn)
            if live is None:
                return
        if signal is None:
            return
        signal = dataclasses.replace(signal, now_ms=self.clock.now_ms())
        decision = live.interpreter.apply(signal)
        if not (decision.events or decision.commands or decision.retired or decision.outcome):
            return  # nothing waited for it (a late answer): no step to record
        self._commit(arn, live, [signal], decision)

    def _load(self, arn: str) -> _Live | None:
        record = self.store.get_execution(arn)
        if record is None or record.status != "RUNNING":
            return None
        interpreter = Interpreter(self._machine(record.definition), payload_limit=self.payload_limit)
        journal = self.store.journal(arn)
        first: Decision | None = None
        for index, signal in enumerate(journal):
            decision = interpreter.apply(signal)
            if index == 0:
                first = decision
        live = _Live(interpreter, record.version)
        self._live[arn] = live
        if record.version == 0 and first is not None:
            self._commit(arn, live, [], first)  # the start was journaled, its step never committed
        else:
            for command in self._owed(arn, interpreter):
                self._dispatch(arn, command)
        return live

    def _owed(self, arn: str, interpreter: Interpreter) -> list[InvokeTask | StartTimer]:
        owed = interpreter.outstanding_commands
        out = []
        for _arn, command in self.store.pending_commands(arn):
            if command.command_id in owed and isinstance(command, InvokeTask | StartTimer):
                out.append(command)
        return out

    def _machine(self, definition: str) -> StateMachine:
        machine = self._machines.get(definition)
        if machine is None:
            machine = parse_definition(definition)
            self._machines[definition] = machine
        return machine

    def _commit(self, arn: str, live: _Live, signals: list[Signal], decision: Decision) -> None:
        outcome = None
        if decision.outcome is not None:
            o = decision.outcome
            status = cast(ExecutionStatus, o.status)
            outcome = ExecutionOutcome(status, o.output, o.error, o.cause, self.clock.now_ms())
        live.version = self.store.commit(
            arn,
            live.version,
            signals=signals,
            events=decision.events,
            new_commands=decision.commands,
            retired=decision.retired,
            outcome=outcome,
        )
        if outcome is not None:
            self._live.pop(arn, None)
            with self._done:
                self._done.notify_all()
            return
        owed = live.interpreter.outstanding_commands
        for command in decision.commands:
            if command.command_id in owed:
                self._dispatch(arn, command)

    def _dispatch(self, arn: str, command: object) -> None:
        if isinstance(command, StartTimer):
            self._timers.schedule(command.fire_at_ms, arn, command.command_id)
            return
        if not isinstance(command, InvokeTask):
            return
        for connector in self.connectors:
            if connector.accepts(command.resource):
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


_ROLE = "arn:aws:iam::000000000000:role/podium"
