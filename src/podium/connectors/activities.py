"""Activities: Task states whose Resource is an activity ARN, done by workers that poll for them.

The connector puts each task on its activity's queue and tells the core it is scheduled
(TaskSubmitted, recorded as ActivityScheduled), or, when no such activity exists, fails it as
AWS does ("The activity <arn> does not exist.", States.Runtime). A worker's GetActivityTask
takes the oldest task of the activity, waiting up to its long-poll time for one; taking it
reports TaskStarted with the worker's name (ActivityStarted). The worker answers with the task
token through SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat.

Queues live in memory: after a restart the runtime re-queues the tasks that were scheduled and
not yet taken (`resume`), and a task a worker had taken stays with that worker, who can still
answer with its token.

The queues also remember which worker (GetActivityTask's workerName) took each activity task
until the task closes, so that a supervisor can count a worker's tasks in flight and, when it knows the
worker's process is dead, put them back at the head of their queue at once (`release`)
instead of leaving them to HeartbeatSeconds or TimeoutSeconds. The next worker to take one
also gets a heartbeat on its behalf, hence the whole HeartbeatSeconds; the history keeps the
first worker's ActivityStarted (the core records a task's start once).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from podium.asl.jsontext import to_json_text
from podium.connectors.base import Reply
from podium.core import tasks
from podium.core.messages import InvokeTask, TaskFailed, TaskHeartbeat, TaskStarted, TaskSubmitted
from podium.core.resources import ResourceFamily, classify

LONG_POLL_SECONDS = 60.0  # GetActivityTask holds the request at most this long (AWS: 60 s)


@dataclass(frozen=True)
class ActivityTask:
    activity_arn: str
    task_id: str
    token: str
    input: str  # JSON text, as GetActivityTask hands it out
    reply: Reply
    # Whoever queued it calls `ActivityQueues.discard` when it closes, however it closes (the
    # activity connector does, on every retired task): only then may the queues remember who
    # took it, or the record would outlive the task.
    track_worker: bool = False
    released: bool = False  # put back after the worker that took it died
    # Set on the copy `ActivityQueues.take` hands out: records which worker started it.
    on_start: Callable[[str | None], None] | None = field(default=None, compare=False, repr=False)

    def start(self, worker_name: str | None) -> None:
        if self.on_start is not None:
            self.on_start(worker_name)
        self.reply(TaskStarted(0, self.task_id, worker_name))
        if self.released:
            # Started already, so the core ignores this TaskStarted: a heartbeat restarts the
            # HeartbeatSeconds clock that the dead worker left running, for the new worker.
            self.reply(TaskHeartbeat(0, self.task_id))


@dataclass
class _Taken:
    task: ActivityTask
    worker: str | None = None


class ActivityQueues:
    """One FIFO queue per activity ARN, and the long poll on them. Thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queues: dict[str, deque[ActivityTask]] = {}
        self._taken: dict[str, _Taken] = {}  # token -> taken and not closed yet, in taking order
        self._closed = False

    def put(self, task: ActivityTask) -> None:
        with self._cond:
            queue = self._queues.setdefault(task.activity_arn, deque())
            if all(queued.token != task.token for queued in queue):  # re-sent after a restart
                queue.append(task)
            self._cond.notify_all()

    def take(self, activity_arn: str, timeout: float = LONG_POLL_SECONDS) -> ActivityTask | None:
        """The oldest task of the activity, waiting up to `timeout` seconds for one; None if none came."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                queue = self._queues.get(activity_arn)
                if queue:
                    task = queue.popleft()
                    if not task.track_worker:
                        return task
                    # Recorded under the lock, before the worker is known: a task that closes
                    # between here and `start` is forgotten by `discard`, never left behind.
                    self._taken[task.token] = _Taken(task)
                    return dataclasses.replace(task, on_start=functools.partial(self._started, task.token))
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def _started(self, token: str, worker_name: str | None) -> None:
        with self._cond:
            taken = self._taken.get(token)
            if taken is not None:
                taken.worker = worker_name

    def in_flight(self) -> dict[str, int]:
        """Per worker name: the tasks it took that have not closed yet."""
        counts: dict[str, int] = {}
        with self._cond:
            for taken in self._taken.values():
                if taken.worker is not None:
                    counts[taken.worker] = counts.get(taken.worker, 0) + 1
        return counts

    def release(self, worker_name: str) -> int:
        """Put the open tasks `worker_name` took back at the head of their queues, oldest first,
        for other workers to take; how many. Only for a worker known to be dead: one still
        alive could answer too (harmless, the first answer wins, but the work is done twice)."""
        with self._cond:
            tokens = [t for t, taken in self._taken.items() if taken.worker == worker_name]
            for token in reversed(tokens):  # appendleft in reverse keeps their order
                task = self._taken.pop(token).task
                queue = self._queues.setdefault(task.activity_arn, deque())
                queue.appendleft(dataclasses.replace(task, released=True, on_start=None))
            if tokens:
                self._cond.notify_all()
            return len(tokens)

    def discard(self, token: str) -> None:
        with self._cond:
            self._taken.pop(token, None)
            for queue in self._queues.values():
                for task in list(queue):
                    if task.token == token:
                        queue.remove(task)

    def waiting(self, activity_arn: str) -> int:
        with self._cond:
            return len(self._queues.get(activity_arn, ()))

    def close(self) -> None:
        """Wake every long poll (the server is stopping); later polls return at once."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closed = False


class ActivityConnector:
    """Carries out activity tasks through `queues`; `exists(arn)` says whether an activity exists."""

    def __init__(self, queues: ActivityQueues, exists: Callable[[str], bool]) -> None:
        self.queues = queues
        self.exists = exists

    def accepts(self, resource: str) -> bool:
        return classify(resource).family == ResourceFamily.ACTIVITY

    def invoke(self, command: InvokeTask, reply: Reply) -> None:
        if not self.exists(command.resource):
            reply(
                TaskFailed(
                    0,
                    command.command_id,
                    "States.Runtime",
                    f"The activity {command.resource} does not exist.",
                )
            )
            return
        # Scheduled first, queued second: a worker's TaskStarted then always comes after it.
        reply(TaskSubmitted(0, command.command_id))
        self.queues.put(self._task(command, reply))

    def resume(self, command: InvokeTask, reply: Reply, phase: str) -> None:
        if phase == tasks.SUBMITTED:  # scheduled, never taken (or its TaskStarted was lost)
            self.queues.put(self._task(command, reply))

    def cancel(self, command: InvokeTask) -> None:
        self.queues.discard(command.task_token)

    @staticmethod
    def _task(command: InvokeTask, reply: Reply) -> ActivityTask:
        return ActivityTask(
            command.resource,
            command.command_id,
            command.task_token,
            to_json_text(command.payload),
            reply,
            track_worker=True,  # `cancel` discards every task when it is retired
        )
