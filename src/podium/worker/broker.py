"""A worker on a broker's command queue: any `podium.transports.base.Transport`.

A command is acked only after its reply was published (the transport confirms publishing
before `send_reply` returns), so a crash in between makes the broker deliver the command
again and the service do it again with the same task token: at least once, never lost.
That is why services deduplicate on the token (`podium.worker.Ledger`). Where the delivery
can (Redis: `podium.transports.base.Answers`), reply and ack go in one atomic step instead,
one round trip, with no "in between".

Releasing a command (a stopping worker's task in flight after the grace period) is not
acking it: with a delivery that has `release()` (podium.transports.base.Lease: in-process,
Redis) it goes back to the queue at once for another consumer; otherwise the broker delivers
it again on its own terms (Redis: once pending longer than the visibility timeout; RabbitMQ:
when the channel closes).

A heartbeat is a `Reply(status="heartbeat")` on the reply queue, and, first, a `touch()` of
the delivery: a broker with a visibility timeout (in-process, Redis: 30 s by default) would
otherwise hand a long task to a second consumer while the first still works on it, and the
orchestrator sends a command again when it has heard nothing of it for 30 s. Hence the
source's `lease_seconds`, the shorter of the two: heartbeats go at least every third of it,
whether or not the state has HeartbeatSeconds (a task answered sooner sends none). A broker gives no word
back, so a late answer cannot be told from a timely one here (the core drops it).
"""

from __future__ import annotations

import logging

from podium.transports.base import JSON, Answers, Command, Lease, Reply, Transport
from podium.worker.sources import ReceivedTask, default_identity

log = logging.getLogger("podium.worker")

# The orchestrator sends a command again when no sign of life (a heartbeat) came for it within
# this long (podium.connectors.queue.DEFAULT_RESEND_SECONDS): a long task beats before that.
ORCHESTRATOR_RESEND_SECONDS = 30.0


class BrokerSource:
    name = "broker"
    heartbeat_fallback: float | None = None  # a command says whether it has HeartbeatSeconds
    abandons_polls = False  # a receive waits about a second: a stopping worker waits for it

    def __init__(
        self,
        transport: Transport,
        queue: str,
        worker_name: str,
        *,
        identity: str | None = None,
        owns_transport: bool = False,
    ) -> None:
        self.transport = transport
        self.queue = queue
        self.name = getattr(transport, "name", None) or "broker"
        timeout = getattr(transport, "visibility_timeout", None)
        visibility = float(timeout) if isinstance(timeout, int | float) else ORCHESTRATOR_RESEND_SECONDS
        self.lease_seconds: float | None = min(visibility, ORCHESTRATOR_RESEND_SECONDS)
        # One consumer per slot: a consumer's pending (unacked) messages are its own, and a
        # transport that hands a consumer back its pending ones when it reads again (Redis)
        # must not give one slot's task in flight to another slot, or to another replica.
        self.consumer = f"{worker_name}@{identity or default_identity()}"
        self._owns_transport = owns_transport

    def receive(self, wait_seconds: float, slot: int) -> ReceivedTask | None:
        deliveries = self.transport.receive_commands(
            self.queue, f"{self.consumer}/{slot}", wait_ms=max(0, int(wait_seconds * 1000)), max_count=1
        )
        for extra in deliveries[1:]:  # asked for one: give the others back for other consumers
            log.warning("transport %s gave more than the one command asked for", self.name)
            if isinstance(extra, Lease):
                extra.release()
        if not deliveries:
            return None
        delivery = deliveries[0]
        command = delivery.message
        if not isinstance(command, Command):
            # A reply on a command queue is a wiring mistake; keeping it would redeliver it forever.
            log.error("dropping a %s message found on command queue %s", command.kind, self.queue)
            delivery.ack()
            return None
        return ReceivedTask.of_command(command, delivery)

    def succeed(self, task: ReceivedTask, output: JSON) -> bool:
        return self._answer(task, Reply(task.token, "success", output=output, worker=self.consumer))

    def fail(self, task: ReceivedTask, error: str, cause: str | None) -> bool:
        return self._answer(
            task, Reply(task.token, "failure", error=error, cause=cause, worker=self.consumer)
        )

    def heartbeat(self, task: ReceivedTask) -> bool:
        if isinstance(task.handle, Lease):
            task.handle.touch()
        self.transport.send_reply(self._reply_to(task), Reply(task.token, "heartbeat", worker=self.consumer))
        return True

    def release(self, task: ReceivedTask) -> None:
        if isinstance(task.handle, Lease):
            task.handle.release()

    def close(self) -> None:
        if self._owns_transport:
            self.transport.close()

    def _answer(self, task: ReceivedTask, reply: Reply) -> bool:
        if isinstance(task.handle, Answers):
            task.handle.answer(self._reply_to(task), reply)
            return True
        self.transport.send_reply(self._reply_to(task), reply)
        task.handle.ack()
        return True

    @staticmethod
    def _reply_to(task: ReceivedTask) -> str:
        command: Command = task.handle.message
        return command.reply_to
