"""Catch: when retries are exhausted (or none match), the first matching catcher routes the
error output {"Error", "Cause"} to its Next state, placed by its ResultPath (JSONPath) or
shaped by its Output/Assign (JSONata, with $states.errorOutput)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.driver import Run, lam, machine, task


def catching(*catchers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Work (a Lambda task) with these catchers; Done after success, each catcher's Next a Pass."""
    states: dict[str, Any] = {"Work": task(Catch=list(catchers), Next="Done", **fields)}
    states["Done"] = {"Type": "Pass", "End": True}
    for catcher in catchers:
        states[catcher["Next"]] = {"Type": "Pass", "End": True}
    return machine("Work", states)


def test_a_caught_error_replaces_the_input_by_default() -> None:
    run = Run(catching({"ErrorEquals": ["States.ALL"], "Next": "HandleA"}), {"order": 7})
    run.fail("Work", "Payment.Declined", "card expired")
    assert run.history()[-5:] == [
        ("LambdaFunctionFailed", {"error": "Payment.Declined", "cause": "card expired"}),
        (
            "TaskStateExited",
            {"name": "Work", "output": {"Error": "Payment.Declined", "Cause": "card expired"}},
        ),
        (
            "PassStateEntered",
            {"name": "HandleA", "input": {"Error": "Payment.Declined", "Cause": "card expired"}},
        ),
        (
            "PassStateExited",
            {"name": "HandleA", "output": {"Error": "Payment.Declined", "Cause": "card expired"}},
        ),
        ("ExecutionSucceeded", {"output": {"Error": "Payment.Declined", "Cause": "card expired"}}),
    ]


@pytest.mark.parametrize(
    ("result_path", "output"),
    [
        ("$.error", {"order": 7, "error": {"Error": "Boom", "Cause": "why"}}),
        ("$.a.b", {"order": 7, "a": {"b": {"Error": "Boom", "Cause": "why"}}}),
        (None, {"order": 7}),  # ResultPath null: the error is dropped, the input goes on
        ("$", {"Error": "Boom", "Cause": "why"}),
    ],
)
def test_a_catchers_result_path_places_the_error_output_in_the_input(
    result_path: str | None, output: dict[str, Any]
) -> None:
    catcher = {"ErrorEquals": ["States.ALL"], "Next": "HandleA", "ResultPath": result_path}
    run = Run(catching(catcher), {"order": 7})
    run.fail("Work", "Boom", "why")
    assert run.output() == output


def test_the_first_matching_catcher_wins() -> None:
    catchers = (
        {"ErrorEquals": ["Payment.Declined", "Payment.Fraud"], "Next": "HandleA"},
        {"ErrorEquals": ["States.ALL"], "Next": "HandleB"},
    )
    declined = Run(catching(*catchers), {})
    declined.fail("Work", "Payment.Fraud")
    other = Run(catching(*catchers), {})
    other.fail("Work", "Network.Down")
    assert declined.of_type("PassStateEntered")[0].details == {
        "name": "HandleA",
        "input": '{"Error":"Payment.Fraud","Cause":null}',
        "inputDetails": {"truncated": False},
    }
    assert (other.of_type("PassStateEntered")[0].details or {})["name"] == "HandleB"


def test_an_error_no_catcher_matches_fails_the_execution() -> None:
    run = Run(catching({"ErrorEquals": ["Payment.Declined"], "Next": "HandleA"}), {})
    run.fail("Work", "Network.Down", "timeout talking to the bank")
    assert run.status == "FAILED"
    assert run.history()[-1] == (
        "ExecutionFailed",
        {"error": "Network.Down", "cause": "timeout talking to the bank"},
    )


def test_retries_are_spent_before_the_catcher_takes_over() -> None:
    run = Run(
        catching(
            {"ErrorEquals": ["States.ALL"], "Next": "HandleA"},
            Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "MaxAttempts": 1}],
        ),
        {},
    )
    run.fail("Work", "Flaky")
    run.fire_timer()
    run.fail("Work", "Flaky", "again")
    assert run.output() == {"Error": "Flaky", "Cause": "again"}
    assert len(run.of_type("LambdaFunctionFailed")) == 2


def test_a_failure_without_an_error_name_is_caught_by_states_all_only() -> None:
    """SendTaskFailure with neither error nor cause: AWS's recorded histories show States.ALL
    catching it, with null Error and Cause, while an explicit name (even States.Runtime) does not."""
    run = Run(
        catching(
            {"ErrorEquals": ["States.Runtime"], "Next": "HandleA", "ResultPath": "$.runtime"},
            {"ErrorEquals": ["States.ALL"], "Next": "HandleB", "ResultPath": "$.all"},
            Resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        ),
        {"q": 1},
    )
    run.fail("Work", None, None)
    assert run.history()[-5:] == [
        ("TaskFailed", {"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken"}),
        ("TaskStateExited", {"name": "Work", "output": {"q": 1, "all": {"Error": None, "Cause": None}}}),
        ("PassStateEntered", {"name": "HandleB", "input": {"q": 1, "all": {"Error": None, "Cause": None}}}),
        ("PassStateExited", {"name": "HandleB", "output": {"q": 1, "all": {"Error": None, "Cause": None}}}),
        ("ExecutionSucceeded", {"output": {"q": 1, "all": {"Error": None, "Cause": None}}}),
    ]


def test_a_failure_without_an_error_name_and_no_wildcard_fails_with_no_error() -> None:
    run = Run(catching({"ErrorEquals": ["Known"], "Next": "HandleA"}), {})
    run.fail("Work", None, None)
    assert run.history()[-1] == ("ExecutionFailed", {})
    assert run.outcome is not None and (run.outcome.error, run.outcome.cause) == (None, None)


def test_a_caught_timeout_shows_an_empty_cause() -> None:
    """AWS: TaskTimedOut records no cause, and the catcher sees "Cause": ""."""
    run = Run(catching({"ErrorEquals": ["States.Timeout"], "Next": "HandleA"}, TimeoutSeconds=5), {})
    run.fire_timer()
    assert run.history()[-5:-3] == [
        ("LambdaFunctionTimedOut", {"error": "States.Timeout"}),
        ("TaskStateExited", {"name": "Work", "output": {"Error": "States.Timeout", "Cause": ""}}),
    ]


def test_jsonata_catcher_output_and_assign_see_the_error_output() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Work",
        "States": {
            "Work": task(
                Arguments={"id": "{% $states.input.id %}"},
                Catch=[
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Next": "Report",
                        "Output": {"failed": "{% $states.input.id %}", "why": "{% $states.errorOutput %}"},
                        "Assign": {"lastError": "{% $states.errorOutput.Error %}"},
                    }
                ],
                Next="Report",
            ),
            "Report": {
                "Type": "Pass",
                "Output": {"report": "{% $states.input %}", "error": "{% $lastError %}"},
                "End": True,
            },
        },
    }
    run = Run(definition, {"id": "order-9"})
    run.fail("Work", "Out.Of.Stock", "sku 42")
    assert run.history()[-4] == (
        "TaskStateExited",
        {
            "name": "Work",
            "output": {"failed": "order-9", "why": {"Error": "Out.Of.Stock", "Cause": "sku 42"}},
            "assignedVariables": {"lastError": "Out.Of.Stock"},
        },
    )
    assert run.output() == {
        "report": {"failed": "order-9", "why": {"Error": "Out.Of.Stock", "Cause": "sku 42"}},
        "error": "Out.Of.Stock",
    }


def test_jsonata_catcher_without_output_passes_the_error_output_on() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Work",
        "States": {
            "Work": task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Done"}], Next="Done"),
            "Done": {"Type": "Pass", "End": True},
        },
    }
    run = Run(definition, {"id": 1})
    run.fail("Work", "E", "C")
    assert run.output() == {"Error": "E", "Cause": "C"}


def test_jsonpath_catcher_assign_reads_the_error_output() -> None:
    run = Run(
        catching(
            {
                "ErrorEquals": ["States.ALL"],
                "Next": "HandleA",
                "ResultPath": None,
                "Assign": {"why.$": "$.Cause"},
            }
        ),
        {"keep": True},
    )
    run.fail("Work", "E", "the reason")
    exited = run.history()[-4]
    assert exited == (
        "TaskStateExited",
        {"name": "Work", "output": {"keep": True}, "assignedVariables": {"why": "the reason"}},
    )


def test_a_task_result_over_the_payload_limit_fails_the_task_with_data_limit_exceeded() -> None:
    """AWS records LambdaFunctionFailed (not Succeeded) and a States.ALL catcher catches it."""
    limit = 256 * 1024
    run = Run(catching({"ErrorEquals": ["States.ALL"], "Next": "HandleA"}), {})
    run.succeed("Work", "x" * limit)  # the JSON text has two quotes more than the limit
    cause = (
        f"The state/task '{lam()}' returned a result with a size exceeding the maximum number of "
        "bytes service limit."
    )
    assert run.history()[-5:-3] == [
        ("LambdaFunctionFailed", {"error": "States.DataLimitExceeded", "cause": cause}),
        (
            "TaskStateExited",
            {"name": "Work", "output": {"Error": "States.DataLimitExceeded", "Cause": cause}},
        ),
    ]
    assert not run.of_type("LambdaFunctionSucceeded")
