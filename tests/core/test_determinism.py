"""Replay: the same journal of signals through a fresh interpreter gives the same decisions,
event for event (ids, timestamps, details) and command for command. That is what lets an
execution survive a crash, so it must hold for any interleaving the world can produce."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.core.messages import InvokeTask, signal_from_json, signal_to_json
from tests.core.driver import Run, Step, lam, machine, replay, task

SQS_TOKEN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

BUSY: dict[str, Any] = machine(
    "Draw",
    {
        "Draw": {
            "Type": "Pass",
            "Parameters": {
                "id.$": "States.UUID()",
                "dice.$": "States.MathRandom(1, 1000)",
                "items.$": "$.items",
            },
            "Next": "Fan",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                machine(
                    "Each",
                    {
                        "Each": {
                            "Type": "Map",
                            "ItemsPath": "$.items",
                            "MaxConcurrency": 2,
                            "ItemProcessor": {
                                "StartAt": "Work",
                                "States": {
                                    "Work": task(
                                        lam("work"),
                                        Retry=[
                                            {
                                                "ErrorEquals": ["Flaky"],
                                                "IntervalSeconds": 2,
                                                "MaxAttempts": 2,
                                                "JitterStrategy": "FULL",
                                            }
                                        ],
                                    )
                                },
                            },
                            "End": True,
                        }
                    },
                ),
                machine(
                    "Ask",
                    {
                        "Ask": task(
                            SQS_TOKEN,
                            Parameters={"token.$": "$$.Task.Token"},
                            TimeoutSeconds=120,
                            HeartbeatSeconds=30,
                            Next="Stamp",
                        ),
                        "Stamp": {
                            "Type": "Pass",
                            "QueryLanguage": "JSONata",
                            "Output": {
                                "u": "{% $uuid() %}",
                                "r": "{% $random() %}",
                                "answer": "{% $states.input %}",
                            },
                            "End": True,
                        },
                    },
                ),
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Recover"}],
            "Next": "Done",
        },
        "Recover": {"Type": "Pass", "End": True},
        "Done": {"Type": "Pass", "End": True},
    },
)


def decisions(steps: list[Step]) -> list[Any]:
    return [(s.decision.events, s.decision.commands, s.decision.retired, s.decision.outcome) for s in steps]


def assert_replays(run: Run, definition: dict[str, Any] = BUSY) -> None:
    again = replay(definition, run.signals())
    assert decisions(again) == decisions(run.steps)
    # and through the journal's JSON form, as the store keeps it
    stored = [signal_from_json(json.loads(json.dumps(signal_to_json(s)))) for s in run.signals()]
    assert decisions(replay(definition, stored)) == decisions(run.steps)


def drain(run: Run) -> None:
    """Let everything still owed answer well, until the execution ends."""
    for _ in range(500):
        if run.outcome is not None:
            return
        tasks = run.tasks()
        if tasks:
            run.after(1).succeed(tasks[0].command_id, {"done": tasks[0].payload})
        else:
            run.fire_timer()
    raise AssertionError("the execution did not end")


def test_a_scripted_run_with_retries_jitter_and_random_functions_replays_exactly() -> None:
    run = Run(BUSY, {"items": [1, 2, 3]}, seed=42)
    work = run.tasks("Work")
    run.at(1).fail(work[0].command_id, "Flaky", "try again")
    run.at(2).heartbeat("Ask")
    run.at(3).succeed(work[1].command_id, "two")
    run.fire_timer()  # the jittered retry (or the heartbeat timeout, whichever is first)
    drain(run)
    assert run.status == "SUCCEEDED"
    assert_replays(run)
    draw = json.loads(run.events[2].details["output"])  # type: ignore[index]
    assert len(draw["id"]) == 36 and 1 <= draw["dice"] <= 1000


def test_the_seed_decides_every_random_value() -> None:
    runs: dict[int, list[list[tuple[str, Any]]]] = {}
    for seed in (1, 1, 2):
        run = Run(BUSY, {"items": [1]}, seed=seed)
        drain(run)
        runs.setdefault(seed, []).append([(e.type, e.details) for e in run.events])
    assert runs[1][0] == runs[1][1]
    assert runs[1][0] != runs[2][0]


# --- any interleaving ------------------------------------------------------------------------


@st.composite
def interleavings(draw: st.DrawFn) -> Run:
    items = draw(st.lists(st.integers(0, 9), min_size=1, max_size=6))
    run = Run(BUSY, {"items": items}, seed=draw(st.integers(0, 2**32)))
    for _ in range(60):  # the world acts until the execution ends (or the drain below takes over)
        if run.outcome is not None:
            break
        if draw(st.integers(0, 40)) == 17:  # now and then, someone stops the execution
            run.stop("Operator.Stop", "enough")
            break
        tasks: list[InvokeTask] = run.tasks()
        # (hypothesis favours the ends of a list: keep the ones that end a run early inside)
        move = draw(st.sampled_from(["answer", "answer", "timer", "wait", "answer"]))
        if move == "wait" or (move == "answer" and not tasks) or (move == "timer" and not run.timers()):
            run.after(draw(st.integers(0, 15)))
            continue
        if move == "timer":
            run.fire_timer()
            continue
        command = draw(st.sampled_from(tasks))
        if command.state_name == "Ask":  # the callback: mostly kept alive, so that runs get long
            answer = draw(st.sampled_from(["heartbeat", "succeed", "fatal", "started", "heartbeat"]))
        else:
            answer = draw(st.sampled_from(["succeed", "flaky", "succeed", "fatal", "flaky", "succeed"]))
        if answer == "succeed":
            run.succeed(command.command_id, {"got": command.payload})
        elif answer == "flaky":
            run.fail(command.command_id, "Flaky", "transient")
        elif answer == "fatal":
            run.fail(command.command_id, "Fatal", None)
        elif answer == "heartbeat":
            run.heartbeat(command.command_id)
        else:
            run.started(command.command_id, "w")
    drain(run)
    return run


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interleavings())
def test_every_interleaving_replays_its_own_history_and_ends_owing_nothing(run: Run) -> None:
    assert run.outcome is not None
    assert run.outcome.status in ("SUCCEEDED", "ABORTED")  # failures are caught by Recover
    assert run.owed == {} and run.interpreter.outstanding_commands == frozenset()
    # every command ever issued was retired exactly once (or answered and retired)
    retired = [c for s in run.steps for c in s.decision.retired]
    assert sorted(retired) == sorted(run.issued)
    ids = [e.id for e in run.events]
    assert ids == list(range(1, len(ids) + 1))
    assert all(0 <= e.previous_event_id < e.id for e in run.events)
    assert [e.timestamp for e in run.events] == sorted(e.timestamp for e in run.events)
    assert_replays(run)
