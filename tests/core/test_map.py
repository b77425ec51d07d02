"""Map: one iteration per item, at most MaxConcurrency at a time, outputs in item order; a
failed iteration aborts the others unless a tolerated failure threshold allows it (DISTRIBUTED)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.messages import InvokeTask
from tests.core.driver import Run, lam, machine, task


def mapping(mode: str = "INLINE", **fields: Any) -> dict[str, Any]:
    processor: dict[str, Any] = {"StartAt": "Item", "States": {"Item": task(lam("item"))}}
    processor["ProcessorConfig"] = (
        {"Mode": mode} if mode == "INLINE" else {"Mode": mode, "ExecutionType": "STANDARD"}
    )
    state: dict[str, Any] = {"Type": "Map", "ItemProcessor": processor}
    state.update(fields)
    states: dict[str, Any] = {"Each": state}
    for catcher in fields.get("Catch", ()):
        states[catcher["Next"]] = {"Type": "Pass", "End": True}
    if "Next" not in state:
        state["End"] = True
    return machine("Each", states)


def invoked(commands: list[Any]) -> list[Any]:
    return [c.payload for c in commands if isinstance(c, InvokeTask)]


def test_max_concurrency_keeps_that_many_iterations_in_flight() -> None:
    run = Run(mapping(MaxConcurrency=2), [10, 20, 30, 40, 50])
    assert invoked(run.steps[0].decision.commands) == [10, 20]
    by_item = {t.payload: t.command_id for t in run.tasks()}
    assert invoked(run.succeed(by_item[20], "b").commands) == [30]  # one finishes, the next starts
    by_item = {t.payload: t.command_id for t in run.tasks()}
    assert invoked(run.succeed(by_item[10], "a").commands) == [40]
    by_item = {t.payload: t.command_id for t in run.tasks()}
    assert invoked(run.succeed(by_item[40], "d").commands) == [50]
    for command in run.tasks():
        assert len(run.tasks()) <= 2
        decision = run.succeed(command.command_id, command.payload)
        assert invoked(decision.commands) == []
    assert run.output() == ["a", "b", 30, "d", 50]  # item order, not completion order


def test_max_concurrency_zero_runs_every_iteration_at_once() -> None:
    run = Run(mapping(MaxConcurrency=0), [1, 2, 3, 4])
    assert invoked(run.steps[0].decision.commands) == [1, 2, 3, 4]


def test_iteration_events_are_recorded_per_item() -> None:
    run = Run(mapping(MaxConcurrency=1), ["x", "y"])
    run.succeed("Item", "X")
    run.succeed("Item", "Y")
    assert run.history()[1:] == [
        ("MapStateEntered", {"name": "Each", "input": ["x", "y"]}),
        ("MapStateStarted", {"length": 2}),
        ("MapIterationStarted", {"index": 0, "name": "Each"}),
        ("TaskStateEntered", {"name": "Item", "input": "x"}),
        ("LambdaFunctionScheduled", {"resource": lam("item"), "input": "x"}),
        ("LambdaFunctionStarted", {}),
        ("LambdaFunctionSucceeded", {"output": "X"}),
        ("TaskStateExited", {"name": "Item", "output": "X"}),
        ("MapIterationSucceeded", {"index": 0, "name": "Each"}),
        ("MapIterationStarted", {"index": 1, "name": "Each"}),
        ("TaskStateEntered", {"name": "Item", "input": "y"}),
        ("LambdaFunctionScheduled", {"resource": lam("item"), "input": "y"}),
        ("LambdaFunctionStarted", {}),
        ("LambdaFunctionSucceeded", {"output": "Y"}),
        ("TaskStateExited", {"name": "Item", "output": "Y"}),
        ("MapIterationSucceeded", {"index": 1, "name": "Each"}),
        ("MapStateSucceeded", {}),
        ("MapStateExited", {"name": "Each", "output": ["X", "Y"]}),
        ("ExecutionSucceeded", {"output": ["X", "Y"]}),
    ]


def test_item_selector_sees_the_item_index_and_value_and_the_state_input() -> None:
    run = Run(
        mapping(
            ItemsPath="$.orders",
            ItemSelector={"index.$": "$$.Map.Item.Index", "order.$": "$$.Map.Item.Value", "shop.$": "$.shop"},
        ),
        {"shop": "north", "orders": [{"id": "a"}, {"id": "b"}]},
    )
    assert [t.payload for t in run.tasks()] == [
        {"index": 0, "order": {"id": "a"}, "shop": "north"},
        {"index": 1, "order": {"id": "b"}, "shop": "north"},
    ]


def test_item_batcher_groups_items_with_the_batch_input() -> None:
    run = Run(
        mapping(ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}}, ItemsPath="$.items"),
        {"run": 4, "items": [1, 2, 3, 4, 5]},
    )
    assert [t.payload for t in run.tasks()] == [
        {"Items": [1, 2], "BatchInput": {"run": 4}},
        {"Items": [3, 4], "BatchInput": {"run": 4}},
        {"Items": [5], "BatchInput": {"run": 4}},
    ]
    assert run.details("MapStateStarted") == {"length": 5}  # the items, not the batches


def test_a_failed_iteration_aborts_the_others() -> None:
    run = Run(mapping(), [1, 2, 3])
    tasks = {t.payload: t.command_id for t in run.tasks()}
    decision = run.fail(tasks[2], "Bad.Item", "item 2")
    assert sorted(decision.retired) == sorted(tasks.values())
    assert run.history()[-8:] == [
        ("LambdaFunctionFailed", {"error": "Bad.Item", "cause": "item 2"}),
        ("MapIterationFailed", {"index": 1, "name": "Each"}),
        ("TaskStateAborted", {}),
        ("MapIterationAborted", {"index": 0, "name": "Each"}),
        ("TaskStateAborted", {}),
        ("MapIterationAborted", {"index": 2, "name": "Each"}),
        ("MapStateFailed", {}),
        ("ExecutionFailed", {"error": "Bad.Item", "cause": "item 2"}),
    ]
    assert run.owed == {}


def test_iterations_not_yet_started_are_never_started_after_a_failure() -> None:
    run = Run(mapping(MaxConcurrency=1), [1, 2, 3])
    decision = run.fail("Item", "Bad.Item")
    assert decision.commands == []
    assert len(run.of_type("MapIterationStarted")) == 1
    assert run.status == "FAILED"


def test_catch_on_the_map_state_catches_an_iteration_error() -> None:
    run = Run(
        mapping(
            ItemsPath="$.items",
            Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Fallback", "ResultPath": "$.err"}],
        ),
        {"items": [1]},
    )
    run.fail("Item", "Bad.Item", "why")
    assert run.types()[-6:-3] == ["MapIterationFailed", "MapStateFailed", "MapStateExited"]
    assert run.output() == {"items": [1], "err": {"Error": "Bad.Item", "Cause": "why"}}


def test_an_empty_array_succeeds_at_once_with_an_empty_array() -> None:
    run = Run(mapping(), [])
    assert run.history()[1:] == [
        ("MapStateEntered", {"name": "Each", "input": []}),
        ("MapStateStarted", {"length": 0}),
        ("MapStateSucceeded", {}),
        ("MapStateExited", {"name": "Each", "output": []}),
        ("ExecutionSucceeded", {"output": []}),
    ]
    assert run.issued == {}


def test_items_path_to_a_non_array_fails_with_states_runtime() -> None:
    run = Run(mapping(ItemsPath="$.items"), {"items": {"not": "a list"}})
    assert run.outcome is not None and run.outcome.error == "States.Runtime"


# --- DISTRIBUTED -----------------------------------------------------------------------------


def test_a_distributed_map_records_a_map_run_and_no_iteration_events() -> None:
    run = Run(mapping("DISTRIBUTED"), [1, 2])
    for command in run.tasks():
        run.succeed(command.command_id, command.payload * 10)
    assert run.types() == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    arn = run.details("MapRunStarted")["mapRunArn"]
    assert arn.startswith("arn:aws:states:us-east-1:123456789012:mapRun:machine/Each:")
    assert run.output() == [10, 20]


def tolerate(failures: int, items: int, **thresholds: Any) -> Run:
    run = Run(mapping("DISTRIBUTED", **thresholds), list(range(items)))
    for command in run.tasks():
        if run.outcome is not None:
            break
        if command.payload < failures:
            run.fail(command.command_id, "Bad.Item")
        else:
            run.succeed(command.command_id, command.payload)
    return run


@pytest.mark.parametrize(
    ("failures", "thresholds", "succeeds"),
    [
        (1, {}, False),  # no threshold: any failure fails the map run
        (1, {"ToleratedFailureCount": 1}, True),
        (2, {"ToleratedFailureCount": 1}, False),
        (3, {"ToleratedFailurePercentage": 30}, True),  # 3 of 10 is 30%: not more than 30
        (4, {"ToleratedFailurePercentage": 30}, False),
        (10, {"ToleratedFailurePercentage": 100}, True),
        # both: exceeding either one fails ("the workflow fails when it exceeds either value")
        (2, {"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, False),
        (2, {"ToleratedFailureCount": 1, "ToleratedFailurePercentage": 50}, False),
        (1, {"ToleratedFailureCount": 1, "ToleratedFailurePercentage": 10}, True),
    ],
)
def test_tolerated_failure_thresholds(failures: int, thresholds: dict[str, Any], succeeds: bool) -> None:
    run = tolerate(failures, 10, **thresholds)
    assert run.status == ("SUCCEEDED" if succeeds else "FAILED")
    if not succeeds:
        assert run.types()[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
        assert run.history()[-1] == (
            "ExecutionFailed",
            {
                "error": "States.ExceedToleratedFailureThreshold",
                "cause": "The specified tolerated failure threshold was exceeded",
            },
        )
        assert run.owed == {}


def test_tolerated_failure_count_path_reads_the_threshold() -> None:
    run = tolerate(2, 4, ToleratedFailureCountPath="$$.Execution.Input[0]")
    assert run.status == "FAILED"  # the input's first item is 0: no failure tolerated
