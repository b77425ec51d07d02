"""The servers the API benchmark measures, each in a process of its own.

- `podium server` on a fresh SQLite file (the store's default: WAL, synchronous=FULL, one fsync
  per committed step), started as a user starts it; its port is read from its banner.
- moto in server mode: `moto.server.ThreadedMotoServer` (the same WSGI app as `moto_server`),
  with `execute_state_machine` turned on through its `/moto-api/config` endpoint so that it
  really runs the definitions (its port of LocalStack's interpreter).

Both are reached only over HTTP, by boto3, so that the client side is the same for both.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/bench"


@dataclass
class Server:
    """A running server: its endpoint and its process (for CPU accounting and profiling)."""

    name: str
    endpoint: str
    process: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process (every thread) so far."""
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def running_executions(self) -> int | None:
        """podium's count of unfinished executions (GET /health); None for moto."""
        if self.name != "podium":
            return None
        with urllib.request.urlopen(f"{self.endpoint}/health", timeout=10) as response:
            return int(json.load(response)["executions"]["running"])


class ServerUnavailableError(RuntimeError):
    """The server cannot run here (moto's server mode not installed): said in the report."""


def _read_endpoint(process: subprocess.Popen[str], pattern: str, what: str) -> str:
    lines: queue.Queue[str] = queue.Queue()
    said: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            if process.poll() is not None:
                if "not installed" in "".join(said):
                    raise ServerUnavailableError("".join(said).strip()) from None
                raise RuntimeError(
                    f"{what} exited with {process.returncode}: {''.join(said).strip()}"
                ) from None
            continue
        said.append(line)
        found = re.search(pattern, line)
        if found:
            return found.group(1)
    raise RuntimeError(f"{what} did not start within {START_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def podium_server(directory: Path) -> Iterator[Server]:
    """`podium server --port 0 --db DIR/bench.db`: SQLite, synchronous=FULL (the default)."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PODIUM_CREDENTIALS", "PODIUM_CHECK_RESPONSES")
    }
    command = [
        sys.executable,
        "-m",
        "podium.cli",
        "server",
        "--port",
        "0",
        "--db",
        str(directory / "bench.db"),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment, cwd=directory
    )
    try:
        endpoint = _read_endpoint(process, r"listening on (http://\S+)", "podium server")
        yield Server("podium", endpoint, process)
    finally:
        _stop(process)


@contextmanager
def _bench_module(name: str) -> Iterator[Server]:
    """`python -m bench.api_NAME` in a process of its own, once it printed
    `NAME listening on URL`."""
    process = subprocess.Popen(
        [sys.executable, "-m", f"bench.api_{name}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        endpoint = _read_endpoint(process, rf"{name} listening on (http://\S+)", f"{name} server")
        yield Server(name, endpoint, process)
    finally:
        _stop(process)


@contextmanager
def null_server() -> Iterator[Server]:
    """bench.api_null: canned answers from uvicorn, for the ceiling of the client side."""
    with _bench_module("null") as server:
        yield server


@contextmanager
def moto_server() -> Iterator[Server]:
    """moto's ThreadedMotoServer in a process of its own, executing state machines."""
    with _bench_module("moto") as server:
        body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        request = urllib.request.Request(
            f"{server.endpoint}/moto-api/config",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()  # moto's answer does not echo the stepfunctions setting: tried below
        _check_moto_executes(server.endpoint)
        yield server


def _check_moto_executes(endpoint: str) -> None:
    sfn = sfn_client(endpoint)
    document = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 42, "End": True}}})
    arn = sfn.create_state_machine(name="bench-check", definition=document, roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            if described.get("output") != "42":
                raise RuntimeError(f"moto ran the check machine to {described}")
            sfn.delete_state_machine(stateMachineArn=arn)
            return
        time.sleep(0.05)
    raise RuntimeError("moto does not execute state machines (execute_state_machine was not taken)")


def sfn_client(endpoint: str, *, pool: int = 4, read_timeout: int = 60) -> Any:
    """A boto3 Step Functions client of `endpoint`: dummy credentials, no retries, no host prefix."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()  # a session per client: clients are made from many threads
    return session.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(
            inject_host_prefix=False,  # StartSyncExecution would go to sync-127.0.0.1 otherwise
            retries={"total_max_attempts": 1},
            max_pool_connections=pool,
            read_timeout=read_timeout,
        ),
    )
