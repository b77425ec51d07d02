"""Run an execution to its end in virtual time, in memory: the core with instant connectors.

Timers fire by advancing a virtual clock, not by sleeping, and Python functions answer at
once, so a definition with a Wait of an hour runs in milliseconds. Used by the conformance
runner, the interpreter's tests and `podium` commands that need no durability. It is the
same interpreter the durable engine drives: only time and I/O differ.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from podium.arns import ArnFactory
from podium.asl.model import JSON, StateMachine
from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.core.context import iso_millis
from podium.core.history import HistoryEvent
from podium.core.interpreter import DEFAULT_PAYLOAD_LIMIT, Interpreter, Outcome
from podium.core.messages import (
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartExecution,
    StartTimer,
    TaskFailed,
    TimerFired,
)

# A task handler for the simulator: given the command, answer with signals (now_ms is stamped).
TaskHandler = Callable[[InvokeTask], list[Signal]]


@dataclass
class SimulationResult:
    status: str
    outcome: Outcome | None
    events: list[HistoryEvent] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    elapsed_virtual_ms: int = 0


def execution_info(
    name: str = "execution",
    machine_name: str = "state-machine",
    start_ms: int = 0,
    arns: ArnFactory | None = None,
) -> ExecutionInfo:
    arns = arns or ArnFactory()
    return ExecutionInfo(
        execution_arn=arns.execution(machine_name, name),
        name=name,
        state_machine_arn=arns.state_machine(machine_name),
        state_machine_name=machine_name,
        start_time=iso_millis(start_ms),
        region=arns.region,
        account=arns.account,
    )


def simulate(
    machine: StateMachine,
    input_value: JSON,
    *,
    functions: FunctionRegistry | None = None,
    handler: TaskHandler | None = None,
    start_ms: int = 1_700_000_000_000,
    seed: int = 0,
    info: ExecutionInfo | None = None,
    max_signals: int = 1_000_000,
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT,
) -> SimulationResult:
    """Run to the end (or until nothing more can happen: status RUNNING)."""
    interpreter = Interpreter(machine, payload_limit=payload_limit)
    info = info or execution_info(start_ms=start_ms)
    connector = FunctionConnector(functions or FunctionRegistry())
    now = start_ms
    timers: list[tuple[int, int, str]] = []
    answers: deque[Signal] = deque()
    result = SimulationResult("RUNNING", None)
    order = 0

    def apply(signal: Signal) -> None:
        nonlocal order
        result.signals.append(signal)
        decision = interpreter.apply(signal)
        result.events.extend(decision.events)
        for command in decision.commands:
            if command.command_id not in interpreter.outstanding_commands:
                continue
            if isinstance(command, StartTimer):
                order += 1
                heapq.heappush(timers, (command.fire_at_ms, order, command.command_id))
            elif isinstance(command, InvokeTask):
                if handler is not None:
                    answers.extend(handler(command))
                elif connector.accepts(command.resource):
                    connector.invoke(command, answers.append)
                else:
                    answers.append(
                        TaskFailed(
                            0,
                            command.command_id,
                            "States.Runtime",
                            f"podium has no connector for the resource '{command.resource}'",
                        )
                    )

    apply(StartExecution(now, input=input_value, info=info, seed=seed))
    for _ in range(max_signals):
        if interpreter.outcome is not None:
            break
        if answers:
            signal = answers.popleft()
            apply(_stamped(signal, now))
            continue
        while timers and timers[0][2] not in interpreter.outstanding_commands:
            heapq.heappop(timers)  # cancelled
        if not timers:
            break
        fire_at, _, timer_id = heapq.heappop(timers)
        now = max(now, fire_at)
        apply(TimerFired(now, timer_id))
    result.outcome = interpreter.outcome
    result.status = interpreter.outcome.status if interpreter.outcome else "RUNNING"
    result.elapsed_virtual_ms = now - start_ms
    return result


def _stamped(signal: Signal, now: int) -> Signal:
    import dataclasses

    return dataclasses.replace(signal, now_ms=now)
