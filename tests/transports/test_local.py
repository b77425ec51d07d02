"""The local transport: commands become tasks of the server's activity queues (taken with
GetActivityTask, or in the same process), replies go through memory."""

from __future__ import annotations

import json

from podium.connectors.activities import ActivityQueues
from podium.transports.base import Command, Reply, from_wire
from podium.transports.local import LocalTransport

ARN = "arn:aws:states:us-east-1:000000000000:activity:"


def command(token: str = "tok-1", queue: str = "payments") -> Command:
    return Command(token, queue, {"amount": 5}, "podium", "arn:x", "Authorize", heartbeat_seconds=10)


def transport() -> tuple[LocalTransport, ActivityQueues, list[str]]:
    queues = ActivityQueues()
    made: list[str] = []

    def activity_for(name: str) -> str:
        made.append(name)
        return ARN + name

    return LocalTransport(queues, activity_for), queues, made


def test_a_command_is_an_activity_task_whose_input_is_the_whole_command() -> None:
    local, queues, made = transport()
    local.send_command(command())
    assert made == ["payments"]
    task = queues.take(ARN + "payments", timeout=0)
    assert task is not None
    assert task.token == "tok-1"
    assert from_wire(task.input) == command()
    assert json.loads(task.input)["body"] == {"amount": 5}


def test_taking_a_command_is_reported_once_per_take() -> None:
    local, queues, _ = transport()
    taken: list[str] = []
    local.on_taken(taken.append)
    local.send_command(command())
    task = queues.take(ARN + "payments", timeout=0)
    assert task is not None and taken == []
    task.start("worker-1")  # what GetActivityTask does
    assert taken == ["tok-1"]


def test_in_the_same_process_it_is_a_whole_transport() -> None:
    local, _, _ = transport()
    taken: list[str] = []
    local.on_taken(taken.append)
    local.send_command(command("tok-1"))
    local.send_command(command("tok-2"))
    local.send_command(command("tok-1"))  # sent again while still waiting: not twice in the queue
    got = local.receive_commands("payments", "w", wait_ms=0, max_count=5)
    assert [d.message.task_token for d in got] == ["tok-1", "tok-2"]
    assert taken == ["tok-1", "tok-2"]
    for delivery in got:
        delivery.ack()
        local.send_reply("podium", Reply(delivery.message.task_token, "success", output=1))
    replies = local.receive_replies("podium", "orch", wait_ms=0)
    assert [r.message.task_token for r in replies] == ["tok-1", "tok-2"]
    local.close()


def test_discard_takes_a_waiting_command_out() -> None:
    local, queues, _ = transport()
    local.send_command(command())
    local.discard("tok-1")
    assert queues.waiting(ARN + "payments") == 0
    assert local.receive_commands("payments", "w", wait_ms=50) == []


def test_a_dead_workers_commands_go_back_on_the_queue() -> None:
    """What `podium up` does when a replica dies holding commands: they are handed out again."""
    local, queues, _ = transport()
    local.send_command(command("tok-1"))
    local.send_command(command("tok-2"))
    taken = local.receive_commands("payments", "payment-auth@payment-auth-1", wait_ms=0, max_count=2)
    assert [d.message.task_token for d in taken] == ["tok-1", "tok-2"]
    assert queues.in_flight() == {"payment-auth@payment-auth-1": 2}
    local.discard("tok-2")  # answered and closed: nothing to hand back
    assert queues.release("payment-auth@payment-auth-1") == 1
    again = local.receive_commands("payments", "payment-auth@payment-auth-2", wait_ms=0)
    assert [d.message.task_token for d in again] == ["tok-1"]
