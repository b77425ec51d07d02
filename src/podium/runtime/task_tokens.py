"""The tasks in flight, by task token: how SendTaskSuccess and friends find the task they answer.

Every InvokeTask the engine dispatches (or re-attaches after a restart) is entered here under
its token, and leaves when the core retires the command. A token that is not here is either
not podium's (InvalidToken) or the token of a task that has closed (TaskTimedOut: AWS's
answer for "the task associated with the token has already been closed"); the token's HMAC
tells the two apart (podium.core.tokens).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import Enum

from podium.core.messages import InvokeTask


@dataclass(frozen=True)
class TaskRef:
    execution_arn: str
    task_id: str
    command: InvokeTask


class TokenStatus(Enum):
    OPEN = "open"  # a task in flight: answer it
    CLOSED = "closed"  # podium's token, but its task is no longer open
    INVALID = "invalid"  # not a token podium handed out


class TaskRegistry:
    """token -> TaskRef for the tasks in flight; thread-safe (the API reads, the engine writes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_token: dict[str, TaskRef] = {}
        # The tokens of each execution: an execution's end drops its tokens without a scan of
        # every task in flight (thousands, under load).
        self._by_execution: dict[str, set[str]] = {}

    def add(self, execution_arn: str, command: InvokeTask) -> None:
        with self._lock:
            self._by_token[command.task_token] = TaskRef(execution_arn, command.command_id, command)
            self._by_execution.setdefault(execution_arn, set()).add(command.task_token)

    def remove(self, token: str) -> None:
        with self._lock:
            ref = self._by_token.pop(token, None)
            if ref is not None:
                tokens = self._by_execution.get(ref.execution_arn)
                if tokens is not None:
                    tokens.discard(token)
                    if not tokens:
                        del self._by_execution[ref.execution_arn]

    def remove_execution(self, execution_arn: str) -> None:
        with self._lock:
            for token in self._by_execution.pop(execution_arn, ()):
                self._by_token.pop(token, None)

    def get(self, token: str) -> TaskRef | None:
        with self._lock:
            return self._by_token.get(token)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_token)
