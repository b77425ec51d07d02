"""`podium server`: one process serving the API with uvicorn, the engine running beside it.

The socket is bound here, before uvicorn starts, so that a taken port or a bad address is
one clear error and `--port 0` can report the port it got. The engine starts in the app's
lifespan (uvicorn's startup) and stops in its shutdown; Ctrl-C and SIGTERM shut down
gracefully, and a clean shutdown is a clean exit.

Safety: loopback by default; any other address needs credentials (every request then
signed) or an explicit `--insecure`.

StartSyncExecution: boto3 and the AWS CLI send it to `sync-<host>` of the endpoint (the
operation's host prefix). No name of that form resolves on a stock system, so the banner
looks for one that does and reaches this server (`sync-localhost` from /etc/hosts;
`sync-podium.localhost` where systemd resolves *.localhost) and prints it as the endpoint;
otherwise it prints the client setting that turns the prefix off. The server itself
accepts any Host.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import uvicorn

from podium import __version__
from podium.api.app import ApiSettings, create_app
from podium.api.auth import Credentials
from podium.api.coalescing import CoalescingHttpToolsProtocol
from podium.connectors.connections import Connections
from podium.connectors.functions import FunctionRegistry
from podium.core.interpreter import DEFAULT_PAYLOAD_LIMIT
from podium.runtime.switching import prefer_latency
from podium.service.assembly import Assembly, ServiceConfig, StoreUrlError, assemble
from podium.transports.base import TransportError
from podium.transports.factory import TransportSpec

log = logging.getLogger("podium.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8083
GRACEFUL_SHUTDOWN_SECONDS = 5
# Names tried for an endpoint whose sync- form resolves here, in order of preference.
_SYNC_CANDIDATES = ("localhost", "podium.localhost")
_RESOLVE_TIMEOUT = 1.0


class ServerError(Exception):
    """Why the server cannot start, in one line for the user."""


@dataclass(frozen=True)
class ServerOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: str = "podium.db"
    functions: FunctionRegistry = field(default_factory=FunctionRegistry)
    connections: Connections = field(default_factory=Connections)  # for HTTP tasks
    region: str = "us-east-1"
    account: str = "000000000000"
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT
    credentials: Credentials | None = None
    credentials_source: str | None = None
    insecure: bool = False
    check_responses: bool = False
    transport: TransportSpec = field(default_factory=TransportSpec)  # command queues


def serve(options: ServerOptions) -> int:
    """Run the server until Ctrl-C or SIGTERM; raises ServerError when it cannot start."""
    check_exposure(options.host, options.credentials, insecure=options.insecure)
    prefer_latency()
    sock = bind_socket(options.host, options.port)
    try:
        assembly = assemble_service(options)
    except BaseException:
        sock.close()
        raise
    port = sock.getsockname()[1]
    stopped = False

    def startup() -> None:
        assembly.start()
        settle_heap()
        with contextlib.suppress(OSError):  # a closed stdout must not stop the server
            print(banner(options, port, assembly), flush=True)

    def shutdown() -> None:
        nonlocal stopped
        assembly.stop()
        stopped = True

    settings = ApiSettings(
        payload_limit=options.payload_limit,
        credentials=options.credentials,
        check_responses=options.check_responses,
    )
    app = create_app(assembly.service, settings, startup=startup, shutdown=shutdown, health=assembly.health)
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,
        access_log=False,
        ws="none",
        server_header=False,
        http=CoalescingHttpToolsProtocol,
        proxy_headers=False,  # podium is called directly; X-Forwarded-* would only be parsed
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    _configure_logging()
    try:
        DrainingServer(config, drain=assembly.drain).run(sockets=[sock])
    finally:
        if not stopped:  # startup failed, or uvicorn never got to the shutdown
            assembly.stop()
        sock.close()
    log.info("podium server stopped")
    return 0


def settle_heap() -> None:
    """Move what start-up allocated out of the garbage collector's sight.

    The API's service model (botocore's shapes), the parsed state machines and the imported
    modules are some fifty thousand objects that live as long as the process. Each full
    collection walked all of them again; frozen, a collection walks only what requests made.
    """
    gc.collect()
    gc.freeze()


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, drain: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self._drain = drain

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn waits for the requests in flight before the app's own shutdown runs; a
        # worker's GetActivityTask would hold that wait for up to 60 s (then be cancelled, a
        # traceback in the log). Draining first answers the long polls now, with no task.
        if self._drain is not None:
            try:
                await asyncio.to_thread(self._drain)
            except Exception:
                log.exception("draining the long polls failed")
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the signal after its graceful shutdown, which turns Ctrl-C into a
        # KeyboardInterrupt and SIGTERM into death by signal. Here a finished shutdown is a
        # clean exit; a second Ctrl-C still forces it (uvicorn's handle_exit).
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def assemble_service(options: ServerOptions) -> Assembly:
    config = ServiceConfig(
        db=options.db,
        functions=options.functions,
        connections=options.connections,
        region=options.region,
        account=options.account,
        payload_limit=options.payload_limit,
        transport=options.transport,
    )
    try:
        return assemble(config)
    except StoreUrlError as exc:
        raise ServerError(str(exc)) from None
    except TransportError as exc:
        raise ServerError(f"cannot use the {options.transport.describe()} transport: {exc}") from None
    except Exception as exc:
        raise ServerError(f"cannot open database {options.db}: {exc}") from None


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # uvicorn's own INFO lines (started, waiting for startup, ...) repeat the banner.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


# --- where it listens ----------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True when every address `host` stands for is a loopback address."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    addresses = _resolve(host)
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def check_exposure(host: str, credentials: Credentials | None, *, insecure: bool) -> None:
    """Refuse to accept unsigned requests from the network unless told to."""
    if credentials or insecure or is_loopback(host):
        return
    raise ServerError(
        f"refusing to listen on {host} without credentials: anyone who can reach it could run"
        " state machines and read their data. Give --credentials FILE (lines ACCESS_KEY:SECRET)"
        " or set PODIUM_CREDENTIALS=KEY:SECRET, or pass --insecure to accept unsigned requests."
    )


def bind_socket(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServerError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServerError(f"cannot listen on {_netloc(host, port)}: {exc.strerror or exc}") from None
    return sock


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _resolve(name: str, timeout: float = _RESOLVE_TIMEOUT) -> set[str]:
    """The addresses a name resolves to (empty if none, or if the resolver takes too long)."""
    found: set[str] = set()

    def lookup() -> None:
        with contextlib.suppress(OSError, UnicodeError):
            found.update(str(info[4][0]) for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM))

    # A daemon thread: a resolver that hangs must not delay the banner, nor the exit.
    thread = threading.Thread(target=lookup, name="podium-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    return set(found) if not thread.is_alive() else set()


def endpoint_for(host: str, port: int) -> tuple[str, bool]:
    """The endpoint URL clients should use, and whether its `sync-` form reaches this server."""
    if host in ("0.0.0.0", "::", ""):
        name = socket.gethostname()
        return f"http://{_netloc(name, port)}", bool(_resolve(f"sync-{name}"))
    if not is_loopback(host):
        return f"http://{_netloc(host, port)}", bool(_resolve(f"sync-{host}"))
    listening = {host} if _is_ip(host) else _resolve(host)
    for name in _SYNC_CANDIDATES:
        if _resolve(f"sync-{name}") & listening and _resolve(name) & listening:
            return f"http://{name}:{port}", True
    return f"http://{_netloc(host, port)}", False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def banner(options: ServerOptions, port: int, assembly: Assembly) -> str:
    """What `podium server` prints once it serves: where, and how to point clients at it."""
    endpoint, sync_ok = endpoint_for(options.host, port)
    region = options.region
    lines = [
        f"podium server {__version__} listening on http://{_netloc(options.host, port)}",
        f"  database {assembly.store_description}, region {region}, account {options.account}",
        f"  command queues: {options.transport.describe()}",
        "",
        f'  boto3:   boto3.client("stepfunctions", endpoint_url="{endpoint}", region_name="{region}")',
        f"  AWS CLI: aws stepfunctions --endpoint-url {endpoint} --region {region} list-state-machines",
    ]
    if options.credentials:
        source = options.credentials_source or "the configured credentials"
        count = len(options.credentials)
        lines.append(
            f"  signing: required; requests must be signed by one of the {count} access key(s) of {source}"
        )
    elif not is_loopback(options.host):
        lines.append("  signing: NOT checked (--insecure): anyone who can reach this address can use it")
    else:
        lines.append(
            "  signing: not checked; clients still need some credentials to sign with"
            " (any will do, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)"
        )
    host = endpoint.split("//", 1)[1].rsplit(":", 1)[0]
    if sync_ok:
        lines.append(f"  StartSyncExecution: clients send it to sync-{host}, which reaches this server")
    else:
        lines += [
            f"  StartSyncExecution: clients send it to sync-{host}, which does not resolve here; turn the",
            "    prefix off: boto3.client(..., config=botocore.config.Config(inject_host_prefix=False)),",
            "    or AWS_DISABLE_HOST_PREFIX_INJECTION=true in the environment (boto3 and the AWS CLI)",
        ]
    lines += [f"  health:  {endpoint}/health", "", "Ctrl-C stops it."]
    return "\n".join(lines)
