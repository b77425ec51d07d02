"""Retry: a failed state runs again after IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds.

Each test scripts the task's answers and reads the StartTimer commands the interpreter asks
for: the time of each retry is its fire_at.
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.messages import StartTimer
from tests.core.driver import Run, lam, machine, task


def retrying(*retriers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return machine("Work", {"Work": task(Retry=list(retriers), **fields)})


def retry_timer(run: Run) -> StartTimer:
    """The one timer armed between two attempts."""
    (timer,) = run.timers()
    return timer


def test_each_retry_waits_interval_times_backoff_capped_by_max_delay() -> None:
    run = Run(
        retrying(
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": 3,
                "BackoffRate": 2,
                "MaxAttempts": 4,
                "MaxDelaySeconds": 10,
            }
        ),
        {"n": 1},
    )
    waits = []
    for _ in range(4):
        started = run.t
        run.fail("Work", "Boom")
        waits.append((retry_timer(run).fire_at_ms - run.start_ms) / 1000 - started)
        run.fire_timer()
    # 3, 3x2, 3x4 = 12 capped at 10, 3x8 = 24 capped at 10
    assert waits == [3, 6, 10, 10]
    run.fail("Work", "Boom")
    assert run.status == "FAILED"
    assert run.outcome is not None and run.outcome.error == "Boom"


def test_default_retrier_is_one_second_doubling_three_times() -> None:
    run = Run(retrying({"ErrorEquals": ["States.ALL"]}), {})
    fire_times = []
    for _ in range(3):
        run.fail("Work", "Boom")
        fire_times.append(retry_timer(run).fire_at_ms)
        run.fire_timer()
    assert [(t - run.start_ms) / 1000 for t in fire_times] == [1, 3, 7]  # waits of 1, 2, 4
    run.fail("Work", "Boom")  # the fourth failure: retries exhausted
    assert run.status == "FAILED"


def test_a_retry_schedules_the_task_again_within_the_same_state() -> None:
    run = Run(retrying({"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2}), {"n": 1})
    run.at(1).fail("Work", "Boom", "first try")
    run.fire_timer()
    run.succeed("Work", {"ok": True})
    assert run.history() == [
        ("ExecutionStarted", {"input": {"n": 1}, "roleArn": "arn:aws:iam::000000000000:role/podium"}),
        ("TaskStateEntered", {"name": "Work", "input": {"n": 1}}),
        ("LambdaFunctionScheduled", {"resource": lam(), "input": {"n": 1}}),
        ("LambdaFunctionStarted", {}),
        ("LambdaFunctionFailed", {"error": "Boom", "cause": "first try"}),
        ("LambdaFunctionScheduled", {"resource": lam(), "input": {"n": 1}}),
        ("LambdaFunctionStarted", {}),
        ("LambdaFunctionSucceeded", {"output": {"ok": True}}),
        ("TaskStateExited", {"name": "Work", "output": {"ok": True}}),
        ("ExecutionSucceeded", {"output": {"ok": True}}),
    ]
    scheduled = run.of_type("LambdaFunctionScheduled")
    assert [e.timestamp - run.start_ms / 1000 for e in scheduled] == [0, 3]  # failed at 1, waited 2


def test_jitter_full_draws_each_wait_between_zero_and_the_backoff() -> None:
    retrier = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 4,
        "MaxAttempts": 6,
        "JitterStrategy": "FULL",
    }
    ceilings = [4, 8, 16, 32, 64, 128]
    by_seed = {}
    for seed in (1, 2, 3):
        run = Run(retrying(retrier), {}, seed=seed)
        waits = []
        for _ in ceilings:
            started = run.now_ms
            run.fail("Work", "Boom")
            waits.append(retry_timer(run).fire_at_ms - started)
            run.fire_timer()
        assert all(0 <= wait <= ceiling * 1000 for wait, ceiling in zip(waits, ceilings, strict=True))
        again = Run(retrying(retrier), {}, seed=seed)
        for wait in waits:
            again.fail("Work", "Boom")
            assert retry_timer(again).fire_at_ms - again.now_ms == wait  # the seed decides
            again.fire_timer()
        by_seed[seed] = waits
    assert len({tuple(w) for w in by_seed.values()}) == 3  # and it does decide


def test_jitter_full_respects_max_delay() -> None:
    retrier = {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 10,
        "BackoffRate": 3,
        "MaxAttempts": 5,
        "MaxDelaySeconds": 15,
        "JitterStrategy": "FULL",
    }
    run = Run(retrying(retrier), {}, seed=11)
    for _ in range(5):
        started = run.now_ms
        run.fail("Work", "Boom")
        assert 0 <= retry_timer(run).fire_at_ms - started <= 15_000
        run.fire_timer()


def test_each_retrier_counts_its_own_attempts_and_backoff() -> None:
    run = Run(
        retrying(
            {"ErrorEquals": ["Throttled"], "IntervalSeconds": 1, "MaxAttempts": 1},
            {"ErrorEquals": ["Busy"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxAttempts": 2},
        ),
        {},
    )
    run.fail("Work", "Throttled")
    assert run.fire_times() == [1]  # Throttled: its first retry
    run.fire_timer()
    run.fail("Work", "Busy")
    assert run.fire_times() == [1 + 10]  # Busy: its first retry, not its second
    run.fire_timer()
    run.fail("Work", "Busy")
    assert run.fire_times() == [11 + 30]  # Busy: second retry, backed off
    run.fire_timer()
    run.fail("Work", "Throttled")  # Throttled has used its one retry
    assert run.status == "FAILED"
    assert run.outcome is not None and run.outcome.error == "Throttled"
    assert len(run.of_type("LambdaFunctionScheduled")) == 4


def test_the_first_matching_retrier_decides_even_with_max_attempts_zero() -> None:
    run = Run(
        retrying(
            {"ErrorEquals": ["Fatal"], "MaxAttempts": 0},
            {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5},
        ),
        {},
    )
    decision = run.fail("Work", "Fatal")
    assert not [c for c in decision.commands if isinstance(c, StartTimer)]
    assert run.status == "FAILED"
    assert run.outcome is not None and run.outcome.error == "Fatal"


def test_max_attempts_zero_never_retries() -> None:
    run = Run(retrying({"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 0}), {})
    run.fail("Work", "Boom")
    assert run.types() == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "ExecutionFailed",
    ]


@pytest.mark.parametrize(
    ("error_equals", "error", "retried"),
    [
        (["States.ALL"], "Custom.Error", True),
        (["States.ALL"], "States.Timeout", True),
        (["States.TaskFailed"], "Custom.Error", True),
        (["States.TaskFailed"], "States.Timeout", False),  # TaskFailed: everything but a timeout
        (["States.Timeout"], "States.Timeout", True),
        (["States.Timeout"], "Custom.Error", False),
        (["Custom.Error"], "Custom.Error", True),
        (["Custom.Error"], "Custom.Other", False),
        (["Other", "Custom.Error"], "Custom.Error", True),
        (["States.ALL"], None, True),  # a failure with no error name: wildcards only
        (["States.TaskFailed"], None, True),
        (["Custom.Error"], None, False),
    ],
)
def test_which_errors_a_retrier_matches(error_equals: list[str], error: str | None, retried: bool) -> None:
    run = Run(retrying({"ErrorEquals": error_equals}, TimeoutSeconds=30), {})
    if error == "States.Timeout":
        run.fire_timer()  # the task's TimeoutSeconds
    else:
        run.fail("Work", error)
    assert (run.status == "RUNNING") is retried
    assert bool(run.tasks()) is False  # waiting for the retry timer, or over
    assert bool(run.timers()) is retried


def test_states_runtime_is_never_retried_nor_caught() -> None:
    definition = machine(
        "Work",
        {
            "Work": task(
                OutputPath="$.missing",
                Retry=[{"ErrorEquals": ["States.Runtime"]}, {"ErrorEquals": ["States.ALL"]}],
                Catch=[
                    {"ErrorEquals": ["States.Runtime"], "Next": "Handled"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Handled"},
                ],
                Next="Handled",
            ),
            "Handled": {"Type": "Pass", "End": True},
        },
    )
    run = Run(definition, {})
    decision = run.succeed("Work", {"present": 1})
    assert decision.commands == []
    assert run.types()[-2:] == ["LambdaFunctionSucceeded", "ExecutionFailed"]
    assert run.details("ExecutionFailed") == {
        "error": "States.Runtime",
        "cause": "An error occurred while executing the state 'Work' (entered at the event id #2). "
        "Invalid path '$.missing' : No results for path: $['missing']",
    }


def test_retry_count_in_the_context_object_counts_the_attempts() -> None:
    run = Run(
        retrying(
            {"ErrorEquals": ["States.ALL"], "MaxAttempts": 2},
            Parameters={"attempt.$": "$$.State.RetryCount"},
        ),
        {},
    )
    payloads = []
    for _ in range(3):
        payloads.append(run.task("Work").payload)
        run.fail("Work", "Boom")
        if run.timers():
            run.fire_timer()
    assert payloads == [{"attempt": 0}, {"attempt": 1}, {"attempt": 2}]


def test_a_retried_parallel_starts_its_branches_again_without_failing_first() -> None:
    definition = machine(
        "Fan",
        {
            "Fan": {
                "Type": "Parallel",
                "Branches": [machine("Work", {"Work": task()})],
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 1}],
                "End": True,
            }
        },
    )
    run = Run(definition, {})
    run.fail("Work", "Boom")
    assert run.fire_times() == [5]
    run.fire_timer()
    run.succeed("Work", "done")
    assert run.types() == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "TaskStateAborted",  # AWS records the failed branch's state as aborted
        "ParallelStateStarted",  # the retry: no ParallelStateFailed in between (AWS does the same)
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]
    assert run.output() == ["done"]
