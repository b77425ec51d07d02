"""The orchestrator as a child process of the demo, so that it can be killed alone.

`podium demo --kill-orchestrator N` runs `podium server` (the assembly EmbeddedServer runs in
process otherwise) as a child, on the run's database and a port fixed for the run, and
starts it again after each SIGKILL on the same database and port: what an operator's
process manager does after a crash. The services, supervised by the demo, keep their
endpoint (or their broker) throughout; the new server recovers the executions from the
database and owes their commands again.

Its output goes to the console as `server | ...`, as the embedded server's log does. A
server that does not start says why in its last lines, which the error repeats.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Any

from podium.supervisor.config import ServerSpec, StateMachineSpec
from podium.supervisor.output import Console
from podium.supervisor.process import ChildProcess, SpawnError, describe_exit
from podium.transports.factory import TransportSpec

SOURCE = "server"
START_TIMEOUT = 60.0  # a Python process importing the server and recovering a database, on a busy machine
STOP_TIMEOUT = 15.0  # its graceful shutdown (uvicorn's 5 s, the engine's stop), with room
KILL_TIMEOUT = 10.0  # for a SIGKILLed process to be gone
TAIL_LINES = 5


class OrchestratorError(Exception):
    """The orchestrator did not start, or would not take the state machine: one line."""


class OrchestratorProcess:
    """`podium server` for one run: `start`, `kill` (SIGKILL), `start` again, `stop`."""

    def __init__(self, spec: ServerSpec, transport: TransportSpec, console: Console) -> None:
        self.spec = spec
        self.transport = transport
        self.console = console
        # One port for the run: the services were told this endpoint once and keep it.
        self.port = spec.port or free_port(spec.host)
        self.pids: list[int] = []  # of every start, in order
        self._process: ChildProcess | None = None
        self._tail: _Tail | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.spec.host}:{self.port}"

    @property
    def worker_transport(self) -> str:
        """A worker's --transport: the broker's URL, or without a broker this server's API."""
        return self.transport.url or self.endpoint

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def argv(self) -> list[str]:
        spec = self.spec
        argv = [sys.executable, "-m", "podium.cli", "server", "--db", spec.db, "--host", spec.host]
        argv += ["--port", str(self.port), "--region", spec.region, "--account", spec.account]
        argv += ["--payload-limit", str(spec.payload_limit), "--transport", self.transport.kind]
        if self.transport.url:
            argv += ["--broker-url", self.transport.url]
        for module in spec.functions:
            argv += ["--functions", module]
        if spec.connections:
            argv += ["--connections", spec.connections]
        if spec.credentials:
            argv += ["--credentials", spec.credentials]
        if spec.insecure:
            argv.append("--insecure")
        return argv

    def start(self, timeout: float = START_TIMEOUT) -> int:
        """Start it and wait until it serves; its pid. OrchestratorError if it does not."""
        assert not self.running, "the orchestrator is already running"
        self._tail = _Tail(self.console)
        try:
            process = ChildProcess.spawn(
                self.argv(), env=dict(os.environ), cwd=None, console=self._tail, source=SOURCE
            )
        except SpawnError as exc:
            raise OrchestratorError(f"cannot start the orchestrator: {exc}") from None
        self._process = process
        deadline = time.monotonic() + timeout
        while not self._serves():
            code = process.poll()
            if code is not None:
                process.wait_output()
                raise OrchestratorError(f"the orchestrator {describe_exit(code)}: {self._tail.last()}")
            if time.monotonic() >= deadline:
                self._end(process, graceful=False)
                raise OrchestratorError(f"the orchestrator did not serve within {timeout:g}s (see demo.log)")
            time.sleep(0.1)
        self.pids.append(process.pid)
        return process.pid

    def kill(self) -> int:
        """SIGKILL, as a crash of its host would end it: no shutdown of any kind. Its pid."""
        process = self._process
        assert process is not None, "the orchestrator is not running"
        self._end(process, graceful=False)
        return process.pid

    def stop(self) -> None:
        """Stop it gracefully (SIGTERM), killing it if that takes too long; no-op when not running."""
        if self._process is not None:
            self._end(self._process, graceful=True)

    def register(self, machines: tuple[StateMachineSpec, ...], activities: tuple[str, ...]) -> None:
        """Create the declared activities and state machines through the API (as EmbeddedServer
        does in process); update a machine whose definition changed."""
        from botocore.exceptions import BotoCoreError, ClientError

        from podium.arns import ArnFactory
        from podium.demo.client import api_client

        client = api_client(self.endpoint, region=self.spec.region)
        arns = ArnFactory(self.spec.region, self.spec.account)
        try:
            for name in activities:
                client.create_activity(name=name)
            for machine in machines:
                verb = _register(client, arns.state_machine(machine.name), machine, self.spec.account)
                self.console.line(
                    SOURCE, f"state machine {machine.name} {verb} ({machine.definition_file.name})"
                )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise OrchestratorError(f"cannot register: {error.get('Code')}: {error.get('Message')}") from None
        except BotoCoreError as exc:
            raise OrchestratorError(f"cannot register: {exc}") from None
        finally:
            client.close()

    def _serves(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/health", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def _end(self, process: ChildProcess, *, graceful: bool) -> None:
        if process.poll() is None:
            if graceful:
                process.terminate()
                if _exited(process, STOP_TIMEOUT):
                    process.wait_output()
                    self._process = None
                    return
                self.console.line(SOURCE, f"did not stop within {STOP_TIMEOUT:g}s; killing it")
            process.kill()
            if not _exited(process, KILL_TIMEOUT):
                raise OrchestratorError(f"the orchestrator (pid {process.pid}) outlived SIGKILL")
        process.wait_output()
        self._process = None


def _register(client: Any, arn: str, machine: StateMachineSpec, account: str) -> str:
    from botocore.exceptions import ClientError

    try:
        existing = client.describe_state_machine(stateMachineArn=arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "StateMachineDoesNotExist":
            raise
        role = f"arn:aws:iam::{account}:role/podium"
        client.create_state_machine(
            name=machine.name, definition=machine.definition, roleArn=role, type=machine.type
        )
        return "created"
    if existing["type"] != machine.type:
        raise OrchestratorError(
            f"state_machines.{machine.name}: exists as {existing['type']} in the database, declared"
            f" {machine.type}: a state machine's type cannot change (delete it, or rename it)"
        )
    if existing["definition"] == machine.definition:
        return "unchanged"
    client.update_state_machine(stateMachineArn=arn, definition=machine.definition)
    return "updated"


def _exited(process: ChildProcess, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def free_port(host: str) -> int:
    """A port free on `host` now. The server binds it later with SO_REUSEADDR, as it does again
    after each kill; another process taking it in between is the one risk, and it is small."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Tail(Console):
    """The console, remembering the server's last lines for the error when it does not start."""

    def __init__(self, console: Console) -> None:
        super().__init__(console.stream, colour=console.colour)
        self.inner = console
        self.lines: deque[str] = deque(maxlen=TAIL_LINES)

    def line(self, source: str, text: str) -> None:
        if text.strip():
            self.lines.append(text.strip())
        self.inner.line(source, text)

    def last(self) -> str:
        return self.lines[-1] if self.lines else "no output (see demo.log)"
