"""The server's command queues: the queue connector on the configured transport, and its reply consumer.

`configure(service, spec)` is the assembly's: it opens a broker transport and checks that the
broker answers, so that a wrong --broker-url fails before a port is bound. Then, in the
assembly's order:

    on_start    (before the engine resumes executions) the queue connector joins both engines,
                so that resumed queue tasks find it; on the local transport (the default) the
                connector publishes into the server's activity queues
    on_started  (after the engine resumed them) the reply consumer starts reading: a reply read
                earlier could name a task not yet known again by its token, and be dropped
    on_stop     stop reading replies, then sending commands, then close the transport

With the local transport a queue NAME is the activity NAME, created on first use, so that
workers poll it with GetActivityTask (`.` in a FIFO queue's name becomes `-`: activity names
allow no dots).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from podium.arns import ArnFactory
from podium.connectors.queue import QueueConnector
from podium.connectors.replies import ReplyConsumer
from podium.service.engines import activity_queues, attach
from podium.service.registry import Service
from podium.transports.base import Transport
from podium.transports.factory import TransportSpec, open_transport
from podium.transports.local import LocalTransport

_STATE = "podium.queues"


@dataclass
class Queues:
    spec: TransportSpec
    transport: Transport | None = None
    connector: QueueConnector | None = None
    consumer: ReplyConsumer | None = None
    activities: set[str] = field(default_factory=set)  # activity ARNs known to exist
    lock: threading.Lock = field(default_factory=threading.Lock)


def configure(service: Service, spec: TransportSpec) -> None:
    """Choose the transport; a broker's must answer now (TransportError otherwise)."""
    transport = None if spec.kind == "local" else open_transport(spec)
    service.extras[_STATE] = Queues(spec, transport)


def queues(service: Service) -> Queues:
    state: Queues | None = service.extras.get(_STATE)
    if state is None:
        state = service.extras[_STATE] = Queues(TransportSpec())
    return state


def on_start(service: Service) -> None:
    state = queues(service)
    if state.connector is not None:
        return
    attach(service)
    if state.transport is None:
        state.transport = LocalTransport(activity_queues(service), lambda name: _activity(service, name))
    state.connector = QueueConnector(state.transport)
    state.connector.start()
    service.engine.connectors.append(state.connector)
    # EXPRESS executions may send messages too (AWS allows them no .waitForTaskToken).
    service.express_engine.connectors.append(state.connector)


def on_started(service: Service) -> None:
    state = queues(service)
    if state.consumer is not None or state.transport is None or state.connector is None:
        return
    state.consumer = ReplyConsumer(
        state.transport,
        [service.engine, service.express_engine],
        queue=state.connector.reply_queue,
        connector=state.connector,
    )
    state.consumer.start()


def on_stop(service: Service) -> None:
    state: Queues | None = service.extras.get(_STATE)
    if state is None:
        return
    try:
        if state.consumer is not None:
            state.consumer.stop()
        if state.connector is not None:
            state.connector.close()
    finally:
        if state.transport is not None:
            state.transport.close()


def _activity(service: Service, queue: str) -> str:
    """The activity ARN of a local queue, creating the activity the first time."""
    name = queue.replace(".", "-")
    arn = ArnFactory(service.region, service.account).activity(name)
    state = queues(service)
    with state.lock:
        if arn in state.activities:
            return arn
    if service.store.get_activity(arn) is None:
        service.handle("CreateActivity", {"name": name})  # idempotent on the name
    with state.lock:
        state.activities.add(arn)
    return arn
