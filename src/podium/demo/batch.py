"""Running the batch: start the executions a window at a time, wait for each to end, never
past the deadline.

The executions start through the Service's own StartExecution (in this process, as the API
would) and are watched in the store. A window of executions in flight, rather than all at
once, is what a client sending payments does; it also keeps the latencies of the report
about the services rather than about a queue of a thousand commands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from podium.demo.payments import Payment

POLL_SECONDS = 0.05
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
NOT_STARTED = "NOT_STARTED"


class ExecutionService(Protocol):
    """What of podium's Service the batch uses: its actions and its store."""

    store: Any

    def handle(self, name: str, params: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class Started:
    payment: Payment
    arn: str | None
    status: str
    start_error: str | None = None


@dataclass(frozen=True)
class BatchResult:
    executions: list[Started]
    seconds: float
    deadline_passed: bool

    def count(self, *statuses: str) -> int:
        return sum(1 for e in self.executions if e.status in statuses)


Progress = Callable[[int, int, int], None]  # (done, succeeded, failed)


def run_batch(
    service: ExecutionService,
    machine_arn: str,
    payments: list[Payment],
    *,
    window: int,
    deadline: float,
    progress: Progress | None = None,
) -> BatchResult:
    """Start every payment's execution and wait until all have ended or `deadline` (monotonic)."""
    started_at = time.monotonic()
    runs = [Started(p, None, NOT_STARTED) for p in payments]
    waiting = list(reversed(runs))  # popped from the end: in order
    in_flight: list[Started] = []
    done = succeeded = failed = 0
    while (waiting or in_flight) and time.monotonic() < deadline:
        while waiting and len(in_flight) < window:
            run = waiting.pop()
            _start(service, machine_arn, run)
            if run.arn is None:
                done += 1
                failed += 1
            else:
                in_flight.append(run)
        still: list[Started] = []
        for run in in_flight:
            assert run.arn is not None
            record = service.store.get_execution(run.arn)
            run.status = record.status if record is not None else "MISSING"
            if run.status in TERMINAL:
                done += 1
                succeeded += run.status == "SUCCEEDED"
                failed += run.status != "SUCCEEDED"
            else:
                still.append(run)
        in_flight = still
        if progress is not None:
            progress(done, succeeded, failed)
        if in_flight:
            time.sleep(POLL_SECONDS)
    return BatchResult(runs, time.monotonic() - started_at, bool(waiting or in_flight))


def _start(service: ExecutionService, machine_arn: str, run: Started) -> None:
    from podium.api.errors import ApiError

    params = {
        "stateMachineArn": machine_arn,
        "name": run.payment.id,
        "input": json.dumps(run.payment.input()),
    }
    try:
        response = service.handle("StartExecution", params)
    except ApiError as exc:  # the report says which payment and why; the audit fails it
        run.start_error = f"{exc.type}: {exc.message}"
        return
    run.arn = str(response["executionArn"])
    run.status = "RUNNING"
