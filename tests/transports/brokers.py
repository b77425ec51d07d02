"""The real brokers of this machine, for tests: their URLs, whether they answer, and a fresh
namespace per test so that tests (and other podiums on the same broker) never see each
other's messages.

A broker that does not answer skips its tests with the reason, except under CI=true, where
a missing broker is a failure: CI is where the broker tests must run.

URLs: $PODIUM_TEST_REDIS_URL (default redis://127.0.0.1:6379/0) and
$PODIUM_TEST_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672/%2F).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

REDIS_URL = os.environ.get("PODIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("PODIUM_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
BROKERS = ("redis", "rabbitmq")

_probed: dict[str, str | None] = {}


def unavailable(broker: str) -> str | None:
    """Why `broker` cannot be used (None: it answers). Probed once per test session."""
    if broker not in _probed:
        try:
            if broker == "redis":
                import redis

                client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
                try:
                    client.ping()
                finally:
                    client.close()
            else:
                import pika

                parameters = pika.URLParameters(RABBITMQ_URL)
                parameters.connection_attempts = 1
                parameters.socket_timeout = 2
                pika.BlockingConnection(parameters).close()
            _probed[broker] = None
        except Exception as exc:
            url = REDIS_URL if broker == "redis" else RABBITMQ_URL
            _probed[broker] = f"{broker} at {url} does not answer: {exc!r}"
    return _probed[broker]


def require(broker: str) -> None:
    """Skip the test when `broker` is not there (fail under CI=true)."""
    reason = unavailable(broker)
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the broker tests must run)")
    pytest.skip(reason)


def url_of(broker: str) -> str:
    return REDIS_URL if broker == "redis" else RABBITMQ_URL


class Namespace:
    """Transports of one broker that share a fresh prefix; closes them and deletes what they made."""

    def __init__(self, broker: str) -> None:
        self.broker = broker
        self.url = url_of(broker)
        self.prefix = f"podiumtest-{uuid.uuid4().hex[:12]}"
        self.queues: set[str] = set()  # podium queue names the test used (RabbitMQ cleanup)
        self._open: list[Any] = []

    def transport(self, **options: Any) -> Any:
        """A new transport (its own connections) in this namespace."""
        if self.broker == "redis":
            from podium.transports.redis import RedisTransport

            made: Any = RedisTransport(self.url, prefix=self.prefix, **options)
        else:
            from podium.transports.rabbitmq import RabbitMQTransport

            made = RabbitMQTransport(self.url, prefix=self.prefix, **options)
        self._open.append(made)
        return made

    def cleanup(self) -> None:
        for transport in self._open:
            transport.close()
        if self.broker == "redis":
            import redis

            client = redis.Redis.from_url(self.url)
            try:
                keys = list(client.scan_iter(match=f"{self.prefix}:*"))
                if keys:
                    client.delete(*keys)
            finally:
                client.close()
        else:
            import pika

            connection = pika.BlockingConnection(pika.URLParameters(self.url))
            try:
                channel = connection.channel()
                for queue in self.queues | {"svc", "podium", "other", "payments"}:
                    for kind in ("cmd", "reply"):
                        channel.queue_delete(f"{self.prefix}.{kind}.{queue}")
            finally:
                connection.close()


@contextmanager
def namespace(broker: str) -> Iterator[Namespace]:
    require(broker)
    made = Namespace(broker)
    try:
        yield made
    finally:
        made.cleanup()


def threads_named(prefix: str) -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def broker_sockets(port: int) -> int:
    """This process's open TCP connections to `port` (leak checks)."""
    import psutil

    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == "ESTABLISHED"
    )


Factory = Callable[..., Any]
