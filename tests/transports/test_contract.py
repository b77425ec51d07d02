"""What every transport promises (podium.transports.base.Transport), on each of them for real:
in memory, Redis and RabbitMQ (the brokers of this machine; skipped when absent, failed under CI)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podium.transports.base import Command, Delivery, Lease, Reply, Transport
from podium.transports.inprocess import InProcessTransport
from tests.transports.brokers import namespace

Make = Callable[[], Transport]


@pytest.fixture(params=["inprocess", "redis", "rabbitmq"])
def make(request: pytest.FixtureRequest) -> Iterator[Make]:
    """New transports on one namespace (in memory: the same transport each time)."""
    if request.param == "inprocess":
        shared = InProcessTransport()
        yield lambda: shared
        shared.close()
        return
    with namespace(request.param) as ns:
        yield ns.transport


def command(token: str = "tok-1", queue: str = "svc", body: Any = None, **more: Any) -> Command:
    return Command(
        task_token=token,
        queue=queue,
        body={"amount": 12.5, "card": "4242", "note": "café ✓"} if body is None else body,
        reply_to="podium",
        execution_arn="arn:aws:states:us-east-1:000000000000:execution:m:e",
        state_name="Authorize",
        **more,
    )


def drain(
    transport: Transport, queue: str, want: int, *, replies: bool = False, seconds: float = 10
) -> list[Delivery]:
    """Receive until `want` messages came (or the time is up), acking none."""
    got: list[Delivery] = []
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        receive = transport.receive_replies if replies else transport.receive_commands
        got += receive(queue, "drainer", wait_ms=200, max_count=want - len(got))
    return got


def test_a_command_crosses_intact_and_an_acked_one_never_comes_back(make: Make) -> None:
    producer, consumer = make(), make()
    sent = command(attempt=2, sent_ms=1_700_000_000_000, heartbeat_seconds=5, timeout_seconds=60)
    producer.send_command(sent)
    [delivery] = drain(consumer, "svc", 1)
    assert delivery.message == sent
    delivery.ack()
    assert consumer.receive_commands("svc", "drainer", wait_ms=300) == []


def test_replies_travel_on_their_own_queue(make: Make) -> None:
    producer, consumer = make(), make()
    producer.send_reply("podium", Reply("tok-1", "failure", error="Payment.Declined", cause="score 91"))
    producer.send_reply("podium", Reply("tok-2", "success", output=[1, {"a": None}], worker="w-1"))
    assert consumer.receive_commands("podium", "c", wait_ms=100) == []
    got = drain(consumer, "podium", 2, replies=True)
    assert [d.message for d in got] == [
        Reply("tok-1", "failure", error="Payment.Declined", cause="score 91"),
        Reply("tok-2", "success", output=[1, {"a": None}], worker="w-1"),
    ]
    for delivery in got:
        delivery.ack()


def test_queues_are_separate(make: Make) -> None:
    producer, consumer = make(), make()
    producer.send_command(command("for-other", queue="other"))
    assert consumer.receive_commands("svc", "c", wait_ms=200) == []
    [delivery] = drain(consumer, "other", 1)
    assert delivery.message.task_token == "for-other"
    delivery.ack()


def test_receive_waits_no_longer_than_asked(make: Make) -> None:
    consumer = make()
    consumer.receive_commands("svc", "c", wait_ms=10)  # the first call may connect
    started = time.monotonic()
    assert consumer.receive_commands("svc", "c", wait_ms=300) == []
    assert 0.25 <= time.monotonic() - started < 1.5


def test_a_waiting_receive_wakes_as_soon_as_a_command_arrives(make: Make) -> None:
    producer, consumer = make(), make()
    consumer.receive_commands("svc", "c", wait_ms=10)
    got: list[Delivery] = []
    waiter = threading.Thread(target=lambda: got.extend(consumer.receive_commands("svc", "c", wait_ms=5000)))
    waiter.start()
    time.sleep(0.2)
    sent_at = time.monotonic()
    producer.send_command(command())
    waiter.join()
    assert time.monotonic() - sent_at < 1.0
    assert [d.message.task_token for d in got] == ["tok-1"]
    got[0].ack()


def test_a_receive_hands_out_at_most_max_count(make: Make) -> None:
    producer, consumer = make(), make()
    for i in range(5):
        producer.send_command(command(f"tok-{i}"))
    first = drain(consumer, "svc", 3)
    assert len(first) == 3
    for delivery in first:  # (RabbitMQ's prefetch holds the rest back until these are acked)
        delivery.ack()
    rest = drain(consumer, "svc", 2)
    for delivery in rest:
        delivery.ack()
    assert sorted(d.message.task_token for d in first + rest) == [f"tok-{i}" for i in range(5)]


def test_under_many_threads_every_command_is_taken_exactly_once(make: Make) -> None:
    producers = [make() for _ in range(3)]
    consumers = [make() for _ in range(3)]
    taken: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def produce(transport: Transport, n: int) -> None:
        for i in range(40):
            transport.send_command(command(f"p{n}-{i}"))

    def consume(transport: Transport, n: int) -> None:
        while not done.is_set():
            for delivery in transport.receive_commands("svc", f"c{n}", wait_ms=100, max_count=8):
                with lock:
                    taken.append(delivery.message.task_token)
                delivery.ack()

    threads = [threading.Thread(target=produce, args=(t, n)) for n, t in enumerate(producers)]
    threads += [threading.Thread(target=consume, args=(t, n)) for n, t in enumerate(consumers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(taken) < 120 and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(f"p{n}-{i}" for n in range(3) for i in range(40))


def test_a_released_message_goes_to_the_next_consumer_without_a_timeout(make: Make) -> None:
    """A worker that stops releases what it holds: no visibility timeout to wait for."""
    producer, first, second = make(), make(), make()
    producer.send_command(command())
    [delivery] = drain(first, "svc", 1)
    assert isinstance(delivery, Lease)
    delivery.release()
    if first is not second:  # (in memory, all three are one transport)
        first.close()
    [again] = drain(second, "svc", 1, seconds=3)
    assert again.message == delivery.message
    again.ack()


def test_an_ack_from_another_thread_counts(make: Make) -> None:
    producer, consumer = make(), make()
    producer.send_command(command())
    [delivery] = drain(consumer, "svc", 1)
    acker = threading.Thread(target=delivery.ack)
    acker.start()
    acker.join()
    time.sleep(0.1)
    assert consumer.receive_commands("svc", "c", wait_ms=300) == []


def test_closing_twice_is_harmless_and_a_closed_transport_receives_nothing(make: Make) -> None:
    transport = make()
    transport.close()
    transport.close()
    assert transport.receive_commands("svc", "c", wait_ms=100) == []
