"""Executions through boto3 against `podium server`: start (async, sync, by version or alias),
stop, describe, list, history, redrive, map runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.blackbox.process import (
    ACCOUNT,
    REGION,
    ROLE,
    definition,
    event_types,
    history,
    wait_for_end,
)
from tests.blackbox.test_state_machines import error_of

Names = Callable[[str], str]


def lambda_arn(function: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"


def chain(n: int) -> str:
    """n Pass states in a row, state i adding {"s<i>": i} to its input."""
    states = {
        f"S{i}": {
            "Type": "Pass",
            "Result": i,
            "ResultPath": f"$.s{i}",
            **({"Next": f"S{i + 1}"} if i < n - 1 else {"End": True}),
        }
        for i in range(n)
    }
    return definition(states)


# Waits for $.seconds when $.wait is true, else passes straight through.
MAYBE_WAIT = definition(
    {
        "Choose": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.wait", "BooleanEquals": True, "Next": "Wait"}],
            "Default": "Done",
        },
        "Wait": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }
)


def create(sfn: Any, name: str, text: str, **params: Any) -> str:
    arn: str = sfn.create_state_machine(name=name, definition=text, roleArn=ROLE, **params)["stateMachineArn"]
    return arn


class TestStartAndDescribe:
    def test_a_standard_execution_runs_to_its_output(self, sfn: Any, names: Names) -> None:
        arn = create(sfn, names("chain"), chain(5))
        started = sfn.start_execution(stateMachineArn=arn, name="first", input=json.dumps({"x": []}))
        assert started["executionArn"] == arn.replace(":stateMachine:", ":execution:") + ":first"
        described = wait_for_end(sfn, started["executionArn"])
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"x": [], "s0": 0, "s1": 1, "s2": 2, "s3": 3, "s4": 4}
        assert (described["name"], described["stateMachineArn"]) == ("first", arn)
        assert described["startDate"] == started["startDate"] <= described["stopDate"]
        assert json.loads(described["input"]) == {"x": []}
        assert described["inputDetails"] == described["outputDetails"] == {"included": True}
        assert (described["redriveCount"], described["redriveStatus"]) == (0, "NOT_REDRIVABLE")

    def test_a_task_calls_a_python_function(self, sfn: Any, names: Names) -> None:
        arn = create(
            sfn,
            names("task"),
            definition({"T": {"Type": "Task", "Resource": lambda_arn("double"), "End": True}}),
        )
        execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 21}')["executionArn"]
        assert json.loads(wait_for_end(sfn, execution)["output"]) == {"n": 42}
        assert event_types(history(sfn, execution)) == [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded",
        ]

    def test_start_execution_is_idempotent_while_running(self, sfn: Any, names: Names) -> None:
        arn = create(sfn, names("idem"), MAYBE_WAIT)
        waiting = json.dumps({"wait": True, "seconds": 600})
        first = sfn.start_execution(stateMachineArn=arn, name="once", input=waiting)
        again = sfn.start_execution(stateMachineArn=arn, name="once", input=waiting)
        assert (again["executionArn"], again["startDate"]) == (first["executionArn"], first["startDate"])
        # The same input written differently is the same input.
        spaced = sfn.start_execution(
            stateMachineArn=arn, name="once", input='{ "seconds": 600, "wait": true }'
        )
        assert spaced["executionArn"] == first["executionArn"]
        code, message = error_of(lambda: sfn.start_execution(stateMachineArn=arn, name="once", input="{}"))
        assert code == "ExecutionAlreadyExists" and first["executionArn"] in message

        stopped = sfn.stop_execution(
            executionArn=first["executionArn"], error="Op.Cancelled", cause="by a test"
        )
        described = sfn.describe_execution(executionArn=first["executionArn"])
        assert (described["status"], described["error"], described["cause"]) == (
            "ABORTED",
            "Op.Cancelled",
            "by a test",
        )
        assert described["stopDate"] == stopped["stopDate"]
        assert described["redriveStatus"] == "REDRIVABLE"
        assert event_types(history(sfn, first["executionArn"]))[-1] == "ExecutionAborted"
        # Once it has ended, even the same name and input is a new execution: refused.
        code, _ = error_of(lambda: sfn.start_execution(stateMachineArn=arn, name="once", input=waiting))
        assert code == "ExecutionAlreadyExists"

    def test_executions_by_version_and_by_alias(self, sfn: Any, names: Names) -> None:
        one = definition({"P": {"Type": "Pass", "Result": "one", "End": True}})
        two = definition({"P": {"Type": "Pass", "Result": "two", "End": True}})
        arn = create(sfn, names("qualified"), one, publish=True)
        v2 = sfn.update_state_machine(stateMachineArn=arn, definition=two, publish=True)[
            "stateMachineVersionArn"
        ]
        v1 = f"{arn}:1"
        alias = sfn.create_state_machine_alias(
            name="stable", routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}]
        )["stateMachineAliasArn"]

        by_version = sfn.start_execution(stateMachineArn=v2)["executionArn"]
        by_alias = sfn.start_execution(stateMachineArn=alias)["executionArn"]
        plain = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        outputs = {e: json.loads(wait_for_end(sfn, e)["output"]) for e in (by_version, by_alias, plain)}
        assert outputs == {by_version: "two", by_alias: "one", plain: "two"}

        described = sfn.describe_execution(executionArn=by_alias)
        assert described["stateMachineArn"] == arn
        assert (described["stateMachineVersionArn"], described["stateMachineAliasArn"]) == (v1, alias)
        assert sfn.describe_execution(executionArn=by_version)["stateMachineVersionArn"] == v2
        assert "stateMachineVersionArn" not in sfn.describe_execution(executionArn=plain)

        def listed(**params: Any) -> set[str]:
            pages = sfn.get_paginator("list_executions").paginate(**params)
            return {e["executionArn"] for page in pages for e in page["executions"]}

        assert listed(stateMachineArn=arn) == {by_version, by_alias, plain}
        assert listed(stateMachineArn=v2) == {by_version}
        assert listed(stateMachineArn=v1) == {by_alias}
        assert listed(stateMachineArn=alias) == {by_alias}

        # DescribeStateMachineForExecution gives what the execution ran, not what is there now.
        sfn.update_state_machine(
            stateMachineArn=arn, definition=definition({"P": {"Type": "Pass", "End": True}})
        )
        ran = sfn.describe_state_machine_for_execution(executionArn=by_alias)
        assert (ran["stateMachineArn"], ran["definition"]) == (arn, one)
        assert sfn.describe_state_machine_for_execution(executionArn=plain)["definition"] == two

    def test_list_executions_filters_by_status_and_pages_newest_first(self, sfn: Any, names: Names) -> None:
        arn = create(sfn, names("listing"), MAYBE_WAIT)
        quick = [
            sfn.start_execution(stateMachineArn=arn, name=f"quick-{i}", input='{"wait": false}')[
                "executionArn"
            ]
            for i in range(5)
        ]
        waiting = json.dumps({"wait": True, "seconds": 600})
        slow = [
            sfn.start_execution(stateMachineArn=arn, name=f"slow-{i}", input=waiting)["executionArn"]
            for i in range(2)
        ]
        for execution in quick:
            assert wait_for_end(sfn, execution)["status"] == "SUCCEEDED"

        def pages(**params: Any) -> list[list[str]]:
            paginator = sfn.get_paginator("list_executions")
            return [
                [e["executionArn"] for e in page["executions"]]
                for page in paginator.paginate(
                    stateMachineArn=arn, PaginationConfig={"PageSize": 2}, **params
                )
            ]

        newest_first = [*reversed(slow), *reversed(quick)]
        assert pages() == [newest_first[0:2], newest_first[2:4], newest_first[4:6], newest_first[6:]]
        assert pages(statusFilter="RUNNING") == [list(reversed(slow))]
        assert [e for page in pages(statusFilter="SUCCEEDED") for e in page] == list(reversed(quick))
        assert pages(statusFilter="FAILED") == [[]]
        for execution in slow:
            sfn.stop_execution(executionArn=execution)
        assert [e for page in pages(statusFilter="ABORTED") for e in page] == list(reversed(slow))
        code, _ = error_of(lambda: sfn.list_executions(stateMachineArn=arn, nextToken="not-a-token"))
        assert code == "InvalidToken"


class TestHistory:
    def test_paging_reverse_order_and_execution_data(self, sfn: Any, names: Names) -> None:
        arn = create(sfn, names("history"), chain(4))
        execution = sfn.start_execution(stateMachineArn=arn, input='{"secret": "s3cr3t"}')["executionArn"]
        wait_for_end(sfn, execution)
        whole = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        assert [e["id"] for e in whole] == list(range(1, len(whole) + 1))
        assert event_types(whole) == [
            "ExecutionStarted",
            *["PassStateEntered", "PassStateExited"] * 4,
            "ExecutionSucceeded",
        ]
        # As on AWS, the first state's entry names no previous event (0); each later event its predecessor.
        assert [e["previousEventId"] for e in whole] == [0, 0, *[e["id"] for e in whole[1:-1]]]
        assert json.loads(whole[-1]["executionSucceededEventDetails"]["output"])["s3"] == 3

        paged = list(
            sfn.get_paginator("get_execution_history").paginate(
                executionArn=execution, PaginationConfig={"PageSize": 3}
            )
        )
        assert [len(page["events"]) for page in paged] == [3, 3, 3, 1]
        assert [e for page in paged for e in page["events"]] == whole
        assert history(sfn, execution, reverseOrder=True, PaginationConfig={"PageSize": 4}) == whole[::-1]

        bare = history(sfn, execution, includeExecutionData=False)
        assert event_types(bare) == event_types(whole)
        assert "s3cr3t" not in json.dumps(bare, default=str)
        assert bare[0]["executionStartedEventDetails"].get("input") is None
        assert bare[-1]["executionSucceededEventDetails"].get("output") is None
        assert bare[1]["stateEnteredEventDetails"]["name"] == "S0"

        code, _ = error_of(lambda: sfn.get_execution_history(executionArn=execution, nextToken="bogus"))
        assert code == "InvalidToken"


class TestSyncExecution:
    def test_start_sync_execution_of_an_express_machine(self, sfn: Any, names: Names) -> None:
        arn = create(sfn, names("express"), chain(5), type="EXPRESS")
        result = sfn.start_sync_execution(stateMachineArn=arn, name="sync-1", input="{}")
        assert result["status"] == "SUCCEEDED"
        assert json.loads(result["output"]) == {"s0": 0, "s1": 1, "s2": 2, "s3": 3, "s4": 4}
        assert result["executionArn"] == arn.replace(":stateMachine:", ":express:") + ":sync-1"
        assert result["billingDetails"]["billedMemoryUsedInMB"] == 64
        assert result["billingDetails"]["billedDurationInMilliseconds"] % 100 == 0
        # AWS keeps no history of EXPRESS executions: DescribeExecution does not know them.
        code, _ = error_of(lambda: sfn.describe_execution(executionArn=result["executionArn"]))
        assert code == "ExecutionDoesNotExist"

        failing = create(
            sfn,
            names("express-fail"),
            definition({"F": {"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}}),
            type="EXPRESS",
        )
        failed = sfn.start_sync_execution(stateMachineArn=failing)
        assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Oops", "on purpose")
        assert "output" not in failed

        standard = create(sfn, names("standard"), chain(1))
        code, _ = error_of(lambda: sfn.start_sync_execution(stateMachineArn=standard))
        assert code == "StateMachineTypeNotSupported"

    def test_start_execution_of_an_express_machine_runs_it(self, sfn: Any, names: Names) -> None:
        arn = create(sfn, names("express-async"), chain(2), type="EXPRESS")
        started = sfn.start_execution(stateMachineArn=arn, input="{}")
        assert ":express:" in started["executionArn"]


class TestRedrive:
    def test_a_failed_execution_redriven_from_its_failed_state(self, sfn: Any, names: Names) -> None:
        text = definition(
            {
                "Before": {"Type": "Pass", "Next": "Work"},
                "Work": {"Type": "Task", "Resource": lambda_arn("fail_once"), "End": True},
            }
        )
        arn = create(sfn, names("redrive"), text)
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"key": names("k")}))[
            "executionArn"
        ]
        failed = wait_for_end(sfn, execution)
        assert (failed["status"], failed["error"], failed["redriveStatus"]) == (
            "FAILED",
            "Work.Failed",
            "REDRIVABLE",
        )

        redriven = sfn.redrive_execution(executionArn=execution, clientToken="redrive-token-1")
        # The same client token again is the same redrive.
        again = sfn.redrive_execution(executionArn=execution, clientToken="redrive-token-1")
        assert again["redriveDate"] == redriven["redriveDate"]

        succeeded = wait_for_end(sfn, execution)
        assert (succeeded["status"], succeeded["redriveCount"]) == ("SUCCEEDED", 1)
        assert succeeded["redriveDate"] == redriven["redriveDate"]
        types = event_types(history(sfn, execution))
        assert types.count("ExecutionRedriven") == 1
        # Redriven from the failed state: the Pass before it ran once.
        assert types.count("PassStateEntered") == 1 and types[-1] == "ExecutionSucceeded"
        code, message = error_of(lambda: sfn.redrive_execution(executionArn=execution))
        assert code == "ExecutionNotRedrivable" and "SUCCEEDED" in message


class TestMapRuns:
    def test_a_distributed_map_is_listed_and_described(self, sfn: Any, names: Names) -> None:
        text = definition(
            {
                "Each": {
                    "Type": "Map",
                    "Label": "doubling",
                    "MaxConcurrency": 2,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "D",
                        "States": {"D": {"Type": "Task", "Resource": lambda_arn("double"), "End": True}},
                    },
                    "End": True,
                }
            }
        )
        name = names("mapper")
        arn = create(sfn, name, text)
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps([{"n": i} for i in range(4)]))[
            "executionArn"
        ]
        assert json.loads(wait_for_end(sfn, execution)["output"]) == [{"n": 2 * i} for i in range(4)]
        pages = list(sfn.get_paginator("list_map_runs").paginate(executionArn=execution))
        (run,) = [r for page in pages for r in page["mapRuns"]]
        assert run["executionArn"] == execution and f":mapRun:{name}/doubling:" in run["mapRunArn"]
        described = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
        assert (described["status"], described["maxConcurrency"]) == ("SUCCEEDED", 2)
        assert described["itemCounts"]["total"] == described["itemCounts"]["succeeded"] == 4
        assert described["itemCounts"]["failed"] == described["itemCounts"]["pending"] == 0
        assert described["stopDate"] >= described["startDate"]
        code, _ = error_of(lambda: sfn.describe_map_run(mapRunArn=run["mapRunArn"][:-4] + "0000"))
        assert code == "ResourceNotFound"
