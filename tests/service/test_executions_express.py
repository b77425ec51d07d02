"""EXPRESS executions: StartSyncExecution, asynchronous StartExecution, and what they lack."""

from __future__ import annotations

import pytest

from podium.api.errors import ExecutionDoesNotExist, StateMachineTypeNotSupported
from tests.service.conftest import Harness

STEPS = {
    "StartAt": "One",
    "States": {
        "One": {"Type": "Pass", "Result": 1, "ResultPath": "$.one", "Next": "Two"},
        "Two": {
            "Type": "Task",
            "Resource": "podium:function:double",
            "Parameters": {"n.$": "$.one"},
            "End": True,
        },
    },
}


def test_start_sync_execution_answers_with_the_result_and_billing_details(harness: Harness) -> None:
    harness.functions.register("double", lambda event: event["n"] * 2)
    machine = harness.machine("fast", STEPS, type="EXPRESS")
    response = harness.call("StartSyncExecution", stateMachineArn=machine, name="now", input='{"x": 0}')
    assert response["executionArn"] == machine.replace(":stateMachine:", ":express:") + ":now"
    assert (response["status"], response["output"], response["input"]) == ("SUCCEEDED", "2", '{"x": 0}')
    assert response["stateMachineArn"] == machine and response["name"] == "now"
    assert response["inputDetails"] == response["outputDetails"] == {"included": True}
    billing = response["billingDetails"]
    assert billing["billedMemoryUsedInMB"] == 64 and billing["billedDurationInMilliseconds"] % 100 == 0
    assert response["stopDate"] >= response["startDate"]


def test_a_failed_sync_execution_is_reported_not_raised(harness: Harness) -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}}
    response = harness.call(
        "StartSyncExecution", stateMachineArn=harness.machine("f", failing, type="EXPRESS")
    )
    assert (response["status"], response["error"], response["cause"]) == ("FAILED", "Nope", "because")
    assert "output" not in response


def test_start_sync_execution_is_for_express_machines_only(harness: Harness) -> None:
    with pytest.raises(StateMachineTypeNotSupported):
        harness.call("StartSyncExecution", stateMachineArn=harness.machine("std", STEPS))


def test_an_asynchronous_express_execution_runs_in_memory_and_has_no_history(harness: Harness) -> None:
    harness.functions.register("double", lambda event: event["n"] * 2)
    machine = harness.machine("fast", STEPS, type="EXPRESS")
    arn = harness.start(machine, {"x": 1})
    assert ":express:" in arn
    assert harness.service.express_engine.wait(arn, timeout=10).status == "SUCCEEDED"
    with pytest.raises(ExecutionDoesNotExist):
        harness.call("DescribeExecution", executionArn=arn)
    assert harness.store.get_execution(arn) is None  # nothing durable
