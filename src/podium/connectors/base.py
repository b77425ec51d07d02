"""The connector port: how a Task's command reaches the service that performs it.

A connector gets an InvokeTask command and answers, sooner or later and from any thread,
through `reply` with TaskSubmitted / TaskStarted / TaskSucceeded / TaskFailed / TaskHeartbeat
signals (`now_ms` is stamped by the runtime). Dispatch is at-least-once: after a crash the same
command may be handed over again, with the same task token.

Optional methods, for connectors whose tasks live on outside podium's process:

    resume(command, reply, phase)  after a restart, a task the service had already accepted
                                   (phase "submitted" or "started", podium.core.tasks): attach
                                   to it again instead of starting it again. A connector
                                   without `resume` is not called for such a task.
    cancel(command)                the execution no longer wants the task (it finished, timed
                                   out, was stopped): drop it from a queue, stop a child, ...
    invoke_now(command, reply)     `invoke`, called instead when the engine has nothing else
                                   queued: the connector may hand the command over on the
                                   engine's own thread, before the engine's bookkeeping of the
                                   step, instead of waking a thread of its own (a thread hop and
                                   a wait for the GIL less on every step's way out). Only for a
                                   hand-over that is quick and bounded in time; a connector
                                   falls back to `invoke` when it cannot promise that. What it
                                   answers on that thread before returning (a TaskSubmitted)
                                   the same thread takes right after the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from podium.core.messages import InvokeTask, Signal

Reply = Callable[[Signal], None]


class Connector(Protocol):
    def accepts(self, resource: str) -> bool:
        """True when this connector carries out tasks of that Resource."""
        ...

    def invoke(self, command: InvokeTask, reply: Reply) -> None:
        """Carry the command out (or hand it over) and answer through `reply`."""
        ...


@runtime_checkable
class Resumable(Protocol):
    def resume(self, command: InvokeTask, reply: Reply, phase: str) -> None: ...


@runtime_checkable
class Cancellable(Protocol):
    def cancel(self, command: InvokeTask) -> None: ...


@runtime_checkable
class Expedites(Protocol):
    def invoke_now(self, command: InvokeTask, reply: Reply) -> None: ...
