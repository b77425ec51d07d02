"""The local transport, podium's embedded default: a service's command queue is an activity.

No broker: a command for queue NAME becomes a task of the activity NAME in the server's own
activity queues (podium.connectors.activities), the activity being created on first use. So
a worker in another process takes commands with GetActivityTask on
`arn:aws:states:REGION:ACCOUNT:activity:NAME` (a long poll over the API) and answers with
SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, exactly as an activity worker does:
boto3, the AWS CLI or podium's worker SDK, nothing else to install.

The task's input is the command's wire form (`podium.transports.base.to_wire`), so that a
worker sees the same Command (body, task token, attempt, HeartbeatSeconds, TimeoutSeconds)
whatever the transport; the token is also GetActivityTask's `taskToken`.

In the same process, the transport is a whole Transport too: `receive_commands` takes from
the same activity queues (no HTTP), and `send_reply` / `receive_replies` go through a queue in
memory that the orchestrator's reply consumer reads, like a broker's reply queue.

Why activities rather than a queue of its own: GetActivityTask and SendTask* already are a
durable, token-checked long-poll protocol that every AWS SDK speaks; a second HTTP protocol
for the same thing would only be more to secure and to learn.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from podium.connectors.activities import ActivityQueues, ActivityTask
from podium.core.messages import Signal, TaskStarted
from podium.transports.base import Command, Delivery, Reply, from_wire, to_wire
from podium.transports.inprocess import InProcessTransport

# The activity ARN for a queue name; creates the activity when it does not exist yet.
ActivityFor = Callable[[str], str]


class LocalDelivery:
    """A command taken from an activity queue: taking it was the receipt, so acking is a no-op
    (an unanswered task is sent again by the queue connector, as on every transport)."""

    def __init__(self, message: Command | Reply) -> None:
        self.message = message

    def ack(self) -> None:
        pass


class LocalTransport:
    """Commands as activity tasks of `queues`; replies through memory (see the module's docstring)."""

    name = "local"
    durable = False  # the activity queues live in the server's memory: a restart empties them
    # An append to a queue in memory (and, once per queue, its activity's row): a send never
    # waits on a broker, so the queue connector may send on the engine's thread.
    quick_send = True

    # Tasks taken are remembered until discarded: the queue connector discards every one.
    tracks_takers = True

    def __init__(self, queues: ActivityQueues, activity_for: ActivityFor) -> None:
        self.queues = queues
        self.activity_for = activity_for
        self._replies = InProcessTransport()
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.Lock()

    def on_taken(self, listener: Callable[[str], None]) -> None:
        """Call `listener(task_token)` when a worker takes a command (GetActivityTask or here)."""
        with self._lock:
            self._listeners.append(listener)

    def send_command(self, command: Command) -> None:
        task = ActivityTask(
            activity_arn=self.activity_for(command.queue),
            task_id=command.task_token,
            token=command.task_token,
            input=to_wire(command).decode(),
            reply=functools.partial(self._taken, command.task_token),
            # Remember which worker took it, so that a dead replica's commands go straight back
            # on the queue (the supervisor's release) instead of waiting out their timeouts.
            track_worker=True,
        )
        self.queues.put(task)  # the queues skip a token already waiting there (a command sent again)

    def receive_commands(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 1
    ) -> list[Delivery]:
        arn = self.activity_for(queue)
        out: list[Delivery] = []
        timeout = max(wait_ms, 0) / 1000
        while len(out) < max_count:
            task = self.queues.take(arn, timeout)
            if task is None:
                break
            task.start(consumer)
            out.append(LocalDelivery(from_wire(task.input)))
            timeout = 0.0  # the rest only if they are there already
        return out

    def send_reply(self, queue: str, reply: Reply) -> None:
        self._replies.send_reply(queue, reply)

    def receive_replies(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 64
    ) -> list[Delivery]:
        return self._replies.receive_replies(queue, consumer, wait_ms=wait_ms, max_count=max_count)

    def discard(self, token: str) -> None:
        """The task closed: take its command out of the queue if no worker took it yet."""
        self.queues.discard(token)

    def close(self) -> None:
        self._replies.close()  # the activity queues are the server's: it closes them

    def _taken(self, token: str, signal: Signal) -> None:
        # What ActivityTask reports when a worker takes it; the core is not told (it would
        # ignore a TaskStarted: only activities have an ActivityStarted event).
        if isinstance(signal, TaskStarted):
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                listener(token)
