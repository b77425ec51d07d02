"""`podium up` as a user runs it (a process, a podium.yaml), and `podium ps` beside it.

One `up` serves the whole module: a worker of an activity that dies holding a task, two
sleepers with a child each, a crasher. The tests run in order; the last one stops it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from podium.cli import main
from tests.supervisor.conftest import SERVICES, pid_alive, wait_until

ACTIVITY = "arn:aws:states:us-east-1:000000000000:activity:work"
JOB = {
    "StartAt": "Work",
    "States": {"Work": {"Type": "Task", "Resource": ACTIVITY, "HeartbeatSeconds": 60, "End": True}},
}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    config: Path
    log: Path
    dir: Path

    def ps(self) -> dict[str, Any]:
        out = subprocess.run(
            [sys.executable, "-m", "podium.cli", "ps", str(self.config), "--json"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,  # exit 1 when up is not running; the JSON says so too
        )
        return dict(json.loads(out.stdout))

    def replicas(self) -> dict[str, dict[str, Any]]:
        state = self.config.parent / "podium.db.supervisor.json"
        try:
            snapshot = json.loads(state.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {r["name"]: r for r in snapshot["replicas"]}

    def endpoint(self) -> str:
        state = json.loads((self.config.parent / "podium.db.supervisor.json").read_text())
        return str(state["endpoint"])

    def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.endpoint() + "/",
            data=json.dumps(params).encode(),
            headers={
                "X-Amz-Target": f"AWSStepFunctions.{action}",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        with _OPENER.open(request, timeout=10) as response:
            return dict(json.loads(response.read()))


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    base = tmp_path_factory.mktemp("up")
    (base / "job.asl.json").write_text(json.dumps(JOB))
    python = sys.executable
    config = base / "podium.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            server: {{db: podium.db, port: 0}}
            state_machines: {{Job: job.asl.json}}
            activities: [work]
            services:
              worker:
                command: [{python}, {SERVICES / "activity_worker.py"}]
                environment: {{ACTIVITY_ARN: "{ACTIVITY}", DIED_MARKER: died, HOLD: "2.5"}}
                backoff: {{initial: 100ms}}
              sleeper:
                command: [{python}, {SERVICES / "sleep.py"}]
                replicas: 2
                environment: {{CHILD_PIDS: children}}
              crasher:
                command: [{python}, {SERVICES / "crash.py"}]
                environment: {{STARTS: starts, CRASH_AFTER: "0.2"}}
                backoff: {{initial: 100ms, max: 200ms}}
            """
        )
    )
    log = base / "up.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "podium.cli", "up", str(config)],
            cwd=base,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    handle = Up(process, config, log, base)
    try:
        wait_until(lambda: handle.replicas().get("worker-1", {}).get("state") == "running", 30, "up to start")
        yield handle
    finally:
        if process.poll() is None:  # a test failed before the last one stopped it
            pids = [r["pid"] for r in handle.replicas().values() if r["pid"]]
            process.kill()
            process.wait(10)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        children = base / "children"
        for pid in children.read_text().split() if children.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def table(lines: list[str]) -> dict[str, dict[str, str]]:
    """`ps`'s table by replica name, its cells cut at the header's columns."""
    header = lines[0]
    names = ["SERVICE", "NAME", "PID", "STATE", "RESTARTS", "LAST EXIT", "UPTIME", "IN-FLIGHT", "HEALTH"]
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], None]
    rows = [{n: line[a:b].strip() for n, a, b in zip(names, starts, ends, strict=True)} for line in lines[1:]]
    return {row["NAME"]: row for row in rows}


def test_ps_lists_every_replica_with_its_restarts(up: Up, capsys: pytest.CaptureFixture[str]) -> None:
    wait_until(lambda: up.replicas()["crasher-1"]["restarts"] >= 2, 10, "the crasher restarted")
    assert main(["ps", str(up.config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"podium up (pid {up.process.pid}) running since")
    rows = table(lines[3:])
    assert list(rows) == ["worker-1", "sleeper-1", "sleeper-2", "crasher-1"]
    sleeper = rows["sleeper-2"]
    assert (sleeper["SERVICE"], sleeper["STATE"], sleeper["RESTARTS"], sleeper["IN-FLIGHT"]) == (
        "sleeper",
        "running",
        "0",
        "0",
    )
    assert int(sleeper["PID"]) > 0 and sleeper["UPTIME"].endswith("s")
    crasher = rows["crasher-1"]
    assert int(crasher["RESTARTS"]) >= 2 and crasher["LAST EXIT"] in ("3", "-")
    report = up.ps()
    assert report["running"] is True
    assert {r["name"]: r["in_flight"] for r in report["replicas"]}["sleeper-1"] == 0
    assert {r["name"]: r["restarts"] for r in report["replicas"]}["crasher-1"] >= 2


def test_a_dead_replicas_activity_task_goes_to_the_next_worker_at_once(up: Up) -> None:
    arn = up.call(
        "DescribeStateMachine", {"stateMachineArn": ACTIVITY.replace("activity:work", "stateMachine:Job")}
    )
    started = time.monotonic()
    execution = up.call("StartExecution", {"stateMachineArn": arn["stateMachineArn"], "input": "{}"})
    # worker-1 holds the task for 2.5 s: ps counts it in flight
    wait_until(lambda: up.replicas()["worker-1"]["in_flight"] == 1, 10, "the task in flight at worker-1")

    def status() -> str:
        return str(up.call("DescribeExecution", {"executionArn": execution["executionArn"]})["status"])

    wait_until(lambda: status() != "RUNNING", 15, "the execution to end")
    assert status() == "SUCCEEDED"
    assert time.monotonic() - started < 15  # not the 60 s HeartbeatSeconds
    assert (up.dir / "died").exists()
    text = up.log.read_text()
    assert "worker-1 exited with code 1; 1 task it had taken put back on the queue; restarting" in text
    # A service's lines reach the console as they gather (every 50 ms), maybe after its answer.
    answered = re.compile(r"^worker-1 +\| answered a task$", re.MULTILINE)
    wait_until(lambda: answered.search(up.log.read_text()) is not None, 5, "worker-1's line in the log")


def test_a_second_up_on_the_same_database_is_refused(up: Up, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", str(up.config)]) == 2
    assert f"podium up is already running for this database (pid {up.process.pid}" in capsys.readouterr().err


def test_sigterm_stops_every_child_and_then_the_server(up: Up) -> None:
    pids = [r["pid"] for r in up.replicas().values() if r["pid"]]
    grandchildren = [int(p) for p in (up.dir / "children").read_text().split()]
    assert len(pids) >= 3 and len(grandchildren) == 2
    up.process.send_signal(signal.SIGTERM)
    assert up.process.wait(20) == 0
    assert not [pid for pid in [*pids, *grandchildren] if pid_alive(pid)]
    text = up.log.read_text()
    assert "SIGTERM: stopping the services, then the server" in text
    assert "sleeper-1 stopped" in text and "sleeper-2 stopped" in text
    # services learn where podium is: without a broker, its API is their transport
    assert re.search(r"^sleeper-1 +\| ready transport=http://127\.0\.0\.1:\d+$", text, re.MULTILINE)
    assert re.search(r"podium +\| stopped$", text.rstrip())
    assert "Traceback" not in text
    assert not (up.dir / "podium.db.supervisor.json").exists()
    assert main(["ps", str(up.config)]) == 1
