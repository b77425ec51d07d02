"""A service's handlers by name, its options, and starting and stopping it on a transport."""

from __future__ import annotations

import inspect
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from podium.transports.base import JSON
from podium.worker.context import TaskContext

if TYPE_CHECKING:
    from podium.worker.runner import Runner

log = logging.getLogger("podium.worker")

Handler = Callable[[JSON, TaskContext], JSON]
F = TypeVar("F", bound=Callable[..., JSON])


class HandlerNotFoundError(LookupError):
    """No handler for a task's body; the task fails with Runtime.HandlerNotFound."""


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs.

    `queue`: the command queue, or the activity's name or ARN (default: the worker's name).
    `concurrency`: handler threads, hence tasks in flight at most.
    `grace`: seconds a stopping worker waits for its tasks in flight before releasing them.
    `heartbeat_every`: seconds between automatic heartbeats (see heartbeats.py for the rule).
    `command_key`: the body field that names the handler; None to route on the default only.
    `poll_wait`: seconds a broker poll waits for a command (how soon an idle slot sees a stop).
    `identity`: this process among the service's replicas (sources.default_identity).
    `health_file`: a file kept fresh while the worker runs, for a supervisor's health check
    (default: $PODIUM_HEARTBEAT_FILE; see liveness.py).
    """

    queue: str | None = None
    concurrency: int = 1
    grace: float = 30.0
    heartbeat_every: float | None = None
    command_key: str | None = "command"
    poll_wait: float = 1.0
    identity: str | None = None
    health_file: str | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")
        if self.grace < 0:
            raise ValueError(f"grace must not be negative, not {self.grace}")
        if self.heartbeat_every is not None and self.heartbeat_every <= 0:
            raise ValueError(f"heartbeat_every must be positive, not {self.heartbeat_every}")


class Worker:
    """A service: named handlers, run on a transport by `concurrency` threads."""

    def __init__(self, name: str, **options: Any) -> None:
        self.name = name
        self.options = WorkerOptions(**options)
        self._handlers: dict[str, Handler] = {}
        self._default: str | None = None
        self._runner: Runner | None = None
        self._lock = threading.Lock()

    @property
    def queue(self) -> str:
        return self.options.queue or self.name

    def configure(self, **options: Any) -> None:
        """Change options (before `start`): `worker.configure(concurrency=8)`."""
        self.options = replace(self.options, **options)

    # --- handlers ---------------------------------------------------------------------------

    def handler(self, name: str, *, default: bool = False) -> Callable[[F], F]:
        """Decorator: `@worker.handler("authorize")` on `def authorize(payment, ctx): ...`."""

        def register(fn: F) -> F:
            self.handle(name, fn, default=default)
            return fn

        return register

    def handle(self, name: str, fn: Callable[..., JSON], *, default: bool = False) -> None:
        """Register `fn` as the handler `name`; it takes (input) or (input, ctx) and returns JSON."""
        if name in self._handlers:
            raise ValueError(f"{self.name} already has a handler {name!r}")
        if default and self._default is not None:
            raise ValueError(f"{self.name} already has a default handler ({self._default!r})")
        self._handlers[name] = _with_context(fn)
        if default:
            self._default = name

    @property
    def handlers(self) -> list[str]:
        return sorted(self._handlers)

    def route(self, body: JSON) -> tuple[str, Handler]:
        """The handler for a task's body: its command field, else the default or only handler."""
        key = self.options.command_key
        if key is not None and isinstance(body, dict) and key in body:
            name = body[key]
            if isinstance(name, str) and name in self._handlers:
                return name, self._handlers[name]
            raise HandlerNotFoundError(
                f"{self.name} has no handler for {key}={name!r} (it has {', '.join(self.handlers) or 'none'})"
            )
        name = self._default or (self.handlers[0] if len(self._handlers) == 1 else None)
        if name is None:
            raise HandlerNotFoundError(
                f"the input names no handler (no {key!r} field) and {self.name} has no default handler"
                f" among {', '.join(self.handlers) or 'none'}"
            )
        return name, self._handlers[name]

    # --- running ----------------------------------------------------------------------------

    def start(self, transport: object) -> None:
        """Start taking tasks from `transport` (a URL, a Transport, a Service, a TaskSource); don't wait."""
        from podium.worker.runner import Runner
        from podium.worker.sources import open_source

        if not self._handlers:
            raise ValueError(f"{self.name} has no handlers")
        with self._lock:
            if self._runner is not None and not self._runner.finished:
                raise RuntimeError(f"{self.name} is already running")
            source, owned = open_source(
                transport, queue=self.queue, worker_name=self.name, identity=self.options.identity
            )
            self._runner = Runner(self, source, owns_source=owned)
            self._runner.start()

    def stop(self, grace: float | None = None) -> bool:
        """Stop taking tasks, wait up to `grace` seconds for those in flight, release the rest.

        True when none had to be released. Safe to call twice, or when not running.
        """
        runner = self._runner
        if runner is None:
            return True
        return runner.shutdown(self.options.grace if grace is None else grace)

    def run(self, transport: object, *, handle_signals: bool = True) -> bool:
        """Start, serve until SIGTERM / SIGINT (or `stop()` from elsewhere), then stop gracefully."""
        self.start(transport)
        return self.serve(handle_signals=handle_signals)

    def serve(self, *, handle_signals: bool = True) -> bool:
        """Block while the started worker runs; on SIGTERM / SIGINT (or `stop()`), stop gracefully.

        The first signal starts the graceful stop; a second one ends the grace period at once.
        Returns what `stop` returns.
        """
        runner = self._runner
        if runner is None:
            raise RuntimeError(f"{self.name} was not started")
        restore = _install_signals(runner) if handle_signals else {}
        try:
            runner.wait_stop_requested()
            return self.stop()
        finally:
            for signum, previous in restore.items():
                signal.signal(signum, previous)

    @property
    def in_flight(self) -> int:
        """Tasks being done now."""
        return 0 if self._runner is None else self._runner.in_flight


def _with_context(fn: Callable[..., JSON]) -> Handler:
    """Handlers may leave out the context: `def authorize(payment)` is fine too."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: give it both
        return fn
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_more = any(p.kind == p.VAR_POSITIONAL for p in parameters) or len(positional) >= 2
    if takes_more:
        return fn
    if len(positional) == 1:
        return lambda body, ctx: fn(body)
    raise TypeError(f"a handler takes (input) or (input, ctx): {getattr(fn, '__name__', fn)!r} takes neither")


def _install_signals(runner: Runner) -> dict[int, Any]:
    """SIGTERM / SIGINT handlers, when on the main thread (Python allows no others); the old ones."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if runner.stop_requested:
            log.warning("second %s: releasing the tasks in flight now", signal.Signals(signum).name)
            runner.hurry()
        else:
            log.info("%s: stopping; tasks in flight get their grace period", signal.Signals(signum).name)
            runner.request_stop()

    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, on_signal)
    return previous
