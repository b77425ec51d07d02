"""Building the Service a server runs: the store, the engine and its connectors, the actions.

`assemble` opens the store (creating and migrating it) and builds everything without
starting anything, so that a bad database fails before a port is bound; `Assembly.start`
resumes the unfinished executions and starts the engine, `Assembly.stop` stops it and closes
the store. The actions are the `@action` functions of every module of this package, imported
here; a module that keeps state of its own (activity queues, waiters) may define
`on_start(service)` and `on_stop(service)`, called at start and at stop (before the engine
stops, so that long polls can be woken), and `on_drain(service)`, called when a server begins
to stop (before it waits for the requests in flight). `on_started(service)` is called once the
engine has resumed the unfinished executions (every task in flight known by its token again):
the command queues' reply consumer starts reading then.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import podium.service
from podium.arns import DEFAULT_ACCOUNT, DEFAULT_REGION, ArnFactory
from podium.connectors.connections import Connections
from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.connectors.http import HttpConnector
from podium.core.interpreter import DEFAULT_PAYLOAD_LIMIT
from podium.runtime.engine import Engine
from podium.service import queues
from podium.service.registry import Service
from podium.store.base import Store
from podium.transports.factory import TransportSpec

log = logging.getLogger("podium.service")
_NOT_ACTIONS = frozenset({"registry", "assembly"})


class StoreUrlError(ValueError):
    """A --db value podium cannot open (an unsupported URL scheme)."""


@dataclass(frozen=True)
class ServiceConfig:
    """What a server is built from. `db`: a SQLite path, or a `sqlite:///path` URL."""

    db: str = "podium.db"
    functions: FunctionRegistry = field(default_factory=FunctionRegistry)
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT
    task_threads: int = 8
    transport: TransportSpec = field(default_factory=TransportSpec)  # command queues (--transport)
    connections: Connections = field(default_factory=Connections)  # for HTTP tasks (--connections)


def sqlite_path(db: str) -> str:
    """The SQLite file a --db value names: a path, or `sqlite:///relative` / `sqlite:////absolute`."""
    if "://" not in db:
        return db
    scheme, _, rest = db.partition("://")
    if scheme != "sqlite":
        raise StoreUrlError(
            f"unsupported database URL {scheme}://...: podium stores in SQLite (a path or sqlite:///path)"
        )
    if not rest.startswith("/") or rest == "/":
        raise StoreUrlError(
            f"a SQLite URL names a file: sqlite:///relative/path or sqlite:////absolute/path, not {db}"
        )
    return rest[1:]


def load_actions() -> list[ModuleType]:
    """Import every action module of the service package (which registers its actions)."""
    modules = []
    for info in pkgutil.iter_modules(podium.service.__path__):
        if info.name not in _NOT_ACTIONS and not info.name.startswith("_"):
            modules.append(importlib.import_module(f"podium.service.{info.name}"))
    return modules


class Assembly:
    """A built service and what it takes to run it and to stop it."""

    def __init__(
        self,
        service: Service,
        *,
        store: Store,
        engine: Engine,
        executor: ThreadPoolExecutor,
        modules: list[ModuleType],
        store_description: str,
        http: HttpConnector | None = None,
    ) -> None:
        self.service = service
        self.store = store
        self.engine = engine
        self.store_description = store_description
        self._executor = executor
        self._modules = modules
        self._http = http
        self._stopped = False

    def start(self) -> None:
        for module in self._modules:
            hook = getattr(module, "on_start", None)
            if callable(hook):
                hook(self.service)
        self.engine.start()
        for module in self._modules:
            hook = getattr(module, "on_started", None)
            if callable(hook):
                hook(self.service)

    def drain(self) -> None:
        """The server is about to stop taking requests: wake whatever holds a request open (the
        long polls of GetActivityTask answer now, with no task), so that stopping waits for nothing.
        Modules take part with `on_drain(service)`."""
        for module in self._modules:
            hook = getattr(module, "on_drain", None)
            if callable(hook):
                try:
                    hook(self.service)
                except Exception:
                    log.exception("on_drain of %s failed", module.__name__)

    def stop(self) -> None:
        """Stop everything and close the store; safe after a failed or partial start, and twice."""
        if self._stopped:
            return
        self._stopped = True
        for module in reversed(self._modules):
            hook = getattr(module, "on_stop", None)
            if callable(hook):
                try:
                    hook(self.service)
                except Exception:
                    log.exception("on_stop of %s failed", module.__name__)
        self.engine.stop()
        # Tasks still queued are dropped: they are owed commands, re-sent at the next start.
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._http is not None:
            self._http.close()  # requests in flight are dropped, owed like the queued tasks
        self.store.close()

    def health(self) -> dict[str, Any]:
        return {
            "store": self.store_description,
            "executions": {"running": len(self.store.unfinished_executions())},
            "queues": queues.queues(self.service).spec.describe(),
        }


def assemble(config: ServiceConfig) -> Assembly:
    """Open the store and build the engine and the Service; nothing runs until `start`."""
    from podium.store.sqlite import SQLiteStore

    path = sqlite_path(config.db)
    store = SQLiteStore(path)
    try:
        modules = load_actions()
        executor = ThreadPoolExecutor(max_workers=config.task_threads, thread_name_prefix="podium-task")
        arns = ArnFactory(config.region, config.account)
        # HTTP tasks wait on the network: their own threads, so that they never hold up functions.
        http = HttpConnector(
            config.connections, region=config.region, max_response_bytes=config.payload_limit
        )
        engine = Engine(
            store,
            connectors=[FunctionConnector(config.functions, executor), http],
            arns=arns,
            payload_limit=config.payload_limit,
        )
        service = Service(
            engine=engine,
            store=store,
            express_engine=None,
            region=config.region,
            account=config.account,
            payload_limit=config.payload_limit,
        )
        # Last: a broker that does not answer fails here, before anything else was opened.
        queues.configure(service, config.transport)
    except BaseException:
        store.close()
        raise
    description = f"sqlite:{Path(path).resolve()}" if path != ":memory:" else "sqlite::memory:"
    return Assembly(
        service,
        store=store,
        engine=engine,
        executor=executor,
        modules=modules,
        store_description=description,
        http=http,
    )
