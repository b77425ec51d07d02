"""`podium up`: the server, the declared state machines, and the services, until Ctrl-C.

Order of start: the server (services connect to it), the state machines and activities (so
that a service's first poll finds its activity), then the services. Order of stop, on
Ctrl-C, SIGTERM or SIGHUP: the services (SIGTERM, their grace, SIGKILL), then the server,
which lets their last answers land. A second Ctrl-C kills the services at once. A clean stop
exits 0.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from podium.supervisor import state
from podium.supervisor.config import UpConfig
from podium.supervisor.output import Console
from podium.supervisor.server import EmbeddedServer
from podium.supervisor.state import ReplicaStatus, Snapshot, StateLock
from podium.supervisor.supervisor import Supervisor

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_up(config: UpConfig, console: Console) -> int:
    """Run everything `config` declares until a signal; ServerError, AlreadyRunningError if it cannot."""
    lock = StateLock(config.state_file)
    lock.acquire()
    console.reserve([s.worker_name(i) for s in config.services for i in range(1, s.replicas + 1)])
    _warn_of_leftovers(config, console)
    stop, force = threading.Event(), threading.Event()
    previous = _install_signals(stop, force, console)
    server = EmbeddedServer(config.server, console)
    started = time.time()
    try:
        server.start()
        server.register(config.state_machines, config.activities)
        supervisor = Supervisor(
            config.services,
            console,
            environment=service_environment(config, server.endpoint, server.worker_transport),
            hooks=server.task_hooks(),
            publish=_publisher(config, server, started),
        )
        if not stop.is_set():
            supervisor.run(stop, force)
    finally:
        if server.serving:
            console.event("stopping the server")
        server.stop()
        state.remove(config.state_file)
        lock.release()
        _restore_signals(previous)
    console.event("stopped")
    return 0


def _warn_of_leftovers(config: UpConfig, console: Console) -> None:
    """A previous `up` that was killed (SIGKILL, a crash) could not stop its services, which run
    in sessions of their own. Say which may still run; killing them by a recorded pid could hit
    an unrelated process that reused it."""
    try:
        previous = state.read(config.state_file)
    except state.StateError:
        return
    if previous is None or state.is_running(previous.pid):
        return
    alive = [f"{r.name} (pid {r.pid})" for r in previous.replicas if r.pid and state.is_running(r.pid)]
    if alive:
        console.event(
            f"the last podium up (pid {previous.pid}) did not stop cleanly; these may still be running:"
            f" {', '.join(alive)}"
        )


def service_environment(config: UpConfig, endpoint: str, transport: str) -> dict[str, str]:
    """What every service inherits besides its own `environment`: where podium is, and which
    transport to use. podium's interpreter comes first on PATH, so that `python -m
    podium.worker` (or `podium`) in a command finds this installation even when its virtual
    environment is not activated."""
    env = dict(os.environ)
    bin_dir = os.path.dirname(sys.executable)
    path = env.get("PATH", "")
    if bin_dir and bin_dir not in path.split(os.pathsep):
        env["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
    env["PODIUM_ENDPOINT"] = endpoint
    env["AWS_ENDPOINT_URL_SFN"] = endpoint  # boto3 and the AWS CLI's Step Functions client
    env.setdefault("AWS_DEFAULT_REGION", config.server.region)
    env["PODIUM_TRANSPORT"] = transport  # what `python -m podium.worker` uses by default
    env.pop("PODIUM_BROKER_URL", None)  # the transport's URL says it all
    return env


def _publisher(
    config: UpConfig, server: EmbeddedServer, started: float
) -> Callable[[list[ReplicaStatus], bool], None]:
    def publish(replicas: list[ReplicaStatus], stopping: bool) -> None:
        snapshot = Snapshot(
            pid=os.getpid(),
            config=str(config.file),
            started_at=started,
            updated_at=time.time(),
            endpoint=server.endpoint,
            database=server.store_description,
            replicas=replicas,
            stopping=stopping,
        )
        state.write(config.state_file, snapshot)

    return publish


def _install_signals(stop: threading.Event, force: threading.Event, console: Console) -> dict[int, Any]:
    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not stop.is_set():
            stop.set()
            console.event(f"{name}: stopping the services, then the server (again to kill them now)")
        elif not force.is_set():
            force.set()
            console.event(f"{name} again: killing the services")

    return {sig: signal.signal(sig, handle) for sig in _SIGNALS}


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
