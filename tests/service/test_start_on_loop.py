"""StartExecution's event-loop form (what `podium server` runs) answers as its blocking form does,
and sends the starts of a machine whose first step is slow to compute to a thread."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from podium.api.errors import (
    ApiError,
    ExecutionAlreadyExists,
    InvalidExecutionInput,
    InvalidName,
    StateMachineDoesNotExist,
)
from podium.service import executions
from tests.service.conftest import Harness

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}


def on_loop(harness: Harness, **params: Any) -> dict[str, Any]:
    handler = harness.service.loop_handler("StartExecution")
    assert handler is not None
    return asyncio.run(handler(params))  # type: ignore[arg-type]


def test_a_start_on_the_loop_is_a_start(harness: Harness) -> None:
    machine = harness.machine("pass", PASS)
    started = on_loop(harness, stateMachineArn=machine, name="first", input='{"a": 1}')
    assert set(started) == {"executionArn", "startDate"}
    assert started["executionArn"] == machine.replace(":stateMachine:", ":execution:") + ":first"
    described = harness.wait(started["executionArn"])
    assert (described["status"], described["output"], described["input"]) == (
        "SUCCEEDED",
        '{"ok":true}',
        '{"a": 1}',
    )
    assert described["startDate"] == started["startDate"]


def test_the_same_start_while_running_is_the_same_execution_and_another_input_is_refused(
    harness: Harness,
) -> None:
    machine = harness.machine("wait", WAIT)
    first = on_loop(harness, stateMachineArn=machine, name="same", input='{"a": 1}')
    assert on_loop(harness, stateMachineArn=machine, name="same", input='{"a":1}') == first
    with pytest.raises(ExecutionAlreadyExists, match="Execution Already Exists"):
        on_loop(harness, stateMachineArn=machine, name="same", input='{"a": 2}')
    assert harness.call("StartExecution", stateMachineArn=machine, name="same", input='{"a": 1}') == first


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:nope"},
            StateMachineDoesNotExist,
        ),
        ({"input": "{not json"}, InvalidExecutionInput),
        ({"name": "bad name"}, InvalidName),
    ],
)
def test_bad_starts_fail_on_the_loop_as_they_do_blocking(
    harness: Harness, params: dict[str, Any], error: type[ApiError]
) -> None:
    machine = harness.machine("pass", PASS)
    full = {"stateMachineArn": machine, **params}
    with pytest.raises(error) as blocking:
        harness.call("StartExecution", **full)
    with pytest.raises(error) as looped:
        on_loop(harness, **full)
    assert str(looped.value) == str(blocking.value)


def test_express_and_version_starts_on_the_loop(harness: Harness) -> None:
    express = harness.machine("quick", PASS, type="EXPRESS")
    started = on_loop(harness, stateMachineArn=express, input="{}")
    assert ":express:quick:" in started["executionArn"]
    machine = harness.machine("versioned", PASS, publish=True)
    version = machine + ":1"
    arn = on_loop(harness, stateMachineArn=version)["executionArn"]
    described = harness.wait(arn)
    assert (described["status"], described["stateMachineVersionArn"]) == ("SUCCEEDED", version)


MAP = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    },
}


def test_a_machine_whose_first_step_is_heavy_starts_on_a_thread_until_it_is_light_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed_on: list[str] = []
    prepare = executions._prepare

    def noting(request: Any) -> Any:
        computed_on.append(threading.current_thread().name)
        return prepare(request)

    monkeypatch.setattr(executions, "_prepare", noting)
    machine = harness.machine("map", MAP)
    many = json.dumps({"items": list(range(200))})  # some 400 events in the first step
    few = json.dumps({"items": [1, 2]})
    inputs = [few, many, many, few, few]
    arns = [on_loop(harness, stateMachineArn=machine, input=text)["executionArn"] for text in inputs]
    loop = threading.current_thread().name  # asyncio.run runs the loop on this thread
    # Light, then heavy (found out on the loop), then on a thread while the last one was
    # heavy; a light one there sends the next back to the loop.
    assert [name == loop for name in computed_on] == [True, True, False, False, True]
    assert [harness.wait(arn)["status"] for arn in arns] == ["SUCCEEDED"] * 5
    assert len(harness.history(arns[1])) > executions.HEAVY_FIRST_STEP_EVENTS


def test_the_loop_form_is_registered_only_where_the_blocking_form_is() -> None:
    from podium.service.registry import ACTIONS, LOOP_ACTIONS

    assert "StartExecution" in LOOP_ACTIONS
    assert set(LOOP_ACTIONS) <= set(ACTIONS)
