"""RedriveExecution: go on from the failed state, with AWS's refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.api.errors import ExecutionDoesNotExist, ExecutionNotRedrivable
from tests.service.conftest import Harness

FLAKY = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {
            "Type": "Task",
            "Resource": "podium:function:prepare",
            "ResultPath": "$.prepared",
            "Next": "Charge",
        },
        "Charge": {
            "Type": "Task",
            "Resource": "podium:function:charge",
            "ResultPath": "$.charged",
            "End": True,
        },
    },
}


class Flaky:
    """Fails the first `failures` calls, then succeeds; counts every call."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, event: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("card processor unreachable")
        return {"charged": event["amount"]}


def test_a_redriven_execution_goes_on_from_the_failed_state_and_succeeds(harness: Harness) -> None:
    prepared: list[Any] = []
    charge = Flaky(failures=1)
    harness.functions.register("prepare", lambda event: prepared.append(event) or "ready")
    harness.functions.register("charge", charge)
    arn = harness.start(harness.machine("pay", FLAKY), {"amount": 5})
    failed = harness.wait(arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "ConnectionError")
    assert failed["redriveStatus"] == "REDRIVABLE"
    redriven = harness.call("RedriveExecution", executionArn=arn)
    described = harness.wait(arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"amount": 5, "prepared": "ready", "charged": {"charged": 5}}
    assert len(prepared) == 1 and charge.calls == 2  # Prepare ran once: it had succeeded
    assert described["redriveCount"] == 1 and described["redriveDate"] == redriven["redriveDate"]
    types = harness.types(arn)
    assert types[types.index("ExecutionFailed") :] == [
        "ExecutionFailed",
        "ExecutionRedriven",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert harness.history(arn)[types.index("ExecutionRedriven")]["executionRedrivenEventDetails"] == {
        "redriveCount": 1
    }
    with pytest.raises(ExecutionNotRedrivable, match="Execution is SUCCEEDED and cannot be redriven"):
        harness.call("RedriveExecution", executionArn=arn)


def test_a_running_execution_is_not_redrivable_and_an_unknown_one_does_not_exist(harness: Harness) -> None:
    waiter = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
    arn = harness.start(harness.machine("waiter", waiter))
    with pytest.raises(ExecutionNotRedrivable, match="Execution is RUNNING and cannot be redriven"):
        harness.call("RedriveExecution", executionArn=arn)
    with pytest.raises(ExecutionDoesNotExist):
        harness.call("RedriveExecution", executionArn=arn + "x")


def test_an_execution_ended_more_than_14_days_ago_is_not_redrivable(harness: Harness) -> None:
    harness.functions.register("prepare", lambda event: "ready")
    harness.functions.register("charge", Flaky(failures=5))
    arn = harness.start(harness.machine("pay", FLAKY), {"amount": 1})
    harness.wait(arn)

    class Later:
        def now_ms(self) -> int:
            return harness.engine.clock.now_ms() + 15 * 24 * 3600 * 1000

    harness.service.extras["clock"] = Later()
    described = harness.describe(arn)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution redrivable period exceeded",
    )
    with pytest.raises(ExecutionNotRedrivable):
        harness.call("RedriveExecution", executionArn=arn)


def test_a_client_token_makes_redrive_idempotent(harness: Harness) -> None:
    harness.functions.register("prepare", lambda event: "ready")
    harness.functions.register("charge", Flaky(failures=2))
    arn = harness.start(harness.machine("pay", FLAKY), {"amount": 1})
    harness.wait(arn)
    first = harness.call("RedriveExecution", executionArn=arn, clientToken="once")
    assert harness.wait(arn)["status"] == "FAILED"  # fails a second time
    assert harness.call("RedriveExecution", executionArn=arn, clientToken="once") == first
    assert harness.describe(arn)["redriveCount"] == 1
    harness.call("RedriveExecution", executionArn=arn, clientToken="twice")
    described = harness.wait(arn)
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 2)


def test_a_parallel_is_redriven_branch_by_branch(harness: Harness) -> None:
    calls = {"a": 0, "b": 0}
    flaky_b = Flaky(failures=1)

    def a(event: Any) -> str:
        calls["a"] += 1
        return "a"

    def b(event: Any) -> Any:
        calls["b"] += 1
        return flaky_b({"amount": "b"})

    harness.functions.register("a", a)
    harness.functions.register("b", b)
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "A",
                        "States": {"A": {"Type": "Task", "Resource": "podium:function:a", "End": True}},
                    },
                    {
                        "StartAt": "B",
                        "States": {"B": {"Type": "Task", "Resource": "podium:function:b", "End": True}},
                    },
                ],
            }
        },
    }
    arn = harness.start(harness.machine("both", definition), {})
    assert harness.wait(arn)["status"] == "FAILED"
    harness.call("RedriveExecution", executionArn=arn)
    described = harness.wait(arn)
    assert json.loads(described["output"]) == ["a", {"charged": "b"}]
    assert calls == {"a": 1, "b": 2}


def test_a_redriven_stopped_execution_resumes_its_wait(harness: Harness) -> None:
    waiter = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"}, "P": {"Type": "Pass", "End": True}},
    }
    arn = harness.start(harness.machine("waiter", waiter), {"x": 1})
    harness.wait_for_event(arn, "WaitStateEntered")
    harness.call("StopExecution", executionArn=arn)
    harness.call("RedriveExecution", executionArn=arn)
    described = harness.wait(arn)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"x": 1})
