"""`podium server` as a black box: a real process on a free port, reached only through HTTP.

`PodiumProcess` starts one (`--port 0`, the port read from its banner), waits for GET /health,
and stops it with SIGTERM (a clean stop) or SIGKILL (a crash); `start()` again runs a new
process on the same database. `client()` is a boto3 Step Functions client for it, and
`wait_until()` polls a condition with a deadline instead of sleeping.
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
CORPUS_FUNCTIONS = REPO / "tests" / "fixtures" / "corpus_functions.py"
TEST_FUNCTIONS = Path(__file__).resolve().parent / "functions.py"
ROLE = "arn:aws:iam::000000000000:role/podium"
REGION = "us-east-1"
ACCOUNT = "000000000000"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# Dummy credentials: without --credentials the server checks no signature, but clients sign.
DUMMY_KEY, DUMMY_SECRET = "podium-test", "podium-test"

T = TypeVar("T")


class PodiumProcess:
    """One `podium server` on a database of its own; restartable on that database."""

    def __init__(self, db: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.db = db
        self.args = list(args)
        self.env = env or {}
        self.process: subprocess.Popen[str] | None = None
        self.endpoint = ""
        self._stderr_lines: list[str] = []
        self._pumps: list[threading.Thread] = []

    def start(self) -> str:
        """Start the server (again) and wait until it is healthy; its endpoint URL."""
        assert self.process is None or self.process.poll() is not None, "already running"
        environment = {k: v for k, v in os.environ.items() if k != "PODIUM_CREDENTIALS"}
        # Every response checked against the API's output shapes: a mismatch is a 500.
        environment.update({"PODIUM_CHECK_RESPONSES": "1", "PYTHONUNBUFFERED": "1", **self.env})
        command = [sys.executable, "-m", "podium.cli", "server", "--port", "0", "--db", str(self.db)]
        self.process = subprocess.Popen(
            [*command, *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=self.db.parent,
        )
        self._stderr_lines = []
        self.endpoint = self._endpoint_from_banner()
        _wait_healthy(self.endpoint, self.process)
        return self.endpoint

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Stop the process with `sig` (SIGTERM: clean, SIGKILL: a crash); its exit status."""
        process = self.process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pump in self._pumps:  # they end at the end of the streams, the process being gone
            pump.join(timeout=STOP_TIMEOUT)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        return process.returncode

    @property
    def stderr(self) -> str:
        return "".join(self._stderr_lines)

    def client(self, **config: Any) -> Any:
        return client(self.endpoint, **config)

    def _endpoint_from_banner(self) -> str:
        process = self.process
        assert process is not None and process.stdout is not None and process.stderr is not None
        lines: queue.Queue[str] = queue.Queue()

        def pump(stream: Any, sink: Callable[[str], None]) -> None:
            for line in stream:
                sink(line)

        # Both streams are drained all along (the server logs to stderr), else a full pipe blocks it.
        self._pumps = [
            threading.Thread(target=pump, args=(process.stdout, lines.put), daemon=True),
            threading.Thread(target=pump, args=(process.stderr, self._stderr_lines.append), daemon=True),
        ]
        for thread in self._pumps:
            thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if process.poll() is not None:
                    raise AssertionError(
                        f"podium server exited with {process.returncode}: {self.stderr}"
                    ) from None
                continue
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                return found.group(1)
        raise AssertionError(f"podium server printed no banner within {START_TIMEOUT} s")


def _wait_healthy(endpoint: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/health", timeout=2) as response:
                if json.load(response)["ok"]:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
        time.sleep(0.02)


def client(
    endpoint: str, *, key: str = DUMMY_KEY, secret: str = DUMMY_SECRET, read_timeout: int = 70, **config: Any
) -> Any:
    """A boto3 Step Functions client of `endpoint`, with StartSyncExecution's host prefix off."""
    settings: dict[str, Any] = {
        "inject_host_prefix": False,
        "retries": {"total_max_attempts": 1},  # no retries: every server error surfaces
        "read_timeout": read_timeout,  # over GetActivityTask's 60 s long poll
        "connect_timeout": 5,
        **config,
    }
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(**settings),
    )


def wait_until(condition: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.02) -> T:
    """Poll `condition` until it returns something truthy; that value. AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)


TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def wait_for_end(sfn: Any, execution_arn: str, *, timeout: float = 20.0) -> dict[str, Any]:
    """DescribeExecution, polled until the execution has ended."""

    def ended() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        return described if described["status"] in TERMINAL else None

    return wait_until(ended, timeout=timeout)


def history(sfn: Any, execution_arn: str, **params: Any) -> list[dict[str, Any]]:
    """Every event of an execution, through GetExecutionHistory's paginator."""
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn, **params)
    return [event for page in pages for event in page["events"]]


def event_types(events: Sequence[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def definition(states: dict[str, Any], start: str | None = None, **top: Any) -> str:
    """An ASL document as JSON text; it starts at the first state unless told otherwise."""
    return json.dumps({"StartAt": start or next(iter(states)), "States": states, **top})
