"""The connector port: how a Task's command reaches the service that performs it.

A connector gets an InvokeTask command and answers, sooner or later and from any thread,
through `reply` with TaskStarted / TaskSucceeded / TaskFailed / TaskHeartbeat signals
(`now_ms` is stamped by the runtime). Dispatch is at-least-once: after a crash the same
command may be handed over again, with the same task token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from podium.core.messages import InvokeTask, Signal

Reply = Callable[[Signal], None]


class Connector(Protocol):
    def accepts(self, resource: str) -> bool:
        """True when this connector carries out tasks of that Resource."""
        ...

    def invoke(self, command: InvokeTask, reply: Reply) -> None:
        """Carry the command out (or hand it over) and answer through `reply`."""
        ...
