"""The context object ($$) a state sees: the execution, the state machine, the state (its
name, when it was entered, and for Task states the retry count), the task token."""

from __future__ import annotations

from tests.core.driver import Run, info, machine, task

SQS_TOKEN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def test_execution_and_state_machine_fields() -> None:
    definition = machine("Look", {"Look": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}})
    run = Run(definition, {"in": 1}, execution=info(name="order-42", machine="orders"))
    assert run.output() == {
        "ctx": {
            "Execution": {
                "Id": "arn:aws:states:us-east-1:123456789012:execution:orders:order-42",
                "Input": {"in": 1},
                "StartTime": "2023-11-14T22:13:20.000Z",
                "Name": "order-42",
                "RoleArn": "arn:aws:iam::000000000000:role/podium",
                "RedriveCount": 0,
            },
            "StateMachine": {
                "Id": "arn:aws:states:us-east-1:123456789012:stateMachine:orders",
                "Name": "orders",
            },
            "State": {"EnteredTime": "2023-11-14T22:13:20.000Z", "Name": "Look"},  # no RetryCount: not a Task
        }
    }


def test_execution_input_is_the_original_input_in_every_state() -> None:
    definition = machine(
        "Change",
        {
            "Change": {"Type": "Pass", "Result": {"other": True}, "Next": "Look"},
            "Look": {
                "Type": "Pass",
                "Parameters": {"original.$": "$$.Execution.Input", "now.$": "$"},
                "End": True,
            },
        },
    )
    assert Run(definition, {"first": 1}).output() == {"original": {"first": 1}, "now": {"other": True}}


def test_a_task_sees_its_name_entered_time_and_retry_count() -> None:
    definition = machine(
        "Work",
        {
            "Work": task(
                Parameters={"state.$": "$$.State"},
                Retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5}],
            )
        },
    )
    run = Run(definition, {})
    assert run.task("Work").payload == {
        "state": {"EnteredTime": "2023-11-14T22:13:20.000Z", "Name": "Work", "RetryCount": 0}
    }
    run.at(1.25).fail("Work", "Boom")
    run.fire_timer()
    # a retry is not a new entry: the entered time stays, the count goes up
    assert run.task("Work").payload == {
        "state": {"EnteredTime": "2023-11-14T22:13:20.000Z", "Name": "Work", "RetryCount": 1}
    }


def test_entered_time_has_milliseconds() -> None:
    definition = machine(
        "Work",
        {
            "Work": task(Next="Look"),
            "Look": {"Type": "Pass", "Parameters": {"t.$": "$$.State.EnteredTime"}, "End": True},
        },
    )
    run = Run(definition, {})
    run.at(3.007).succeed("Work", {})
    assert run.output() == {"t": "2023-11-14T22:13:23.007Z"}


def test_the_task_token_is_there_only_for_wait_for_task_token() -> None:
    callback = Run(machine("Work", {"Work": task(SQS_TOKEN, Parameters={"task.$": "$$.Task"})}), {})
    token = callback.task("Work").task_token
    assert callback.task("Work").payload == {"task": {"Token": token}}

    plain = Run(machine("Work", {"Work": task(Parameters={"ctx.$": "$$"})}), {})
    assert "Task" not in plain.task("Work").payload["ctx"]


def test_context_in_a_map_iteration_has_the_item() -> None:
    definition = machine(
        "Each",
        {
            "Each": {
                "Type": "Map",
                "ItemSelector": {"item.$": "$$.Map.Item", "execution.$": "$$.Execution.Name"},
                "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    )
    assert Run(definition, ["a", "b"], execution=info(name="run-1")).output() == [
        {"item": {"Index": 0, "Value": "a"}, "execution": "run-1"},
        {"item": {"Index": 1, "Value": "b"}, "execution": "run-1"},
    ]


def test_jsonata_states_see_the_context_as_states_context() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Look",
        "States": {
            "Look": {
                "Type": "Pass",
                "Output": {
                    "name": "{% $states.context.State.Name %}",
                    "exec": "{% $states.context.Execution.Name %}",
                },
                "End": True,
            }
        },
    }
    assert Run(definition, {}, execution=info(name="e-7")).output() == {"name": "Look", "exec": "e-7"}
