"""The reply consumer: reads the orchestrator's reply queue and turns answers into task signals.

One thread takes Replies from the transport (`receive_replies` on the reply queue, as one
consumer of the orchestrator's group) and finds each one's task by its token among the tasks
in flight of the engines it serves (`Engine.task_by_token`): success becomes TaskSucceeded,
failure TaskFailed (with the service's error and cause), heartbeat TaskHeartbeat, delivered
with `Engine.deliver`. A reply whose token names no task in flight (its task closed: a
duplicate, a late answer, another deployment's token) is acked and dropped, logged at debug:
the core would ignore it anyway.

Acks follow the database, not the delivery: `deliver` only queues the signal for the engine's
thread, and a crash before the engine commits it would lose an answer already acked. So an
outcome is acked once its task has left the tasks in flight, which the engine does only after
committing the step that closed it; until then the reply stays unacked and the broker gives it
back after a crash (to this consumer name at once on Redis, when the connection drops on
RabbitMQ), to be delivered again: a duplicate the core ignores if the first one made it.
Heartbeats are acked at once (losing one costs at most a heartbeat).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from podium.connectors.queue import DEFAULT_REPLY_QUEUE, QueueConnector
from podium.core.messages import Signal, TaskFailed, TaskHeartbeat, TaskSucceeded
from podium.runtime.engine import Engine
from podium.transports.base import Delivery, Reply, Transport

log = logging.getLogger("podium.connectors.replies")

_Handed = dict[Engine, list[tuple[str, Signal]]]  # the answers of one read, by engine

WAIT_MS = 500  # one receive's long poll when nothing waits to be acked (and the longest stop)
ACK_POLL_MS = 20  # the shorter poll while outcomes wait for their commit to be acked


@dataclass
class _Unacked:
    delivery: Delivery
    engine: Engine
    token: str


class ReplyConsumer:
    """Feeds `transport`'s reply queue `queue` to `engines` (see the module's docstring)."""

    def __init__(
        self,
        transport: Transport,
        engines: Engine | Sequence[Engine],
        *,
        queue: str = DEFAULT_REPLY_QUEUE,
        consumer: str | None = None,
        connector: QueueConnector | None = None,
        batch: int = 64,
        wait_ms: int = WAIT_MS,
    ) -> None:
        self.transport = transport
        self.engines = [engines] if isinstance(engines, Engine) else list(engines)
        self.queue = queue
        # Stable across restarts on one host: Redis then hands this consumer its own unacked
        # replies back at its first read, instead of after the visibility timeout.
        self.consumer = consumer or f"podium@{socket.gethostname()}"
        self.connector = connector
        self.batch = batch
        self.wait_ms = wait_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unacked: list[_Unacked] = []

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="podium-replies", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop reading; replies delivered but not committed stay unacked, for the broker to redeliver."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def unacked(self) -> int:
        """Outcomes delivered to an engine and not acked yet (their step not committed yet)."""
        return len(self._unacked)

    def __enter__(self) -> ReplyConsumer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                deliveries = self.transport.receive_replies(
                    self.queue,
                    self.consumer,
                    wait_ms=min(ACK_POLL_MS, self.wait_ms) if self._unacked else self.wait_ms,
                    max_count=self.batch,
                )
                # The answers of one read are handed over together: their steps share a commit.
                handed: _Handed = {}
                for delivery in deliveries:
                    self.handle(delivery, handed)
                for engine, signals in handed.items():
                    engine.deliver_all_now(signals)
                self._ack_committed()
                backoff = 0.5
            except Exception as exc:  # the broker went away: keep trying until stopped
                log.warning("replies: reading %s failed (%s); again in %.1f s", self.queue, exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def handle(self, delivery: Delivery, handed: _Handed) -> None:
        """Put one reply's signal into `handed`, under the engine running its task, for the
        caller to hand over with the rest of its read; ack it now or once committed."""
        reply = delivery.message
        if not isinstance(reply, Reply):
            log.warning("replies: dropping a %s found on reply queue %s", reply.kind, self.queue)
            delivery.ack()
            return
        for engine in self.engines:
            ref = engine.task_by_token(reply.task_token)
            if ref is not None:
                break
        else:
            log.debug("replies: no task in flight for a %s reply; dropped", reply.status)
            delivery.ack()
            return
        if self.connector is not None:
            self.connector.answered(reply)
        # This thread only hands replies over: with the engine idle, it takes the steps itself.
        handed.setdefault(engine, []).append((ref.execution_arn, _signal(reply, ref.task_id)))
        if reply.status == "heartbeat":
            delivery.ack()
        else:
            self._unacked.append(_Unacked(delivery, engine, reply.task_token))

    def _ack_committed(self) -> None:
        still: list[_Unacked] = []
        done: list[Delivery] = []
        for unacked in self._unacked:
            if unacked.engine.task_by_token(unacked.token) is None:
                done.append(unacked.delivery)
            else:
                still.append(unacked)
        self._unacked = still
        if not done:
            return
        # All at once where the transport can (one round trip, not one per reply).
        ack_all = getattr(self.transport, "ack_all", None)
        try:
            if ack_all is not None:
                ack_all(done)
            else:
                for delivery in done:
                    delivery.ack()
        except Exception as exc:  # the broker gives them back later: duplicates, ignored
            log.debug("replies: ack failed: %s", exc)


def _signal(reply: Reply, task_id: str) -> Signal:
    if reply.status == "success":
        return TaskSucceeded(0, task_id, reply.output)
    if reply.status == "failure":
        return TaskFailed(0, task_id, reply.error, reply.cause)
    return TaskHeartbeat(0, task_id)
