"""What `podium demo` takes, and where a run keeps its files."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PAYMENTS = 50
DEFAULT_WINDOW = 16
# The batch's deadline when none is given: room for the slowest payment (a stalled call on
# each of its steps, each waiting out its TimeoutSeconds and retries) on top of a throughput
# far below what a healthy run reaches.
BASE_SECONDS = 90.0
SECONDS_PER_PAYMENT = 1.0
# Per kill of the orchestrator: its restart on a busy machine, and the timeouts and retries of
# the steps it cut.
SECONDS_PER_KILL = 30.0


@dataclass(frozen=True)
class DemoOptions:
    """`transport`: local (podium's activity queues, no broker), redis or rabbitmq.
    `faults`: a faults file, "none", or None for the example's faults.yaml.
    `window`: payments in flight at once (the rest wait their turn, as a client would send them).
    `timeout`: seconds the batch may take; past it, what is not finished counts as not terminal.
    `kill_orchestrator`: times to SIGKILL the orchestrator mid-run and start it again (it then
    runs as a child process, and the batch goes through its API; podium.demo.kills).
    """

    transport: str = "local"
    broker_url: str | None = None
    payments: int = DEFAULT_PAYMENTS
    db: str | None = None
    faults: str | None = None
    check: bool = False
    run_dir: Path | None = None
    window: int = DEFAULT_WINDOW
    timeout: float | None = None
    seed: int | None = None
    example: Path | None = None
    kill_orchestrator: int = 0

    def __post_init__(self) -> None:
        if self.payments < 1:
            raise ValueError(f"--payments must be at least 1, not {self.payments}")
        if self.window < 1:
            raise ValueError(f"--window must be at least 1, not {self.window}")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"--timeout must be positive, not {self.timeout:g}")
        if self.kill_orchestrator < 0:
            raise ValueError(f"--kill-orchestrator must not be negative, not {self.kill_orchestrator}")

    @property
    def batch_seconds(self) -> float:
        if self.timeout is not None:
            return self.timeout
        return BASE_SECONDS + SECONDS_PER_PAYMENT * self.payments + SECONDS_PER_KILL * self.kill_orchestrator


def new_run_dir(parent: Path | None = None) -> Path:
    """A fresh directory for one run (database, ledgers, logs): kept afterwards, for a look."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.mkdtemp(prefix=f"podium-demo-{stamp}-", dir=parent))
