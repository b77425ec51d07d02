"""What a handler knows about the task it is doing, besides its input."""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from podium.worker.heartbeats import Heartbeats


class _TaskLogger(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every message with the task's tag, the one the worker's per-task line shows."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = self.extra or {}
        return f"task {extra.get('task')}: {msg}", kwargs


def task_logger(worker: str, tag: str) -> logging.LoggerAdapter[logging.Logger]:
    return _TaskLogger(logging.getLogger(f"podium.worker.{worker}"), {"task": tag})


@dataclass(frozen=True)
class TaskContext:
    """One task, as its handler sees it.

    `token` is the task token; `idempotency_key` is the same string, named for what a service
    does with it: a task may be delivered more than once (after a crash, a redelivery, a
    timeout), always with the same token, and a service applies a step at most once per token
    (`podium.worker.Ledger`). A Retry of the state is a new task, with a new token.
    `attempt` counts deliveries of this task where the transport says (1 otherwise);
    `deadline` is when the orchestrator stops waiting (epoch seconds), None when unknown.
    """

    token: str
    worker: str
    handler: str
    attempt: int
    deadline: float | None
    execution_arn: str | None
    state_name: str | None
    logger: logging.LoggerAdapter[logging.Logger]
    _heartbeats: Heartbeats = field(repr=False, compare=False)

    @property
    def idempotency_key(self) -> str:
        return self.token

    @property
    def tag(self) -> str:
        """The short name of the task in the worker's log: the token's last 8 characters."""
        return tag_of(self.token)

    def heartbeat(self) -> bool:
        """Tell the orchestrator the task is alive; False once it is known to have closed.

        Calls closer together than a quarter second are coalesced (one is sent).
        """
        return self._heartbeats.beat()

    @property
    def closed(self) -> bool:
        """True once a heartbeat learned that the orchestrator no longer waits (timed out)."""
        return self._heartbeats.closed

    def remaining(self) -> float | None:
        """Seconds until the deadline (negative past it), None when unknown."""
        return None if self.deadline is None else self.deadline - time.time()


def tag_of(token: str) -> str:
    # A podium token starts with its execution's ARN in base64, the same for every task of a
    # state machine; it ends with the task's HMAC: the end tells tasks apart, and stays a
    # substring of the token to search histories and logs for.
    return token[-8:]
