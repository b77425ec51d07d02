"""Choosing a transport by kind or URL, as `podium server --transport/--broker-url` do."""

from __future__ import annotations

import pytest

from podium.transports.base import TransportError
from podium.transports.factory import TransportSpec, open_transport, parse_spec, redact_url
from tests.transports.brokers import require


@pytest.mark.parametrize(
    ("transport", "url", "expected"),
    [
        (None, None, TransportSpec("local")),
        ("local", None, TransportSpec("local")),
        ("activities", None, TransportSpec("local")),
        ("http://127.0.0.1:8083", None, TransportSpec("local")),  # a worker's URL: the server's API
        ("local", "redis://elsewhere", TransportSpec("local")),
        ("redis", None, TransportSpec("redis", "redis://127.0.0.1:6379/0")),
        ("REDIS", "rediss://cache:6380/1", TransportSpec("redis", "rediss://cache:6380/1")),
        ("rabbitmq", None, TransportSpec("rabbitmq", "amqp://guest:guest@127.0.0.1:5672/%2F")),
        ("amqp://u:p@mq/vh", None, TransportSpec("rabbitmq", "amqp://u:p@mq/vh")),
        (None, "amqps://u:p@mq/vh", TransportSpec("rabbitmq", "amqps://u:p@mq/vh")),
        ("inprocess", None, TransportSpec("inprocess", "inprocess://default")),
    ],
)
def test_kinds_and_urls(transport: str | None, url: str | None, expected: TransportSpec) -> None:
    assert parse_spec(transport, url) == expected


@pytest.mark.parametrize(
    ("transport", "url", "message"),
    [
        ("kafka", None, "unknown transport 'kafka'"),
        ("redis", "amqp://mq", "amqp://mq is not a redis URL"),
        (None, "ftp://x", "unsupported broker URL ftp://x"),
    ],
)
def test_what_is_refused_says_why(transport: str | None, url: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_spec(transport, url)


def test_passwords_are_never_shown() -> None:
    assert redact_url("amqp://user:secret@mq:5672/%2F") == "amqp://user:***@mq:5672/%2F"
    assert parse_spec(None, "redis://:secret@cache/0").describe() == "redis redis://:***@cache/0"


def test_opening_checks_that_the_broker_answers() -> None:
    with pytest.raises(TransportError):
        open_transport(TransportSpec("redis", "redis://127.0.0.1:1/0"))
    with pytest.raises(TransportError):
        open_transport(TransportSpec("rabbitmq", "amqp://guest:guest@127.0.0.1:1/%2F"))


@pytest.mark.parametrize("kind", ["redis", "rabbitmq"])
def test_opening_a_broker_that_answers(kind: str) -> None:
    require(kind)
    transport = open_transport(parse_spec(kind))
    assert transport.name == kind
    transport.close()
