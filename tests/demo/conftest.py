"""`podium demo` as a user runs it: a process, its exit status, its table, its run directory.

The local run (30 payments, the example's faults: a crash of payment-auth and one of
transaction mid-task among them) is made once per session; the tests that tamper with
ledgers work on copies of its run directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "payment-saga"
RUN_TIMEOUT = 240.0  # seconds: far above a run's ~20 s, so only a hang trips it


@dataclass
class DemoRun:
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path

    @property
    def record(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "demo.json").read_text()))

    def crashes(self) -> list[str]:
        path = self.run_dir / "faults" / "crashes.log"
        return path.read_text().splitlines() if path.exists() else []

    def explain(self) -> str:
        log = self.run_dir / "demo.log"
        tail = log.read_text().splitlines()[-40:] if log.exists() else []
        return f"exit {self.returncode}\n{self.stdout}\n{self.stderr}\n--- demo.log (tail)\n" + "\n".join(
            tail
        )


def run_demo(run_dir: Path, *args: str, timeout: float = RUN_TIMEOUT) -> DemoRun:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PODIUM_", "PAYMENT_"))}
    argv = [sys.executable, "-m", "podium.cli", "demo", "--run-dir", str(run_dir), "--example", str(EXAMPLE)]
    with subprocess.Popen(
        [*argv, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as demo:
        try:
            stdout, stderr = demo.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # A hung demo: its services and its orchestrator run in sessions of their own and
            # would outlive it (polling, on a CI machine, for good). Kill them with it.
            _kill_tree(demo.pid)
            stdout, stderr = demo.communicate()
            pytest.fail(f"podium demo did not end within {timeout:g}s\n{stdout}\n{stderr}\n{run_dir}")
    return DemoRun(demo.returncode, stdout, stderr, run_dir)


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    run = run_demo(tmp_path_factory.mktemp("demo-local"), "--check", "--payments", "30")
    return run
