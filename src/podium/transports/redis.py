"""Redis Streams transport: a stream per queue, consumer groups, acks, reclaiming a dead consumer's work.

Layout (with the default prefix `podium`; `?prefix=NAME` in the URL, or `prefix=`, sets another):

    podium:cmd:{queue}     the commands of one service; its workers read them as the
                           consumer group `services`
    podium:reply:{queue}   the answers to one orchestrator; it reads them as the group
                           `orchestrator`

A consumer reads with XREADGROUP (BLOCK for the long poll); a message read and not acked stays
in the group's pending list under that consumer. When the consumer dies, another consumer of
the group takes its messages with XAUTOCLAIM once they have been pending longer than the
visibility timeout (SQS's word; default 30 s). A consumer that comes back under its old name
first gets its own pending messages again, at once. `Delivery.touch()` restarts the visibility
timeout of a message still being worked on; `release()` puts it back at the end of the stream.
The URL may set both: `redis://host:6379/0?prefix=shop&visibility_timeout=10`.

Acking is XACK and XDEL in one round trip: a stream holds only the messages not yet done, so
its length is the backlog. MAXLEN ~ bounds every stream all the same (a consumer that never
acks must not grow Redis without end); a command trimmed away that way is one the
orchestrator sends again (podium.connectors.queue).

Durability is Redis's own: XADD returns once Redis has the message in memory; run Redis with
`appendonly yes` for it to survive a Redis restart. The database decides either way: a lost
command is sent again, a lost reply makes the orchestrator send the command again, and the
service answers it again from its ledger.

redis-py's client is thread-safe (a pool of connections), so one transport serves every
thread; a blocking read holds one connection for its duration, in chunks of at most 5 s.
Writes (XADD, acks) go through a second pool whose sockets time out after SEND_TIMEOUT
seconds instead of the blocking reads' 15: a send is never held up longer than that, which
is what lets the orchestrator send a command on its engine's thread (`quick_send`,
podium.connectors.queue). A send that timed out may still have been added: the command is
sent again, a duplicate the service deduplicates on the task token.

A worker answers and acks in one MULTI/EXEC (`answer`): the reply is published and the
command acked together, or neither, so a crash in between cannot make the command run again.

The commands on a task's way (XADD, XREADGROUP, the answer's MULTI/EXEC, acks) go out on
connections of the calling thread's own (`_Lane`), made by the same pools from the same URL,
as packed commands whose raw replies are read here: redis-py's client and its pool cost some
25-35 µs of CPU per command over that (its pool's lock and checks, argument handling, reply
callbacks), several times per step, and a step's way is a chain of such calls across three
processes. The rare commands (groups, XAUTOCLAIM, XCLAIM, XLEN) go through the client.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from podium.transports.base import Command, Delivery, Reply, TransportError, from_wire, to_wire
from podium.transports.factory import DEFAULT_PREFIX, url_options

log = logging.getLogger("podium.transports.redis")

DEFAULT_URL = "redis://127.0.0.1:6379/0"
DEFAULT_VISIBILITY_TIMEOUT = 30.0
DEFAULT_MAXLEN = 100_000
BLOCK_CHUNK_MS = 5_000  # a blocking read never holds a connection longer (closing stays quick)
SEND_TIMEOUT = 2.0  # seconds: the longest a write (XADD, ack) waits for Redis
FIELD = b"m"  # the one field of an entry: the message's wire form
_REMEMBERED_IDS = 65_536  # commands whose stream ids `discard` can still find


class RedisDelivery:
    """A message read from a stream by a consumer of a group."""

    def __init__(
        self,
        transport: RedisTransport,
        key: str,
        group: str,
        consumer: str,
        entry_id: bytes,
        data: bytes,
        message: Command | Reply,
    ) -> None:
        self.message = message
        self.entry_id = entry_id
        self._transport = transport
        self._key = key
        self._group = group
        self._consumer = consumer
        self._data = data

    def ack(self) -> None:
        with self._transport._errors("ack"):
            self._transport._exchange(self._done())

    def answer(self, queue: str, reply: Reply) -> None:
        """Publish `reply` on reply queue `queue` and ack this command, atomically (one round trip)."""
        transport = self._transport
        with transport._errors("answer"):
            publish = transport._xadd(transport.reply_stream(queue), to_wire(reply))
            transport._transact([publish, *self._done()])

    def release(self) -> None:
        """Back at the end of the stream for any consumer, atomically with its removal here."""
        transport = self._transport
        with transport._errors("release"):
            transport._transact([transport._xadd(self._key, self._data), *self._done()])

    def _done(self) -> list[tuple[Any, ...]]:
        """Acked and deleted: a stream holds only what is not done (its length is the backlog)."""
        return [("XACK", self._key, self._group, self.entry_id), ("XDEL", self._key, self.entry_id)]

    def touch(self) -> None:
        with self._transport._errors("touch"):
            self._transport.client.xclaim(
                self._key, self._group, self._consumer, 0, [self.entry_id], justid=True
            )


class RedisTransport:
    """The Transport protocol on Redis Streams (see the module's docstring)."""

    name = "redis"
    durable = True  # Redis keeps the streams (with its own persistence settings)

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        prefix: str | None = None,
        command_group: str = "services",
        reply_group: str = "orchestrator",
        visibility_timeout: float | None = None,
        maxlen: int = DEFAULT_MAXLEN,
        client: redis.Redis | None = None,
    ) -> None:
        url, options = url_options(url, ("prefix", "visibility_timeout"))
        self.prefix = prefix or options.get("prefix") or DEFAULT_PREFIX
        if visibility_timeout is None:
            visibility_timeout = float(options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))
        if visibility_timeout <= 0:
            raise ValueError("visibility_timeout must be positive")
        self.url = url
        self.command_group = command_group
        self.reply_group = reply_group
        self.visibility_timeout = visibility_timeout
        self.maxlen = maxlen
        self._owns_client = client is None
        self.client: redis.Redis = client or redis.Redis.from_url(
            url,
            protocol=2,  # the reply shapes parsed below are RESP2's
            socket_timeout=BLOCK_CHUNK_MS / 1000 + 10,
            socket_connect_timeout=5,
            health_check_interval=30,
        )
        # A send waits SEND_TIMEOUT at most on our own pool; a given client's timeouts are its own.
        self.quick_send = client is None
        self.writer: redis.Redis = (
            self.client
            if client is not None
            else redis.Redis.from_url(
                url,
                protocol=2,
                socket_timeout=SEND_TIMEOUT,
                socket_connect_timeout=SEND_TIMEOUT,
                health_check_interval=30,
            )
        )
        # How often a reader looks for messages a dead consumer left: a few times per timeout.
        self._claim_every = min(max(visibility_timeout / 4, 0.05), 5.0)
        self._lock = threading.Lock()
        self._groups: set[tuple[str, str]] = set()
        self._recovered: set[tuple[str, str]] = set()  # (stream, consumer) whose old pending was read
        self._next_claim: dict[str, float] = {}
        self._claim_cursor: dict[str, bytes] = {}
        self._sent: OrderedDict[str, list[tuple[str, bytes]]] = OrderedDict()  # token -> its commands
        self._lane = _Lane()
        # Every lane's connections, for close(); a thread's go with it when it ends.
        self._lane_connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._closed = False

    @classmethod
    def from_url(cls, url: str) -> RedisTransport:
        return cls(url)

    def command_stream(self, queue: str) -> str:
        return f"{self.prefix}:cmd:{queue}"

    def reply_stream(self, queue: str) -> str:
        return f"{self.prefix}:reply:{queue}"

    def ping(self) -> None:
        """Raise TransportError unless Redis answers."""
        with self._errors("ping"):
            self.client.ping()

    # --- the Transport protocol -----------------------------------------------------------

    def send_command(self, command: Command) -> None:
        key = self.command_stream(command.queue)
        entry_id = self._add(key, to_wire(command))
        with self._lock:
            self._sent.setdefault(command.task_token, []).append((key, entry_id))
            self._sent.move_to_end(command.task_token)
            while len(self._sent) > _REMEMBERED_IDS:
                self._sent.popitem(last=False)

    def receive_commands(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 1
    ) -> list[Delivery]:
        return self._receive(self.command_stream(queue), self.command_group, consumer, wait_ms, max_count)

    def send_reply(self, queue: str, reply: Reply) -> None:
        self._add(self.reply_stream(queue), to_wire(reply))

    def receive_replies(
        self, queue: str, consumer: str, *, wait_ms: int, max_count: int = 64
    ) -> list[Delivery]:
        return self._receive(self.reply_stream(queue), self.reply_group, consumer, wait_ms, max_count)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            lanes = list(self._lane_connections)
        for connection in lanes:  # a read blocked on one of them ends with an error: see _receive
            connection.disconnect()
        if self._owns_client:
            self.client.close()
            self.writer.close()

    # --- beyond the protocol --------------------------------------------------------------

    def discard(self, token: str) -> None:
        """Delete the commands this transport sent for `token` (its task has closed), taken or not."""
        with self._lock:
            sent = self._sent.pop(token, [])
        if not sent:
            return
        with self._errors("discard"):
            self._exchange([("XDEL", key, entry_id) for key, entry_id in sent])

    def ack_all(self, deliveries: Sequence[Delivery]) -> None:
        """Ack several deliveries of this transport in one round trip."""
        commands = [command for delivery in deliveries for command in cast(RedisDelivery, delivery)._done()]
        if commands:
            with self._errors("ack"):
                self._exchange(commands)

    def backlog(self, queue: str) -> int:
        """Commands of `queue` not done yet (waiting or taken)."""
        with self._errors("backlog"):
            return int(self.client.xlen(self.command_stream(queue)))

    # --- inside ---------------------------------------------------------------------------

    def _add(self, key: str, data: bytes) -> bytes:
        with self._errors("publish"):
            return cast(bytes, self._exchange([self._xadd(key, data)])[0])

    def _xadd(self, key: str, data: bytes) -> tuple[Any, ...]:
        return ("XADD", key, "MAXLEN", "~", self.maxlen, "*", FIELD, data)

    def _connection(self, writing: bool) -> _Connection:
        """This thread's own connection for writes (SEND_TIMEOUT) or for reads (long polls)."""
        lane = self._lane
        connection = lane.writer if writing else lane.reader
        if connection is None:
            pool = (self.writer if writing else self.client).connection_pool
            connection = cast(_Connection, pool.make_connection())
            with self._lock:
                self._lane_connections.add(connection)
            if writing:
                lane.writer = connection
            else:
                lane.reader = connection
        return connection

    def _exchange(self, commands: Sequence[tuple[Any, ...]], *, writing: bool = True) -> list[Any]:
        """`commands` in one write, their raw replies read back: one round trip. The first error
        reply is raised once all replies are read (the connection stays in step)."""
        connection = self._connection(writing)
        packed = connection.pack_commands(commands)
        try:
            return _replies(connection, packed, len(commands))
        except RedisConnectionError:
            # A connection Redis closed while it idled (a restart, its `timeout`, CLIENT KILL)
            # fails on its next use: once more, on a new one. If Redis did run the commands
            # before the connection broke, they run twice: a command sent again, an ack or an
            # answer repeated, all of which the orchestrator and the services take (the token).
            # A timeout is not retried: a hung Redis holds a sender SEND_TIMEOUT, not twice.
            # Nor is anything after close(), which breaks the connections under their reads.
            connection.disconnect()
            if self._closed:
                raise
            return _replies(connection, packed, len(commands))

    def _transact(self, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        """`commands` in one MULTI/EXEC, their results. Nothing else runs between them, and a
        connection lost before EXEC runs none of them; but Redis rolls nothing back, so a
        command that fails as it runs (a key of the wrong type) leaves the others done, and
        its error is raised here."""
        results = self._exchange([("MULTI",), *commands, ("EXEC",)])[-1]
        for result in results or ():
            if isinstance(result, Exception):
                raise result
        return cast(list[Any], results)

    def _receive(self, key: str, group: str, consumer: str, wait_ms: int, max_count: int) -> list[Delivery]:
        if self._closed:
            return []
        try:
            try:
                return self._read(key, group, consumer, wait_ms, max_count)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                with self._lock:  # the stream or its group was deleted under us: make it again
                    self._groups.discard((key, group))
                return self._read(key, group, consumer, wait_ms, max_count)
        except RedisError as exc:
            if self._closed:
                return []  # closed while it waited: nothing was taken
            raise TransportError(f"redis: receive from {key}: {exc}") from exc

    def _read(self, key: str, group: str, consumer: str, wait_ms: int, max_count: int) -> list[Delivery]:
        self._ensure_group(key, group)
        out = self._recover(key, group, consumer, max_count)
        deadline = time.monotonic() + max(wait_ms, 0) / 1000
        while not out and not self._closed:
            out = self._claim(key, group, consumer, max_count)
            if out:
                break
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            block = min(remaining_ms, int(self._claim_every * 1000), BLOCK_CHUNK_MS)
            # BLOCK 0 would wait forever: no time left means one read that does not block.
            waits = ("BLOCK", block) if block > 0 else ()
            read = ("XREADGROUP", "GROUP", group, consumer, "COUNT", max_count, *waits, "STREAMS", key, ">")
            [response] = self._exchange([read], writing=False)
            out = self._deliveries(key, group, consumer, _entries(response))
            if remaining_ms <= 0:
                break
        return out

    def _ensure_group(self, key: str, group: str) -> None:
        if (key, group) in self._groups:
            return
        try:
            # From the start of the stream: commands sent before any worker ever read are theirs.
            self.client.xgroup_create(key, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        with self._lock:
            self._groups.add((key, group))

    def _recover(self, key: str, group: str, consumer: str, max_count: int) -> list[Delivery]:
        """The first read of a consumer takes back what it held, unacked, in an earlier life."""
        with self._lock:
            if (key, consumer) in self._recovered:
                return []
            self._recovered.add((key, consumer))
        command = ("XREADGROUP", "GROUP", group, consumer, "COUNT", max_count, "STREAMS", key, "0")
        [response] = self._exchange([command], writing=False)
        return self._deliveries(key, group, consumer, _entries(response))

    def _claim(self, key: str, group: str, consumer: str, max_count: int) -> list[Delivery]:
        """Messages pending longer than the visibility timeout (their consumer died), now ours."""
        now = time.monotonic()
        with self._lock:
            if now < self._next_claim.get(key, 0.0):
                return []
            self._next_claim[key] = now + self._claim_every
            cursor = self._claim_cursor.get(key, b"0-0")
        response = self.client.xautoclaim(
            key, group, consumer, int(self.visibility_timeout * 1000), start_id=cursor, count=max_count
        )
        # [next cursor, [(id, fields)...], [deleted ids]]: Redis drops deleted ids from the
        # pending list itself; the cursor walks the list across calls and wraps to 0-0.
        with self._lock:
            self._claim_cursor[key] = response[0]
        claimed = [(entry_id, fields) for entry_id, fields in response[1]]
        if claimed:
            log.info("redis: %s took %d message(s) of a dead consumer on %s", consumer, len(claimed), key)
        return self._deliveries(key, group, consumer, claimed)

    def _deliveries(
        self, key: str, group: str, consumer: str, entries: list[tuple[bytes, Any]]
    ) -> list[Delivery]:
        out: list[Delivery] = []
        for entry_id, fields in entries:
            data = fields.get(FIELD) if fields else None
            if data is None:  # deleted (discarded or trimmed) while pending: settle it
                self.client.xack(key, group, entry_id)
                continue
            try:
                message = from_wire(data)
            except ValueError as exc:
                # Not ours to handle and it never will be: kept, it would come back forever.
                log.warning("redis: dropping malformed message %s on %s: %s", entry_id, key, exc)
                self.client.xack(key, group, entry_id)
                self.client.xdel(key, entry_id)
                continue
            out.append(RedisDelivery(self, key, group, consumer, entry_id, data, message))
        return out

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except RedisError as exc:
            raise TransportError(f"redis: {what}: {exc}") from exc


def _replies(connection: _Connection, packed: list[bytes], count: int) -> list[Any]:
    """Send packed commands and read all `count` replies; raise the first error reply."""
    connection.send_packed_command(packed)  # connects first when it is not connected
    replies: list[Any] = []
    failed: ResponseError | None = None
    for _ in range(count):
        try:
            replies.append(connection.read_response())
        except ResponseError as exc:
            failed = failed or exc
            replies.append(exc)
    if failed is not None:
        raise failed
    return replies


class _Connection(Protocol):
    """What the lanes use of a redis-py connection (whose own methods are not annotated)."""

    def pack_commands(self, commands: Sequence[tuple[Any, ...]]) -> list[bytes]: ...

    def send_packed_command(self, command: list[bytes], check_health: bool = True) -> None: ...

    def read_response(self) -> Any: ...

    def disconnect(self) -> None: ...


class _Lane(threading.local):
    """A thread's own connections to Redis (made when it first needs them; see the module)."""

    reader: _Connection | None = None
    writer: _Connection | None = None


def _entries(response: Any) -> list[tuple[bytes, dict[bytes, bytes] | None]]:
    """The entries of a raw XREADGROUP reply on one stream, RESP2's [[key, [[id, [field, value,
    ...]], ...]]] (fields nil: the entry was deleted while pending), with their fields as dicts."""
    if not response:
        return []
    return [
        (entry_id, None if fields is None else dict(zip(fields[::2], fields[1::2], strict=True)))
        for entry_id, fields in response[0][1]
    ]


def from_url(url: str) -> RedisTransport:
    return RedisTransport(url)
