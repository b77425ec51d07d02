"""`podium server` end to end: a real process on a free port, driven by boto3."""

from __future__ import annotations

import gc
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from podium.api.server import check_exposure, endpoint_for, is_loopback, settle_heap
from podium.cli import main

KEY, SECRET = "AKIDPODIUMTEST", "podium-test-secret"
ROLE = "arn:aws:iam::000000000000:role/podium"
START_TIMEOUT = 30.0


class Servers:
    """`podium server` processes on free ports (port 0), each with a temp database."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Start one and wait until it is healthy; its endpoint URL."""
        environment = {k: v for k, v in os.environ.items() if k != "PODIUM_CREDENTIALS"}
        environment.update({"PODIUM_CHECK_RESPONSES": "1", **(env or {})})
        database = self.directory / f"podium-{len(self.processes)}.db"
        process = subprocess.Popen(
            [sys.executable, "-m", "podium.cli", "server", "--port", "0", "--db", str(database), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=self.directory,
        )
        self.processes.append(process)
        endpoint = _endpoint_from_banner(process)
        _wait_healthy(endpoint)
        return endpoint

    def stop_all(self) -> None:
        for process in self.processes:
            _stop(process)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    started = Servers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def _endpoint_from_banner(process: subprocess.Popen[str]) -> str:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if process.poll() is not None:
                stderr = process.stderr.read() if process.stderr else ""
                raise AssertionError(f"podium server exited with {process.returncode}: {stderr}") from None
            continue
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("podium server printed no banner")


def _wait_healthy(endpoint: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/health", timeout=2) as response:
                if json.load(response)["ok"]:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def client(endpoint: str, *, key: str = KEY, secret: str = SECRET, **config: Any) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


# --- a server without credentials ----------------------------------------------------------


def test_boto3_works_against_the_server(servers: Servers) -> None:
    endpoint = servers.start()
    with urllib.request.urlopen(f"{endpoint}/health") as response:
        health = json.load(response)
    assert health["ok"] is True and health["executions"] == {"running": 0}
    assert health["store"].startswith("sqlite:/") and health["store"].endswith(".db")

    sfn = client(endpoint)
    assert sfn.list_state_machines()["stateMachines"] == []
    created = sfn.create_activity(name="work")
    assert created["activityArn"] == "arn:aws:states:us-east-1:000000000000:activity:work"
    assert [a["name"] for a in sfn.list_activities()["activities"]] == ["work"]
    missing = "arn:aws:states:us-east-1:000000000000:stateMachine:missing"
    assert (
        error_code(lambda: sfn.describe_state_machine(stateMachineArn=missing)) == "StateMachineDoesNotExist"
    )


def test_start_sync_execution_works_without_the_host_prefix(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = servers.start()
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": {"hello": "world"}, "End": True}},
    }
    machine = client(endpoint).create_state_machine(
        name="hello", definition=json.dumps(definition), roleArn=ROLE, type="EXPRESS"
    )
    # The client setting, then the environment variable every SDK and the CLI read.
    sfn = client(endpoint, inject_host_prefix=False)
    result = sfn.start_sync_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    assert (result["status"], json.loads(result["output"])) == ("SUCCEEDED", {"hello": "world"})
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    result = client(endpoint).start_sync_execution(stateMachineArn=machine["stateMachineArn"])
    assert result["status"] == "SUCCEEDED"


def test_the_server_stops_cleanly_on_sigint_and_sigterm(servers: Servers) -> None:
    servers.start()
    servers.start()
    for process, sig in zip(servers.processes, (signal.SIGINT, signal.SIGTERM), strict=True):
        process.send_signal(sig)
        assert process.wait(timeout=15) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


# --- a server with credentials -------------------------------------------------------------


def test_with_credentials_only_signed_requests_are_served(tmp_path: Path, servers: Servers) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(f"{KEY}:{SECRET}\n")
    endpoint = servers.start("--credentials", str(credentials))

    assert client(endpoint).list_state_machines()["stateMachines"] == []
    assert error_code(lambda: client(endpoint, signature_version=UNSIGNED).list_state_machines()) == (
        "AccessDeniedException"
    )
    assert (
        error_code(lambda: client(endpoint, secret="wrong").list_state_machines())
        == "InvalidSignatureException"
    )
    assert error_code(lambda: client(endpoint, key="AKIDNOBODY").list_state_machines()) == (
        "UnrecognizedClientException"
    )


def test_credentials_may_come_from_the_environment(servers: Servers) -> None:
    endpoint = servers.start(env={"PODIUM_CREDENTIALS": f"OTHER:x,{KEY}:{SECRET}"})
    assert client(endpoint).list_state_machines()["stateMachines"] == []
    assert (
        error_code(lambda: client(endpoint, secret="wrong").list_state_machines())
        == "InvalidSignatureException"
    )


# --- refusals, in-process (nothing gets to listen) -----------------------------------------


def test_a_non_loopback_address_without_credentials_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PODIUM_CREDENTIALS", raising=False)
    assert main(["server", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0 without credentials" in err
    assert "--insecure" in err and "--credentials" in err


def test_a_taken_port_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["server", "--port", str(port), "--db", str(tmp_path / "x.db")]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_bad_credentials_file_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("no-colon-here\n")
    assert main(["server", "--port", "0", "--credentials", str(path)]) == 2
    assert "line 1: expected ACCESS_KEY:SECRET" in capsys.readouterr().err


def test_an_unsupported_database_url_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--port", "0", "--db", "postgresql://db/podium"]) == 2
    assert "unsupported database URL postgresql://" in capsys.readouterr().err


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("192.0.2.1")
    check_exposure("127.0.0.1", None, insecure=False)
    check_exposure("0.0.0.0", {"AKID": "x"}, insecure=False)
    check_exposure("0.0.0.0", None, insecure=True)


@pytest.mark.parametrize(
    ("names", "endpoint"),
    [
        ({}, "http://127.0.0.1:8083"),
        ({"localhost": {"127.0.0.1", "::1"}, "sync-localhost": {"127.0.0.1"}}, "http://localhost:8083"),
        (
            {"podium.localhost": {"127.0.0.1", "::1"}, "sync-podium.localhost": {"::1", "127.0.0.1"}},
            "http://podium.localhost:8083",
        ),
        ({"localhost": {"127.0.0.1"}, "sync-localhost": {"10.0.0.1"}}, "http://127.0.0.1:8083"),
    ],
)
def test_the_printed_endpoint_is_one_whose_sync_name_reaches_the_server(
    monkeypatch: pytest.MonkeyPatch, names: dict[str, set[str]], endpoint: str
) -> None:
    monkeypatch.setattr("podium.api.server._resolve", lambda name, timeout=1.0: set(names.get(name, set())))
    assert endpoint_for("127.0.0.1", 8083) == (endpoint, endpoint != "http://127.0.0.1:8083")


def test_the_printed_endpoint_is_the_bound_address_when_no_sync_name_resolves() -> None:
    endpoint, sync_ok = endpoint_for("127.0.0.1", 8083)
    if not sync_ok:  # a machine with sync-localhost in /etc/hosts, or systemd's *.localhost, differs
        assert endpoint == "http://127.0.0.1:8083"
    assert endpoint_for("::1", 8083)[0] in (
        "http://[::1]:8083",
        "http://localhost:8083",
        "http://podium.localhost:8083",
    )


def test_settle_heap_moves_what_start_up_made_out_of_the_collectors_sight() -> None:
    gc.unfreeze()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 1000  # the imported modules alone are thousands of objects
    finally:
        gc.unfreeze()
