"""Redis Streams, for real: consumer groups, acks that delete, reclaiming a dead consumer's
messages (XAUTOCLAIM), a consumer taking back its own after a restart, bounded streams."""

from __future__ import annotations

import socket
import threading
import time

import redis

from podium.transports.base import Answers, Command, Delivery, Reply, TransportError
from podium.transports.redis import SEND_TIMEOUT, RedisDelivery, RedisTransport
from tests.transports.brokers import Namespace, broker_sockets


def command(token: str = "tok-1") -> Command:
    return Command(token, "svc", {"n": 1}, "podium", "arn:x", "S")


def raw(ns: Namespace) -> redis.Redis:
    return redis.Redis.from_url(ns.url)


def receive(transport: RedisTransport, consumer: str, wait_ms: int = 2000) -> list[Delivery]:
    return transport.receive_commands("svc", consumer, wait_ms=wait_ms)


def test_the_layout_is_a_stream_per_queue_read_by_a_group(redis_ns: Namespace) -> None:
    transport = redis_ns.transport()
    transport.send_command(command())
    transport.send_reply("podium", Reply("tok-1", "heartbeat"))
    client = raw(redis_ns)
    try:
        assert client.xlen(f"{redis_ns.prefix}:cmd:svc") == 1
        assert client.xlen(f"{redis_ns.prefix}:reply:podium") == 1
        [delivery] = receive(transport, "w1")
        groups = client.xinfo_groups(f"{redis_ns.prefix}:cmd:svc")
        assert [(g["name"], g["pending"]) for g in groups] == [(b"services", 1)]
        delivery.ack()
        # Acked is done: the entry is gone, so the stream's length is the backlog.
        assert client.xlen(f"{redis_ns.prefix}:cmd:svc") == 0
        assert client.xinfo_groups(f"{redis_ns.prefix}:cmd:svc")[0]["pending"] == 0
        [reply] = transport.receive_replies("podium", "orch", wait_ms=1000)
        assert client.xinfo_groups(f"{redis_ns.prefix}:reply:podium")[0]["name"] == b"orchestrator"
        reply.ack()
    finally:
        client.close()


def test_a_dead_consumers_message_is_reclaimed_after_the_visibility_timeout(redis_ns: Namespace) -> None:
    producer = redis_ns.transport()
    dying = redis_ns.transport(visibility_timeout=0.5)
    producer.send_command(command())
    [taken] = receive(dying, "w-dead")
    dying.close()  # dies holding it, unacked
    survivor = redis_ns.transport(visibility_timeout=0.5)
    assert receive(survivor, "w-alive", wait_ms=200) == []  # not before the timeout
    started = time.monotonic()
    [again] = receive(survivor, "w-alive", wait_ms=3000)
    assert 0.1 < time.monotonic() - started < 2.5
    assert again.message == taken.message
    again.ack()
    assert receive(survivor, "w-alive", wait_ms=800) == []


def test_a_consumer_back_under_its_old_name_gets_its_own_messages_at_once(redis_ns: Namespace) -> None:
    producer = redis_ns.transport()
    first_life = redis_ns.transport()  # default 30 s visibility timeout: not what brings it back
    producer.send_command(command())
    [taken] = receive(first_life, "payments-1")
    first_life.close()
    second_life = redis_ns.transport()
    started = time.monotonic()
    [again] = receive(second_life, "payments-1", wait_ms=100)
    assert time.monotonic() - started < 1
    assert again.message == taken.message
    again.ack()


def test_touch_keeps_a_long_task_from_being_reclaimed(redis_ns: Namespace) -> None:
    producer = redis_ns.transport()
    worker = redis_ns.transport(visibility_timeout=0.6)
    other = redis_ns.transport(visibility_timeout=0.6)
    producer.send_command(command())
    [held] = receive(worker, "slow")
    assert isinstance(held, RedisDelivery)
    for _ in range(5):  # 1.5 s of work, touched every 0.3 s
        time.sleep(0.3)
        held.touch()
        assert receive(other, "idle", wait_ms=0) == []
    held.ack()


def test_a_message_deleted_while_pending_is_settled_not_delivered(redis_ns: Namespace) -> None:
    producer = redis_ns.transport()
    dying = redis_ns.transport(visibility_timeout=0.3)
    producer.send_command(command())
    receive(dying, "w-dead")
    dying.close()
    producer.discard("tok-1")  # the task closed meanwhile
    survivor = redis_ns.transport(visibility_timeout=0.3)
    assert receive(survivor, "w-alive", wait_ms=1200) == []
    client = raw(redis_ns)
    try:
        assert client.xinfo_groups(f"{redis_ns.prefix}:cmd:svc")[0]["pending"] == 0
    finally:
        client.close()


def test_discard_withdraws_every_copy_of_a_tasks_command(redis_ns: Namespace) -> None:
    transport = redis_ns.transport()
    transport.send_command(command("tok-1"))
    transport.send_command(command("tok-1"))  # sent again
    transport.send_command(command("tok-2"))
    transport.discard("tok-1")
    assert transport.backlog("svc") == 1
    [left] = receive(transport, "w")
    assert left.message.task_token == "tok-2"
    left.ack()


def test_streams_are_bounded(redis_ns: Namespace) -> None:
    transport = redis_ns.transport(maxlen=100)
    client = raw(redis_ns)
    try:
        for _ in range(2000):
            transport.send_command(command())
        # MAXLEN ~ trims whole nodes of the stream: about the bound, never the whole history.
        assert client.xlen(f"{redis_ns.prefix}:cmd:svc") < 400
    finally:
        client.close()


def test_a_malformed_entry_is_dropped_not_redelivered_forever(redis_ns: Namespace) -> None:
    transport = redis_ns.transport()
    client = raw(redis_ns)
    try:
        client.xadd(f"{redis_ns.prefix}:cmd:svc", {b"m": b"not json"})
        client.xadd(f"{redis_ns.prefix}:cmd:svc", {b"m": b'{"kind": "gossip"}'})
        transport.send_command(command())
        got = receive(transport, "w", wait_ms=1000)
        assert [d.message.task_token for d in got] == ["tok-1"]
        got[0].ack()
        assert client.xlen(f"{redis_ns.prefix}:cmd:svc") == 0
    finally:
        client.close()


def test_a_stream_deleted_under_a_consumer_is_made_again(redis_ns: Namespace) -> None:
    transport = redis_ns.transport()
    assert receive(transport, "w", wait_ms=10) == []
    client = raw(redis_ns)
    try:
        client.delete(f"{redis_ns.prefix}:cmd:svc")  # group and all
    finally:
        client.close()
    transport.send_command(command())
    [delivery] = receive(transport, "w")
    delivery.ack()


def test_an_unreachable_redis_is_a_transport_error() -> None:
    transport = RedisTransport("redis://127.0.0.1:1/0")
    try:
        for call in (transport.ping, lambda: transport.send_command(command())):
            try:
                call()
            except TransportError as exc:
                assert "redis" in str(exc)
            else:
                raise AssertionError("no TransportError")
    finally:
        transport.close()


def test_closing_leaves_no_connection_open(redis_ns: Namespace) -> None:
    before = broker_sockets(6379)
    transport = RedisTransport(redis_ns.url, prefix=redis_ns.prefix)
    transport.send_command(command())
    [delivery] = receive(transport, "w")
    delivery.ack()
    assert broker_sockets(6379) > before
    transport.close()
    assert broker_sockets(6379) == before


def test_answer_publishes_the_reply_and_acks_the_command_in_one_step(redis_ns: Namespace) -> None:
    transport = redis_ns.transport()
    transport.send_command(command("tok-7"))
    [delivery] = receive(transport, "w1")
    assert isinstance(delivery, Answers)
    client = raw(redis_ns)
    try:
        delivery.answer("podium", Reply("tok-7", "success", output={"ok": True}))
        # Done: gone from the command stream, pending nowhere; the answer is on the reply stream.
        assert client.xlen(f"{redis_ns.prefix}:cmd:svc") == 0
        assert client.xinfo_groups(f"{redis_ns.prefix}:cmd:svc")[0]["pending"] == 0
        [answer] = transport.receive_replies("podium", "orch", wait_ms=1000)
        assert answer.message == Reply("tok-7", "success", output={"ok": True})
        answer.ack()
        assert receive(transport, "w2", wait_ms=100) == []
    finally:
        client.close()


def test_a_send_to_a_hung_redis_gives_up_after_the_send_timeout() -> None:
    """Sends have connections of their own, whose sockets give up after SEND_TIMEOUT (not the
    blocking reads' 15 s): a hung Redis cannot hold a sender (for `quick_send`, the engine's
    thread) longer than that."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_never_answer() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept_and_never_answer, daemon=True)
    acceptor.start()
    transport = RedisTransport(f"redis://127.0.0.1:{server.getsockname()[1]}/0")
    try:
        assert transport.quick_send
        started = time.monotonic()
        try:
            transport.send_command(command())
        except TransportError:
            pass
        else:
            raise AssertionError("a send to a Redis that never answers returned")
        assert SEND_TIMEOUT <= time.monotonic() - started < SEND_TIMEOUT + 2
    finally:
        stop.set()
        acceptor.join()
        transport.close()
        for conn in accepted:
            conn.close()
        server.close()


def test_a_connection_redis_closed_is_made_again_on_its_next_use(redis_ns: Namespace) -> None:
    """Each thread's own connections (the lanes) outlive a Redis that closed them (a restart,
    a `timeout` setting, CLIENT KILL): the next send and the next read reconnect, nothing lost."""
    name = redis_ns.prefix  # every connection of this transport says so in CLIENT LIST
    transport = RedisTransport(f"{redis_ns.url}?client_name={name}", prefix=redis_ns.prefix)
    client = raw(redis_ns)
    try:
        transport.send_command(command("tok-a"))
        [first] = receive(transport, "w")
        first.ack()
        ours = [entry["id"] for entry in client.client_list() if entry["name"] == name]
        assert len(ours) >= 2  # the writer's and the reader's
        for client_id in ours:
            client.client_kill_filter(_id=client_id)
        transport.send_command(command("tok-b"))
        [second] = receive(transport, "w")
        assert second.message == command("tok-b")
        second.ack()
    finally:
        client.close()
        transport.close()


def test_an_error_reply_is_a_transport_error_and_the_connection_stays_usable(redis_ns: Namespace) -> None:
    transport = redis_ns.transport()
    client = raw(redis_ns)
    try:
        client.set(f"{redis_ns.prefix}:reply:wrong", "not a stream")
        transport.send_command(command("tok-1"))
        [delivery] = receive(transport, "w")
        assert isinstance(delivery, Answers)
        try:
            delivery.answer("wrong", Reply("tok-1", "success", output=1))
        except TransportError as exc:
            assert "WRONGTYPE" in str(exc)
        else:
            raise AssertionError("an answer to a key that is not a stream went through")
        # Every reply of that exchange was read: the next ones on the same connection match.
        delivery.answer("podium", Reply("tok-1", "success", output=2))
        [answer] = transport.receive_replies("podium", "orch", wait_ms=1000)
        assert answer.message == Reply("tok-1", "success", output=2)
        answer.ack()
    finally:
        client.close()


def test_closing_ends_a_long_poll_of_another_thread_and_closes_its_connection(redis_ns: Namespace) -> None:
    before = broker_sockets(6379)
    transport = RedisTransport(redis_ns.url, prefix=redis_ns.prefix)
    got: list[list[Delivery]] = []
    poller = threading.Thread(target=lambda: got.append(receive(transport, "w", wait_ms=4000)))
    poller.start()
    deadline = time.monotonic() + 5
    while broker_sockets(6379) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # blocked in XREADGROUP by now
    started = time.monotonic()
    transport.close()
    poller.join(timeout=5)
    assert not poller.is_alive()
    assert time.monotonic() - started < 2  # not the rest of its 4 s poll
    assert got == [[]]
    assert broker_sockets(6379) == before


def test_ack_all_settles_the_replies_given_and_only_them(redis_ns: Namespace) -> None:
    transport = redis_ns.transport()
    for n in range(4):
        transport.send_reply("podium", Reply(f"tok-{n}", "success", output=n))
    deliveries = transport.receive_replies("podium", "orch", wait_ms=1000, max_count=10)
    assert len(deliveries) == 4
    client = raw(redis_ns)
    try:
        transport.ack_all(deliveries[:3])
        assert client.xlen(f"{redis_ns.prefix}:reply:podium") == 1
        assert client.xinfo_groups(f"{redis_ns.prefix}:reply:podium")[0]["pending"] == 1
        transport.ack_all([])
        deliveries[3].ack()
        assert client.xlen(f"{redis_ns.prefix}:reply:podium") == 0
    finally:
        client.close()
