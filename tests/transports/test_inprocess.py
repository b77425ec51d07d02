"""The in-process transport: a broker's behaviour in memory (wire-form copies, a visibility
timeout for a consumer that died, stale receipts), and shared instances by URL."""

from __future__ import annotations

import threading
import time

import pytest

from podium.transports.base import Command, TransportError
from podium.transports.inprocess import InProcessTransport, from_url


def command(token: str = "tok-1", body: object = None) -> Command:
    return Command(token, "svc", {"items": [1, 2]} if body is None else body, "podium", "arn:x", "S")


def test_a_message_taken_and_not_acked_comes_back_after_the_visibility_timeout() -> None:
    transport = InProcessTransport(visibility_timeout=0.3)
    transport.send_command(command())
    [taken] = transport.receive_commands("svc", "dead", wait_ms=0)
    assert transport.depth("svc") == (0, 1)
    started = time.monotonic()
    [again] = transport.receive_commands("svc", "alive", wait_ms=2000)
    assert 0.2 < time.monotonic() - started < 1.0
    assert again.message == taken.message
    taken.ack()  # a stale receipt: the message is with "alive" now
    assert transport.depth("svc") == (0, 1)
    again.ack()
    assert transport.depth("svc") == (0, 0)


def test_touch_extends_the_visibility_timeout() -> None:
    transport = InProcessTransport(visibility_timeout=0.3)
    transport.send_command(command())
    [held] = transport.receive_commands("svc", "slow", wait_ms=0)
    for _ in range(4):
        time.sleep(0.15)
        held.touch()  # type: ignore[attr-defined]
    assert transport.receive_commands("svc", "other", wait_ms=0) == []
    held.ack()


def test_a_consumer_gets_its_own_copy() -> None:
    transport = InProcessTransport()
    body = {"items": [1, 2]}
    transport.send_command(command(body=body))
    [delivery] = transport.receive_commands("svc", "c", wait_ms=0)
    delivery.message.body["items"].append(3)
    assert body == {"items": [1, 2]}


def test_a_body_that_is_not_json_fails_at_sending() -> None:
    with pytest.raises(TypeError):
        InProcessTransport().send_command(command(body={"when": object()}))


def test_discard_withdraws_waiting_commands_only() -> None:
    transport = InProcessTransport()
    transport.send_command(command("tok-1"))
    transport.send_command(command("tok-2"))
    [taken] = transport.receive_commands("svc", "c", wait_ms=0)
    transport.send_command(command("tok-1"))
    transport.discard("tok-1")
    assert transport.depth("svc") == (1, 1)
    taken.ack()


def test_urls_name_shared_transports_until_closed() -> None:
    first = from_url("inprocess://payments")
    assert InProcessTransport.from_url("inprocess://payments") is first
    assert from_url("inprocess://other") is not first
    first.close()
    with pytest.raises(TransportError):
        first.send_command(command())
    assert from_url("inprocess://payments") is not first
    from_url("inprocess://payments").close()
    from_url("inprocess://other").close()
    with pytest.raises(ValueError):
        from_url("redis://payments")


def test_close_wakes_a_waiting_receive() -> None:
    transport = InProcessTransport()
    got: list[object] = []
    waiter = threading.Thread(
        target=lambda: got.append(transport.receive_commands("svc", "c", wait_ms=10_000))
    )
    waiter.start()
    time.sleep(0.1)
    started = time.monotonic()
    transport.close()
    waiter.join()
    assert time.monotonic() - started < 1 and got == [[]]
