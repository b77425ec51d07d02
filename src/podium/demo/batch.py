"""Running the batch: start the executions a window at a time, wait for each to end, never
past the deadline.

The batch talks to the orchestrator through `Executions`: podium's Service in this process
(`ServiceExecutions`, as the API would call it, watching the store), or a podium server over
HTTP (podium.demo.client), which may be down for a while when the demo kills it. A window of
executions in flight, rather than all at once, is what a client sending payments does; it
also keeps the latencies of the report about the services rather than about a queue of a
thousand commands.

While the orchestrator does not answer (`UnreachableError`), the batch waits, backing off, and
tries the same start again: same name, same input. A start whose answer was lost may have
created the execution; StartExecution is idempotent on name and input, so the retry finds
that execution instead of making a second one, and a payment is neither lost nor doubled.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from podium.demo.payments import Payment

POLL_SECONDS = 0.05
MAX_BACKOFF = 1.0  # seconds between tries while the orchestrator does not answer
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
NOT_STARTED = "NOT_STARTED"
MISSING = "MISSING"


class UnreachableError(Exception):
    """The orchestrator did not answer (stopped, restarting): the same call may be made again."""


class StartRefusedError(Exception):
    """The orchestrator refused to start the execution, for good: why, for the report."""


class Executions(Protocol):
    """The orchestrator as the batch sees it. `poll_seconds`: the longest between two looks at
    the statuses."""

    poll_seconds: float

    def pause(self, seconds: float) -> None:
        """Wait `seconds`, or less where the orchestrator can say that an execution ended."""
        ...

    def start(self, machine_arn: str, name: str, input_text: str) -> str:
        """The execution's ARN; StartRefusedError, or UnreachableError (then nothing is known)."""
        ...

    def statuses(self, machine_arn: str, arns: Sequence[str]) -> dict[str, str]:
        """The status of each execution (MISSING when there is none); UnreachableError."""
        ...


class ServiceLike(Protocol):
    """What of podium's Service the in-process batch uses: its actions and its store."""

    store: Any
    engine: Any
    express_engine: Any

    def handle(self, name: str, params: dict[str, Any]) -> dict[str, Any]: ...


class ServiceExecutions:
    """Executions through podium's Service in this process: always there.

    Its engines say when an execution ends, so the batch looks at the statuses then, not only
    every `poll_seconds`: a payment's place in the window is filled as soon as it is free.
    """

    poll_seconds = POLL_SECONDS

    def __init__(self, service: ServiceLike) -> None:
        self.service = service
        self._ended = threading.Event()
        for engine in (service.engine, service.express_engine):
            if engine is not None:
                engine.on_execution_end(lambda _arn: self._ended.set())

    def pause(self, seconds: float) -> None:
        # Cleared after the wait and before the batch's next look: an end after this line is
        # either seen by that look or sets the event for the next pause.
        self._ended.wait(seconds)
        self._ended.clear()

    def start(self, machine_arn: str, name: str, input_text: str) -> str:
        from podium.api.errors import ApiError

        params = {"stateMachineArn": machine_arn, "name": name, "input": input_text}
        try:
            response = self.service.handle("StartExecution", params)
        except ApiError as exc:
            raise StartRefusedError(f"{exc.type}: {exc.message}") from None
        return str(response["executionArn"])

    def statuses(self, machine_arn: str, arns: Sequence[str]) -> dict[str, str]:
        out = {}
        for arn in arns:
            record = self.service.store.get_execution(arn)
            out[arn] = record.status if record is not None else MISSING
        return out


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
    start_retries: int = 0  # starts tried again because the orchestrator did not answer

    def count(self, *statuses: str) -> int:
        return sum(1 for e in self.executions if e.status in statuses)


Progress = Callable[[int, int, int], None]  # (done, succeeded, failed)


def run_batch(
    executions: Executions,
    machine_arn: str,
    payments: list[Payment],
    *,
    window: int,
    deadline: float,
    progress: Progress | None = None,
    abandon: threading.Event | None = None,
) -> BatchResult:
    """Start every payment's execution and wait until all have ended, or `deadline` (monotonic)
    has passed, or `abandon` is set (the orchestrator is gone for good)."""
    started_at = time.monotonic()
    runs = [Started(p, None, NOT_STARTED) for p in payments]
    waiting = list(reversed(runs))  # popped from the end: in order
    in_flight: list[Started] = []
    done = succeeded = failed = retries = 0
    shown = 0  # `done` as the progress callback last heard it
    backoff = 0.0

    def going() -> bool:
        return time.monotonic() < deadline and not (abandon is not None and abandon.is_set())

    while (waiting or in_flight) and going():
        unreachable = False
        # Ends first, then their places filled, then the pause: a payment starts as soon as an
        # end is seen, and the driver's own work (a read, the progress bar) is done before the
        # new executions' first tasks are under way, not beside them.
        try:
            statuses = (
                executions.statuses(machine_arn, [r.arn for r in in_flight if r.arn]) if in_flight else {}
            )
        except UnreachableError:
            unreachable = True
            statuses = {}
        still: list[Started] = []
        for run in in_flight:
            assert run.arn is not None
            run.status = statuses.get(run.arn, run.status)
            if run.status in TERMINAL:
                done += 1
                succeeded += run.status == "SUCCEEDED"
                failed += run.status != "SUCCEEDED"
            else:
                still.append(run)
        in_flight = still
        if progress is not None:
            progress(done, succeeded, failed)
            shown = done
        while waiting and len(in_flight) < window and not unreachable:
            run = waiting[-1]
            try:
                _start(executions, machine_arn, run)
            except UnreachableError:
                retries += 1  # it stays first in line, tried again after the pause
                unreachable = True
                break
            waiting.pop()
            if run.arn is None:
                done += 1
                failed += 1
            else:
                in_flight.append(run)
        if unreachable:
            backoff = min(max(executions.poll_seconds, backoff * 2), MAX_BACKOFF)
            time.sleep(backoff)
        elif in_flight:
            backoff = 0.0
            executions.pause(executions.poll_seconds)
    if progress is not None and done != shown:  # the last starts were refused: counted above
        progress(done, succeeded, failed)
    return BatchResult(runs, time.monotonic() - started_at, bool(waiting or in_flight), retries)


def _start(executions: Executions, machine_arn: str, run: Started) -> None:
    """Start `run`'s execution; its start_error when refused. UnreachableError goes through."""
    input_text = json.dumps(run.payment.input())
    try:
        run.arn = executions.start(machine_arn, run.payment.id, input_text)
    except StartRefusedError as exc:  # the report says which payment and why; the audit fails it
        run.start_error = str(exc)
        return
    run.status = "RUNNING"
