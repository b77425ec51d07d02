"""End to end: a real `podium server` process, state machines on activities, workers polling it over HTTP.

One server for the module; each test uses activities and machines of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.worker import TaskContext, TaskError, Worker
from tests.api.test_server import Servers, client

ROLE = "arn:aws:iam::000000000000:role/podium"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    servers = Servers(tmp_path_factory.mktemp("server"))
    try:
        yield servers.start()
    finally:
        servers.stop_all()


@pytest.fixture
def sfn(endpoint: str) -> Any:
    return client(endpoint)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def activity_machine(sfn: Any, activity: str, **task: Any) -> str:
    arn = sfn.create_activity(name=activity)["activityArn"]
    definition = {
        "StartAt": "Work",
        "States": {"Work": {"Type": "Task", "Resource": arn, "End": True, **task}},
    }
    created = sfn.create_state_machine(name=unique("m"), definition=json.dumps(definition), roleArn=ROLE)
    return str(created["stateMachineArn"])


def execute(sfn: Any, machine_arn: str, value: Any, timeout: float = 30) -> dict[str, Any]:
    arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(value))["executionArn"]
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def payments(name: str, **options: Any) -> Worker:
    worker = Worker(name, **options)

    @worker.handler("authorize")
    def authorize(payment: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        time.sleep(payment.get("seconds", 0))
        if payment["amount"] > 1000:
            raise TaskError("Payment.Declined", f"amount {payment['amount']} over the limit")
        return {"authorized": payment["amount"], "key": ctx.idempotency_key[-8:]}

    return worker


def test_a_worker_polling_the_server_succeeds_and_declines(endpoint: str, sfn: Any) -> None:
    name = unique("payments")
    machine = activity_machine(sfn, name, HeartbeatSeconds=1)
    worker = payments(name, concurrency=2, heartbeat_every=0.3)
    worker.start(endpoint)
    try:
        described = execute(sfn, machine, {"command": "authorize", "amount": 40})
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"])["authorized"] == 40
        described = execute(sfn, machine, {"command": "authorize", "amount": 5000})
        assert (described["status"], described.get("error"), described.get("cause")) == (
            "FAILED",
            "Payment.Declined",
            "amount 5000 over the limit",
        )
        # 2.5 s of work on a state with HeartbeatSeconds=1: SendTaskHeartbeat keeps it alive.
        described = execute(sfn, machine, {"command": "authorize", "amount": 7, "seconds": 2.5})
        assert described["status"] == "SUCCEEDED"
    finally:
        assert worker.stop(grace=5) is True


def test_a_queue_task_on_the_servers_local_transport_reaches_the_same_handler(
    endpoint: str, sfn: Any
) -> None:
    # podium:queue:NAME on the default (local) transport is an activity task whose input is the
    # whole command; the worker unwraps it, so the handler sees the body as on a broker.
    name = unique("queued")
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": f"podium:queue:{name}", "HeartbeatSeconds": 1, "End": True}
        },
    }
    machine = sfn.create_state_machine(name=unique("m"), definition=json.dumps(definition), roleArn=ROLE)
    worker = payments(name)  # no heartbeat_every: the command says HeartbeatSeconds=1
    worker.start(endpoint)
    try:
        described = execute(
            sfn, machine["stateMachineArn"], {"command": "authorize", "amount": 8, "seconds": 2}
        )
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"])["authorized"] == 8
        described = execute(sfn, machine["stateMachineArn"], {"command": "authorize", "amount": 8000})
        assert (described["status"], described.get("error")) == ("FAILED", "Payment.Declined")
    finally:
        assert worker.stop(grace=5) is True


WORKER_MODULE = """
import time

from podium.worker import TaskError, Worker

worker = Worker("{name}")


@worker.handler("pay")
def pay(body, ctx):
    time.sleep(body.get("seconds", 0))
    if body.get("decline"):
        raise TaskError("Payment.Declined", "declined by the test")
    return {{"paid": body["amount"]}}
"""


def test_the_worker_command_serves_logs_each_task_and_stops_gracefully_on_sigterm(
    endpoint: str, sfn: Any, tmp_path: Path
) -> None:
    name = unique("cli")
    module = tmp_path / "payworker.py"
    module.write_text(textwrap.dedent(WORKER_MODULE.format(name=name)))
    machine = activity_machine(sfn, name)
    process = subprocess.Popen(
        [sys.executable, "-m", "podium.worker", f"{module}:worker", "--transport", endpoint, "--grace", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PODIUM_WORKER_ID": "replica-0", "PODIUM_HEARTBEAT_FILE": str(tmp_path / "hb")},
    )
    try:
        assert execute(sfn, machine, {"command": "pay", "amount": 3})["status"] == "SUCCEEDED"
        assert time.time() - (tmp_path / "hb").stat().st_mtime < 5  # podium up's health check
        declined = execute(sfn, machine, {"command": "pay", "amount": 3, "decline": True})
        assert declined.get("error") == "Payment.Declined"
        # A task in flight when SIGTERM comes is finished and answered before the process exits.
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"amount": 9, "seconds": 2}))[
            "executionArn"
        ]
        wait_for_event(sfn, arn, "ActivityStarted")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"paid": 9}
    history = sfn.get_execution_history(executionArn=arn)["events"]
    started = next(e for e in history if e["type"] == "ActivityStarted")
    assert started["activityStartedEventDetails"]["workerName"] == f"{name}@replica-0"
    lines = [line for line in stderr.splitlines() if f" {name}.pay " in line]
    assert len(lines) == 3, stderr
    assert [line.split(" ms ")[1].split()[0] for line in lines] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert "Payment.Declined" in lines[1]
    assert "SIGTERM: stopping" in stderr and "stopped (0 task(s) released)" in stderr


def wait_for_event(sfn: Any, arn: str, event_type: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        if any(e["type"] == event_type for e in events):
            return
        time.sleep(0.05)
    raise AssertionError(f"no {event_type}")


def test_the_worker_command_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "podium.worker", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )

    module = tmp_path / "empty_module.py"
    module.write_text("X = 1\n")
    result = run(str(module))
    assert result.returncode == 2 and "defines no Worker" in result.stderr
    worker_module = tmp_path / "one.py"
    worker_module.write_text(textwrap.dedent(WORKER_MODULE.format(name="one")))
    result = run(str(worker_module), "--transport", "nats://localhost")
    assert result.returncode == 2 and "unsupported broker URL nats://localhost" in result.stderr
