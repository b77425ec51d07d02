"""A broker namespace for one run, and removing it afterwards.

Streams and queues outlive their users: a command left in a shared namespace by an earlier
run (a demo stopped halfway) would reach this run's services, which would apply it to this
run's ledgers for a payment this run never made. So every run gets its own prefix
(`?prefix=podium-demo-RUN`, the transports' namespace parameter), and removes what it made
when it is done. The names follow the transports' layouts (podium.transports.redis and
.rabbitmq): `PREFIX:cmd:QUEUE` streams, `PREFIX.cmd.QUEUE` queues, and the replies' alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from podium.connectors.queue import DEFAULT_REPLY_QUEUE
from podium.transports.factory import TransportSpec, parse_spec, split_prefix

log = logging.getLogger("podium.demo")


def namespaced(transport: str, broker_url: str | None, run_id: str) -> TransportSpec:
    """The transport for the run: local as it is, a broker with the run's own prefix (unless
    the URL names one: then the user chose it)."""
    spec = parse_spec(transport, broker_url)
    if spec.url is None or spec.kind not in ("redis", "rabbitmq"):
        return spec
    base, _, query = spec.url.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key == "prefix" for key, _ in pairs):
        return spec
    pairs.append(("prefix", f"podium-demo-{run_id}"))
    return TransportSpec(spec.kind, f"{base}?{urlencode(pairs)}")


def remove_namespace(spec: TransportSpec, queues: Iterable[str]) -> None:
    """Delete the run's streams or queues; a failure is logged (the broker keeps some litter)."""
    if spec.url is None or spec.kind not in ("redis", "rabbitmq"):
        return
    url, prefix = split_prefix(spec.url)
    try:
        if spec.kind == "redis":
            _remove_redis(url, prefix)
        else:
            _remove_rabbitmq(url, prefix, [*queues])
    except Exception as exc:
        log.warning("could not remove the run's %s namespace %s: %s", spec.kind, prefix, exc)


def _remove_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _remove_rabbitmq(url: str, prefix: str, queues: list[str]) -> None:
    import pika

    parameters = pika.URLParameters(url)
    parameters.socket_timeout = 5
    parameters.connection_attempts = 1
    connection = pika.BlockingConnection(parameters)
    try:
        channel = connection.channel()
        names = [f"{prefix}.cmd.{q}" for q in queues] + [f"{prefix}.reply.{DEFAULT_REPLY_QUEUE}"]
        for name in names:
            channel.queue_delete(name)
    finally:
        connection.close()
