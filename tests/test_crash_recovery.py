"""kill -9 at many points of many executions: every one finishes after restart, nothing lost.

A baseline database runs the workload (tests/crash/workload.py) without interruption. A second
database runs the same workload in a subprocess that is killed with SIGKILL at random moments
and started again on the same file, until every execution has ended. Then, execution by
execution, the histories must be the same: event for event (ids, types, details) where the
definition is sequential, and as the same multiset of events where branches run concurrently
(their interleaving depends on timing, in AWS as here). Task functions may have run more than
once (at-least-once); their recorded results may not differ.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from podium.core.history import HistoryEvent
from podium.store.sqlite import SQLiteStore
from tests.crash import workload

ROOT = Path(__file__).resolve().parent.parent
CONCURRENT = {"fanout"}  # machines with Parallel/Map: compare histories as multisets


def run_driver(db: Path, *, kill_after: float | None) -> int | None:
    """Run the driver; kill it after `kill_after` seconds. Its exit code, or None when killed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.crash.driver", str(db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        if kill_after is None:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode()
            return proc.returncode
        try:
            proc.wait(timeout=kill_after)
            return proc.returncode  # finished before the kill
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            return None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def histories(db: Path) -> dict[str, tuple[Any, list[HistoryEvent]]]:
    store = SQLiteStore(str(db))
    try:
        out = {}
        for machine, name, _ in workload.executions():
            arn = f"arn:aws:states:us-east-1:000000000000:execution:{machine}:{name}"
            record = store.get_execution(arn)
            assert record is not None, f"{name} was never started"
            out[name] = ((record.status, record.output, record.error, record.cause), store.history(arn))
        return out
    finally:
        store.close()


def comparable(event: HistoryEvent) -> str:
    return json.dumps([event.type, event.details], sort_keys=True)


@pytest.mark.slow
def test_every_execution_survives_sigkill_with_an_identical_history(tmp_path: Path) -> None:
    baseline_db = tmp_path / "baseline.db"
    run_driver(baseline_db, kill_after=None)
    expected = histories(baseline_db)

    crashed_db = tmp_path / "crashed.db"
    rng = random.Random(20261124)
    kills = 0
    for _ in range(60):
        if run_driver(crashed_db, kill_after=rng.uniform(0.15, 0.9)) is not None:
            break
        kills += 1
    run_driver(crashed_db, kill_after=None)  # whatever is left finishes uninterrupted
    assert kills >= 5, f"the driver finished too fast to be killed often ({kills} kills)"
    observed = histories(crashed_db)

    for machine, name, _ in workload.executions():
        exp_outcome, exp_events = expected[name]
        obs_outcome, obs_events = observed[name]
        assert obs_outcome == exp_outcome, name
        ids = [e.id for e in obs_events]
        assert ids == list(range(1, len(ids) + 1)), f"{name}: event ids not contiguous: {ids}"
        terminal = [e for e in obs_events if e.type.startswith("Execution") and e.type != "ExecutionStarted"]
        assert len(terminal) == 1, f"{name}: {len(terminal)} terminal events"
        if machine in CONCURRENT:
            assert Counter(map(comparable, obs_events)) == Counter(map(comparable, exp_events)), name
        else:
            assert [(e.id, e.previous_event_id, comparable(e)) for e in obs_events] == [
                (e.id, e.previous_event_id, comparable(e)) for e in exp_events
            ], name


@pytest.mark.slow
def test_wait_timers_fire_at_their_time_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "waits.db"
    run_driver(db, kill_after=0.3)  # killed while the Waits are pending
    time.sleep(1.2)  # the Waits' time passes while no podium runs
    run_driver(db, kill_after=None)
    for _, (_, events) in histories(db).items():
        entered = {
            e.details["name"]: e.timestamp for e in events if e.type == "WaitStateEntered" and e.details
        }
        for e in events:
            if e.type == "WaitStateExited" and e.details:
                waited = e.timestamp - entered[e.details["name"]]
                assert waited >= 0.99, f"{e.details['name']} exited after {waited:.3f} s, before its 1 s"
