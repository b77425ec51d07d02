"""Health verdicts (Docker's HEALTHCHECK arithmetic), heartbeat files, and `ps`'s table."""

from __future__ import annotations

import os
from pathlib import Path

from podium.supervisor.config import HealthSpec
from podium.supervisor.health import CheckResult, HealthTracker, Verdict, check_heartbeat, probe_http
from podium.supervisor.ps import as_json, duration, render
from podium.supervisor.state import ReplicaStatus, Snapshot, read, write

OK, BAD = CheckResult(True, "ok"), CheckResult(False, "HTTP 500")


def test_failures_in_the_start_period_count_only_after_a_first_pass() -> None:
    tracker = HealthTracker(HealthSpec(failure_threshold=2, start_period=10, period=1), started_at=100.0)
    assert tracker.due(100.0)
    assert tracker.record(BAD, 101) is Verdict.STARTING
    assert not tracker.due(101.5) and tracker.due(102)
    assert tracker.record(OK, 102) is Verdict.PASSED
    assert tracker.record(BAD, 103) is Verdict.FAILING  # in the start period, but it passed once
    assert tracker.summary() == "failing 1/2: HTTP 500"
    assert tracker.record(BAD, 104) is Verdict.UNHEALTHY


def test_after_the_start_period_failures_count_and_a_pass_resets_them() -> None:
    tracker = HealthTracker(HealthSpec(failure_threshold=3, start_period=1, period=1), started_at=0.0)
    assert tracker.record(BAD, 2) is Verdict.FAILING
    assert tracker.record(BAD, 3) is Verdict.FAILING
    assert tracker.record(OK, 4) is Verdict.PASSED and tracker.summary() == "ok"
    assert [tracker.record(BAD, t) for t in (5, 6, 7)][-1] is Verdict.UNHEALTHY


def test_heartbeat_freshness(tmp_path: Path) -> None:
    beat = tmp_path / "hb"
    assert check_heartbeat(str(beat), 5).detail.startswith("no heartbeat yet")
    beat.touch()
    os.utime(beat, (1000.0, 1000.0))
    assert check_heartbeat(str(beat), 5, now=1004.0).ok
    stale = check_heartbeat(str(beat), 5, now=1012.0)
    assert not stale.ok and stale.detail == "heartbeat 12.0s old (max 5s)"


def test_probe_of_nothing_listening_fails_with_the_reason() -> None:
    result = probe_http("http://127.0.0.1:9/health", timeout=0.5)  # port 9 (discard): nothing listens
    assert not result.ok and result.detail.startswith("GET http://127.0.0.1:9/health:")


def test_ps_table_and_json(tmp_path: Path) -> None:
    snapshot = Snapshot(
        pid=42,
        config="/srv/podium.yaml",
        started_at=1000.0,
        updated_at=1100.0,
        endpoint="http://127.0.0.1:8083",
        database="sqlite:/srv/podium.db",
        replicas=[
            ReplicaStatus(
                "auth",
                1,
                "auth-1",
                "running",
                pid=7,
                restarts=2,
                last_exit=-9,
                started_at=1050.0,
                health="ok",
                in_flight=3,
            ),
            ReplicaStatus(
                "auth", 2, "auth-2", "backoff", restarts=5, last_exit=1, restart_at=1104.0, in_flight=0
            ),
        ],
    )
    path = tmp_path / "state.json"
    write(path, snapshot)
    assert read(path) == snapshot
    text = render(snapshot, now=1100.0)
    lines = text.splitlines()
    assert lines[0].startswith("podium up (pid 42) running since ")
    assert lines[0].endswith(" (1m40s): /srv/podium.yaml")
    assert lines[1] == "  server http://127.0.0.1:8083, database sqlite:/srv/podium.db"
    assert lines[3:] == [
        "SERVICE  NAME    PID  STATE         RESTARTS  LAST EXIT  UPTIME  IN-FLIGHT  HEALTH",
        "auth     auth-1  7    running       2         SIGKILL    50s     3          ok",
        "auth     auth-2  -    backoff (4s)  5         1          -       0          -",
    ]
    data = as_json(snapshot, running=True, now=1100.0)
    assert data["running"] is True
    assert (
        data["replicas"][0]["uptime_seconds"] == 50.0 and data["replicas"][0]["last_exit_label"] == "SIGKILL"
    )
    assert as_json(None, running=False) == {"running": False, "replicas": []}


def test_durations_read_like_kubectl() -> None:
    assert [duration(s) for s in (5, 65, 3725, 90000)] == ["5s", "1m05s", "1h02m", "1d01h"]
