"""DescribeMapRun and ListMapRuns for distributed Map states."""

from __future__ import annotations

import pytest

from podium.api.errors import ResourceNotFound
from tests.service.conftest import Harness


def test_a_distributed_map_run_is_listed_and_described(harness: Harness) -> None:
    harness.functions.register("square", lambda n: n * n)
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "Label": "squares",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Sq",
                    "States": {"Sq": {"Type": "Task", "Resource": "podium:function:square", "End": True}},
                },
                "End": True,
            }
        },
    }
    machine = harness.machine("mapper", definition)
    arn = harness.start(machine, [1, 2, 3])
    assert harness.wait(arn)["output"] == "[1,4,9]"
    (item,) = harness.call("ListMapRuns", executionArn=arn)["mapRuns"]
    assert item["executionArn"] == arn and ":mapRun:mapper/squares:" in item["mapRunArn"]
    described = harness.call("DescribeMapRun", mapRunArn=item["mapRunArn"])
    assert described["status"] == "SUCCEEDED" and described["maxConcurrency"] == 2
    assert described["itemCounts"]["succeeded"] == described["itemCounts"]["total"] == 3
    assert described["itemCounts"]["pending"] == described["itemCounts"]["failed"] == 0
    assert described["stopDate"] >= described["startDate"]
    with pytest.raises(ResourceNotFound):
        harness.call("DescribeMapRun", mapRunArn=item["mapRunArn"][:-4] + "0000")
