"""Choosing a transport by name or by URL, as `podium server --transport/--broker-url` do.

    local | activities        podium's activity queues, no broker (the default; the server
    | http(s)://...           builds it: podium.service.queues). Workers reach them through
                              the server's API, which is what an http(s) URL says to a worker
    inprocess[://NAME]        queues in memory, for services run as threads of the server
    redis  | redis://...      Redis Streams (default URL redis://127.0.0.1:6379/0)
    rabbitmq | amqp://...     RabbitMQ (default URL amqp://guest:guest@127.0.0.1:5672/%2F)

A broker URL may carry `?prefix=NAME` (default `podium`), the namespace of the streams or
queues: podium deployments sharing a broker must each have their own, since an orchestrator
drops the replies it does not know. A Redis URL may also carry `visibility_timeout=SECONDS`
(default 30). The orchestrator and its workers use the same URL.

A broker's client library is imported only when that broker is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from podium.transports.base import Transport, TransportError

KINDS = ("local", "inprocess", "redis", "rabbitmq")
DEFAULT_URLS = {
    "inprocess": "inprocess://default",
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
}
_SCHEMES = {
    "redis": "redis",
    "rediss": "redis",
    "amqp": "rabbitmq",
    "amqps": "rabbitmq",
    "inprocess": "inprocess",
}
_ALIASES = {"activities": "local", "amqp": "rabbitmq"}


@dataclass(frozen=True)
class TransportSpec:
    kind: str = "local"
    url: str | None = None  # None for local

    def describe(self) -> str:
        return self.kind if self.url is None else f"{self.kind} {redact_url(self.url)}"


def parse_spec(transport: str | None, broker_url: str | None = None) -> TransportSpec:
    """The transport that `--transport` (a kind, or a broker URL) and `--broker-url` name.

    Raises ValueError saying what is wrong.
    """
    kind = (transport or "").strip()
    url = broker_url or None
    if kind.lower().startswith(("http://", "https://")):  # a worker's URL: the server's own API
        kind = "local"
    elif "://" in kind:  # --transport redis://host:6379/0
        url = url or kind
        kind = ""
    kind = _ALIASES.get(kind.lower(), kind.lower())
    if not kind:
        kind = _kind_of(url) if url else "local"
    if kind not in KINDS:
        raise ValueError(f"unknown transport {transport!r}: use one of {', '.join(KINDS)}, or a broker URL")
    if kind == "local":
        return TransportSpec("local")  # no broker: a broker URL (say, from the environment) is moot
    url = url or DEFAULT_URLS[kind]
    if _kind_of(url) != kind:
        raise ValueError(f"{redact_url(url)} is not a {kind} URL")
    return TransportSpec(kind, url)


def open_transport(spec: TransportSpec) -> Transport:
    """Open a broker transport and check that the broker answers (TransportError if not)."""
    transport: Transport
    if spec.kind == "inprocess":
        from podium.transports.inprocess import InProcessTransport

        return InProcessTransport.from_url(spec.url or DEFAULT_URLS["inprocess"])
    if spec.kind == "redis":
        from podium.transports.redis import RedisTransport

        redis_transport = RedisTransport(spec.url or DEFAULT_URLS["redis"])
        transport, ping = redis_transport, redis_transport.ping
    elif spec.kind == "rabbitmq":
        from podium.transports.rabbitmq import RabbitMQTransport

        rabbit_transport = RabbitMQTransport(spec.url or DEFAULT_URLS["rabbitmq"])
        transport, ping = rabbit_transport, rabbit_transport.ping
    else:
        raise ValueError(f"the {spec.kind} transport is built by the server, not opened by URL")
    try:
        ping()
    except TransportError:
        transport.close()
        raise
    return transport


def _kind_of(url: str) -> str:
    scheme = url.partition("://")[0].lower()
    kind = _SCHEMES.get(scheme)
    if kind is None:
        raise ValueError(f"unsupported broker URL {redact_url(url)}: use redis://, amqp:// or inprocess://")
    return kind


def redact_url(url: str) -> str:
    """The URL with its password masked, for messages and banners."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


DEFAULT_PREFIX = "podium"


def url_options(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """(the URL without podium's own query parameters `names`, their values): the client
    libraries refuse parameters they do not know."""
    base, sep, query = url.partition("?")
    if not sep:
        return url, {}
    pairs = parse_qsl(query, keep_blank_values=True)
    found = {key: value for key, value in pairs if key in names and value}
    rest = [(key, value) for key, value in pairs if key not in names]
    return (f"{base}?{urlencode(rest)}" if rest else base), found


def split_prefix(url: str, prefix: str | None = None) -> tuple[str, str]:
    """(the URL without its `prefix` query parameter, the prefix): an explicit `prefix` wins,
    then the URL's, then `podium`."""
    cleaned, found = url_options(url, ("prefix",))
    return cleaned, prefix or found.get("prefix") or DEFAULT_PREFIX
