"""The table of actions, and the Service that every action receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from podium.api.errors import UnknownOperationException

Params = dict[str, Any]
Response = dict[str, Any]
Handler = Callable[["Service", Params], Response]
LoopHandler = Callable[["Service", Params], Awaitable[Response]]
H = TypeVar("H", Handler, LoopHandler)

ACTIONS: dict[str, Handler] = {}
# Actions that also have a form run on the server's event loop: one that never blocks it for
# long (no waiting on a lock, a commit or the network) and saves the hop to a thread and
# back, which costs about as much as the work of a small StartExecution.
LOOP_ACTIONS: dict[str, LoopHandler] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for the API action `name` (AWS's spelling: "StartExecution")."""
    return _registrar(ACTIONS, "action", name)


def loop_action(name: str) -> Callable[[LoopHandler], LoopHandler]:
    """Register the event loop's form of the action `name` (its `action` stays the one that
    blocking callers use). It must answer as the blocking form does."""
    return _registrar(LOOP_ACTIONS, "loop action", name)


def _registrar(table: dict[str, H], kind: str, name: str) -> Callable[[H], H]:
    def register(handler: H) -> H:
        if name in table:
            raise ValueError(f"{kind} {name} registered twice")
        table[name] = handler
        return handler

    return register


@dataclass
class Service:
    """What handlers work with: the durable engine and store, the EXPRESS engine, settings.

    `engine` runs STANDARD executions durably; `express_engine` runs EXPRESS executions in
    memory; `extras` carries per-feature state (activity queues, task tokens, ...) that
    modules register at start.
    """

    engine: Any
    store: Any
    express_engine: Any = None
    region: str = "us-east-1"
    account: str = "000000000000"
    payload_limit: int = 256 * 1024
    extras: dict[str, Any] = field(default_factory=dict)

    def handle(self, name: str, params: Params) -> Response:
        handler = ACTIONS.get(name)
        if handler is None:
            # The HTTP layer lets through only the API's own actions: this one (UpdateMapRun)
            # exists in AWS Step Functions, podium does not serve it.
            raise UnknownOperationException(
                f"Unknown operation: {name} is an action of AWS Step Functions that podium does not implement"
            )
        return handler(self, params)

    def loop_handler(self, name: str) -> Callable[[Params], Awaitable[Response]] | None:
        """The action's form for the event loop, if it has one (else `handle` it on a thread)."""
        handler = LOOP_ACTIONS.get(name)
        if handler is None:
            return None
        return lambda params: handler(self, params)
