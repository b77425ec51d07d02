"""Running a Supervisor in a thread over tiny Python services, and cleaning up after it."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from podium.supervisor.config import Backoff, ServiceSpec
from podium.supervisor.output import Console
from podium.supervisor.state import is_running
from podium.supervisor.supervisor import Supervisor, TaskHooks

SERVICES = Path(__file__).resolve().parent / "services"
FAST = Backoff(initial=0.1, max=1.0, factor=2.0, reset_after=60.0)


def service(name: str, script: str, **options: Any) -> ServiceSpec:
    """A service running services/<script> with this interpreter; fast backoff unless given."""
    options.setdefault("backoff", FAST)
    options.setdefault("stop_grace", 2.0)
    return ServiceSpec(name=name, command=(sys.executable, str(SERVICES / script)), **options)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def pid_alive(pid: int) -> bool:
    """Alive, and not a zombie waiting for its parent."""
    return is_running(pid)


class Run:
    """A supervisor running on a thread, its console captured."""

    def __init__(self, supervisor: Supervisor, out: io.StringIO) -> None:
        self.supervisor = supervisor
        self.out = out
        self.stop = threading.Event()
        self.force = threading.Event()
        self.thread = threading.Thread(target=supervisor.run, args=(self.stop, self.force), daemon=True)

    @property
    def text(self) -> str:
        return self.out.getvalue()

    def events(self, pattern: str) -> list[str]:
        return [line for line in self.text.splitlines() if re.search(pattern, line)]

    def pids(self) -> set[int]:
        """Every pid the supervisor ever started."""
        return {int(m) for m in re.findall(r"started \(pid (\d+)\)", self.text)}

    def replica(self, name: str) -> Any:
        return next(s for s in self.supervisor.statuses() if s.name == name)


@contextlib.contextmanager
def supervising(
    *services: ServiceSpec, hooks: TaskHooks | None = None, environment: dict[str, str] | None = None
) -> Iterator[Run]:
    out = io.StringIO()
    env = {**os.environ, **(environment or {})}
    run = Run(Supervisor(services, Console(out, colour=False), environment=env, hooks=hooks, tick=0.02), out)
    run.thread.start()
    try:
        yield run
    finally:
        run.stop.set()
        run.thread.join(15)
        for pid in run.pids():  # never leave a process behind, whatever the test did
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        assert not run.thread.is_alive(), "the supervisor did not stop"


def with_env(spec: ServiceSpec, **env: str) -> ServiceSpec:
    return replace(spec, environment={**spec.environment, **env})
