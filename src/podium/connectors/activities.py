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
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from podium.asl.jsontext import to_json_text
from podium.connectors.base import Reply
from podium.core import tasks
from podium.core.messages import InvokeTask, TaskFailed, TaskStarted, TaskSubmitted
from podium.core.resources import ResourceFamily, classify

LONG_POLL_SECONDS = 60.0  # GetActivityTask holds the request at most this long (AWS: 60 s)


@dataclass(frozen=True)
class ActivityTask:
    activity_arn: str
    task_id: str
    token: str
    input: str  # JSON text, as GetActivityTask hands it out
    reply: Reply

    def start(self, worker_name: str | None) -> None:
        self.reply(TaskStarted(0, self.task_id, worker_name))


class ActivityQueues:
    """One FIFO queue per activity ARN, and the long poll on them. Thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queues: dict[str, deque[ActivityTask]] = {}
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
                    return queue.popleft()
                remaining = deadline - time.monotonic()
                if self._closed or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def discard(self, token: str) -> None:
        with self._cond:
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
            command.resource, command.command_id, command.task_token, to_json_text(command.payload), reply
        )
