"""The podium server of `podium up`: the assembly `podium server` runs, on a thread of this process.

In-process rather than a child process, so that the supervisor can reach into the engine:
hand a dead replica's activity tasks to other workers at once, and count each replica's
tasks in flight for `ps`. The engine and the API keep running while services restart; the
server is started first (services connect to it) and stopped last (services finish their
tasks against it).

Its log lines go to the console as `server | ...`, beside the services' output.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

import uvicorn

from podium.supervisor.config import ServerSpec, StateMachineSpec
from podium.supervisor.output import Console

SOURCE = "server"
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0  # uvicorn's graceful shutdown (5 s) and the engine's stop, with room


class ServerError(Exception):
    """The server cannot start, or a declared resource cannot be registered: one line for the user."""


class EmbeddedServer:
    def __init__(self, spec: ServerSpec, console: Console) -> None:
        self.spec = spec
        self.console = console
        self.port = spec.port
        self.assembly: Any = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._log_handler: logging.Handler | None = None
        self.transport: Any = None  # the TransportSpec the command queues use, once started
        self.serving = False

    @property
    def endpoint(self) -> str:
        """The URL the services use: loopback when the server listens on every address."""
        host = self.spec.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def worker_transport(self) -> str:
        """What a worker's --transport ($PODIUM_TRANSPORT) should be: the broker's URL, or without
        a broker this server's API, where the activity queues are polled."""
        url = getattr(self.transport, "url", None)
        return str(url) if url else self.endpoint

    @property
    def store_description(self) -> str:
        return str(self.assembly.store_description) if self.assembly is not None else self.spec.db

    def start(self) -> None:
        from podium.api.app import ApiSettings, create_app
        from podium.api.auth import CredentialsError, load_credentials
        from podium.api.server import (
            GRACEFUL_SHUTDOWN_SECONDS,
            DrainingServer,
            ServerOptions,
            assemble_service,
            banner,
            bind_socket,
            check_exposure,
        )
        from podium.api.server import ServerError as ApiServerError
        from podium.runtime.switching import prefer_latency

        prefer_latency()  # this process is the orchestrator's (podium up, podium demo)
        spec = self.spec
        try:
            credentials = load_credentials(spec.credentials)
            check_exposure(spec.host, credentials, insecure=spec.insecure)
            self.transport = _transport(spec)
            options = ServerOptions(
                host=spec.host,
                port=spec.port,
                db=spec.db,
                functions=_functions(spec.functions),
                connections=_connections(spec.connections),
                transport=self.transport,
                region=spec.region,
                account=spec.account,
                payload_limit=spec.payload_limit,
                credentials=credentials,
                credentials_source=spec.credentials,
                insecure=spec.insecure,
            )
            sock = bind_socket(spec.host, spec.port)
        except (ApiServerError, CredentialsError) as exc:
            raise ServerError(str(exc)) from None
        try:
            assembly = assemble_service(options)
        except ApiServerError as exc:
            sock.close()
            raise ServerError(str(exc)) from None
        self.assembly = assembly
        self.port = sock.getsockname()[1]
        self._route_logs()
        settings = ApiSettings(payload_limit=spec.payload_limit, credentials=credentials)
        app = create_app(
            assembly.service, settings, startup=assembly.start, shutdown=assembly.stop, health=assembly.health
        )
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,
            access_log=False,
            ws="none",
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        # podium server's own uvicorn.Server: it answers the long polls before it waits for the
        # requests in flight; off the main thread it leaves the signals to `up`.
        server = DrainingServer(config, drain=assembly.drain)
        self._server = server

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # uvicorn reports a failed startup with SystemExit
                self._failure = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=serve, name="podium-server", daemon=True)
        self._thread.start()
        while not server.started:
            self._thread.join(0.02)
            if not self._thread.is_alive():
                assembly.stop()
                raise ServerError(f"the server did not start ({_why(self._failure)}): see its log above")
        self.serving = True
        for line in banner(options, self.port, assembly).splitlines():
            self.console.line(SOURCE, line)

    def register(self, machines: tuple[StateMachineSpec, ...], activities: tuple[str, ...]) -> None:
        """Create the declared activities and state machines; update a machine whose definition
        changed. A machine that exists with another type cannot be updated (AWS cannot either)."""
        from podium.api.errors import ApiError
        from podium.arns import ArnFactory

        service = self.assembly.service
        arns = ArnFactory(self.spec.region, self.spec.account)
        for name in activities:
            try:
                service.handle("CreateActivity", {"name": name})
            except ApiError as exc:
                raise ServerError(f"activities: cannot create {name}: {exc.message}") from None
        for machine in machines:
            arn = arns.state_machine(machine.name)
            existing = service.store.get_state_machine(arn)
            try:
                if existing is None:
                    role = f"arn:aws:iam::{self.spec.account}:role/podium"
                    params = {"name": machine.name, "definition": machine.definition, "roleArn": role}
                    service.handle("CreateStateMachine", {**params, "type": machine.type})
                    verb = "created"
                elif existing.type != machine.type:
                    raise ServerError(
                        f"state_machines.{machine.name}: exists as {existing.type} in the database, declared"
                        f" {machine.type}: a state machine's type cannot change (delete it, or rename it)"
                    )
                elif existing.definition == machine.definition:
                    verb = "unchanged"
                else:
                    service.handle(
                        "UpdateStateMachine", {"stateMachineArn": arn, "definition": machine.definition}
                    )
                    verb = "updated"
            except ApiError as exc:
                raise ServerError(f"state_machines.{machine.name}: {exc.message}") from None
            self.console.line(SOURCE, f"state machine {machine.name} {verb} ({machine.definition_file.name})")

    def task_hooks(self) -> ActivityHooks:
        from podium.service.engines import activity_queues

        return ActivityHooks(activity_queues(self.assembly.service))

    def stop(self) -> None:
        """Stop serving, stop the engine, close the store; waits for all of it."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                self.console.line(SOURCE, f"did not stop within {STOP_TIMEOUT:g}s; leaving it")
        if self.assembly is not None:
            self.assembly.stop()  # idempotent: a no-op after the lifespan's shutdown
        self._server = self._thread = None
        self.serving = False
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler = None

    def _route_logs(self) -> None:
        handler = _ConsoleHandler(self.console)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # its startup lines repeat the banner
        self._log_handler = handler


class ActivityHooks:
    """The supervisor's view of the activity queues (podium.supervisor.supervisor.TaskHooks)."""

    def __init__(self, queues: Any) -> None:
        self.queues = queues

    def in_flight(self) -> Mapping[str, int]:
        counts: Mapping[str, int] = self.queues.in_flight()
        return counts

    def release(self, worker: str) -> int:
        return int(self.queues.release(worker))


class _ConsoleHandler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            for line in self.format(record).splitlines():
                self.console.line(SOURCE, line)
        except Exception:
            self.handleError(record)


def _functions(modules: tuple[str, ...]) -> Any:
    from podium.connectors.functions import FunctionRegistry

    registry = FunctionRegistry()
    for module in modules:
        try:
            registry.load_module(module)
        except Exception as exc:
            raise ServerError(
                f"server.functions: cannot load {module}: {type(exc).__name__}: {exc}"
            ) from None
    return registry


def _transport(spec: ServerSpec) -> Any:
    """The command queues' transport: the file's, else $PODIUM_TRANSPORT / $PODIUM_BROKER_URL as
    `podium server` reads them, else local (podium's activity queues)."""
    from podium.transports.factory import parse_spec

    kind, url = spec.transport, spec.broker_url
    if kind is None and url is None:
        kind, url = os.environ.get("PODIUM_TRANSPORT"), os.environ.get("PODIUM_BROKER_URL")
    try:
        return parse_spec(kind, url)
    except ValueError as exc:
        raise ServerError(f"server.transport: {exc}") from None


def _connections(path: str | None) -> Any:
    from podium.connectors.connections import Connections, ConnectionsError, load_connections

    if path is None:
        return Connections()
    try:
        return load_connections(path)
    except ConnectionsError as exc:
        raise ServerError(f"server.connections: {exc}") from None


def _why(failure: BaseException | None) -> str:
    if failure is None or (isinstance(failure, SystemExit) and failure.code in (None, 3)):
        return "its startup failed"
    return f"{type(failure).__name__}: {failure}"
