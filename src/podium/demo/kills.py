"""Killing the orchestrator mid-run: SIGKILL at moments spread over the batch, then a restart.

`--kill-orchestrator N` kills it N times, when 1/(N+1), 2/(N+1), ... of the payments have
ended: with a window of payments in flight each time, so that executions are cut mid-step,
commands are out with the services, and answers are on their way. SIGKILL, not SIGTERM:
nothing is flushed, drained or acked on the way out; whatever the database committed is
all there is. After a short absence (long enough for the services and the batch to find
no one there) the same server is started again on the same database and port, and the run
carries on: the batch retries what failed, the services' pollers and consumers retry, and
the new server recovers the executions and sends the commands they are owed.

The killer runs on its own thread, at the moment the batch's progress reaches each mark, so
that a kill may cut a StartExecution or a status look in the middle. Each kill is recorded
(demo.json, the report); a restart that fails sets `abandon`, which ends the batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from podium.demo.orchestrator import OrchestratorError, OrchestratorProcess
from podium.supervisor.output import Console

DOWN_SECONDS = 1.0  # the orchestrator's absence between the kill and the restart


@dataclass
class Kill:
    """One kill: when (seconds into the batch, the wall clock's ms, payments ended by then),
    which process, and the process that replaced it with how long the orchestrator was away
    (None: it did not come back)."""

    at_seconds: float
    at_ms: int
    ended: int
    pid: int
    restarted_pid: int | None = None
    down_seconds: float | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Kill:
        return cls(**item)


def running_at(kill: Kill, executions: Iterable[Any]) -> int:
    """Executions (store records) that had started and not ended when `kill` struck: the ones
    the new orchestrator had to carry on from the database."""
    return sum(
        1
        for e in executions
        if e is not None and e.start_ms <= kill.at_ms and (e.stop_ms is None or e.stop_ms > kill.at_ms)
    )


def marks(times: int, payments: int) -> list[int]:
    """Payments ended at each kill: spread evenly, none at the very end."""
    return [payments * k // (times + 1) for k in range(1, times + 1)]


class OrchestratorKiller:
    def __init__(
        self,
        orchestrator: OrchestratorProcess,
        times: int,
        payments: int,
        console: Console,
        *,
        down_seconds: float = DOWN_SECONDS,
    ) -> None:
        self.orchestrator = orchestrator
        self.marks = marks(times, payments)
        self.payments = payments
        self.console = console
        self.down_seconds = down_seconds
        self.kills: list[Kill] = []
        self.abandon = threading.Event()  # set when the orchestrator could not be started again
        self._cond = threading.Condition()
        self._ended: int | None = None  # None until the batch reported any progress
        self._stopped = False
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="podium-demo-killer", daemon=True)

    def start(self) -> None:
        self._started_at = time.monotonic()
        self._thread.start()

    def observe(self, ended: int) -> None:
        """The batch's progress: payments ended so far."""
        with self._cond:
            self._ended = ended
            self._cond.notify_all()

    def stop(self) -> None:
        """No more kills; waits for one in progress (its restart) to finish."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            self._kill_at_marks()
        except Exception as exc:  # the orchestrator may be down for good: the batch must not wait on
            self.console.event(f"killing the orchestrator failed: {type(exc).__name__}: {exc}")
            self.abandon.set()
            raise

    def _kill_at_marks(self) -> None:
        for mark in self.marks:
            with self._cond:
                while not self._stopped and (self._ended is None or self._ended < mark):
                    self._cond.wait()
                if self._stopped or self._ended is None:
                    return
                ended = self._ended
            if not self._kill_and_restart(ended):
                return

    def _kill_and_restart(self, ended: int) -> bool:
        at, at_ms = time.monotonic(), int(time.time() * 1000)
        try:
            pid = self.orchestrator.kill()
        except OrchestratorError as exc:
            self.console.event(f"could not kill the orchestrator: {exc}")
            self.abandon.set()
            return False
        kill = Kill(at_seconds=round(at - self._started_at, 3), at_ms=at_ms, ended=ended, pid=pid)
        self.kills.append(kill)
        self.console.event(
            f"orchestrator (pid {pid}) killed with SIGKILL after {ended} of {self.payments} payments"
            f" ended; starting it again in {self.down_seconds:g}s"
        )
        with self._cond:  # the absence, cut short by a stop
            self._cond.wait_for(lambda: self._stopped, self.down_seconds)
        try:
            kill.restarted_pid = self.orchestrator.start()
        except OrchestratorError as exc:
            kill.error = str(exc)
            self.console.event(f"the orchestrator did not come back: {exc}")
            self.abandon.set()
            return False
        kill.down_seconds = round(time.monotonic() - at, 3)
        self.console.event(
            f"orchestrator back (pid {kill.restarted_pid}) after {kill.down_seconds:.1f}s,"
            " on the same database"
        )
        return True
