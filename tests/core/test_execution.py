"""The execution as a whole: its TimeoutSeconds, StopExecution, how events chain, and what
happens to signals once it has ended."""

from __future__ import annotations

from typing import Any

from podium.core.interpreter import EXECUTION_TIMEOUT_TIMER
from podium.core.messages import StartTimer, TaskSucceeded, TimerFired
from tests.core.driver import T0, Run, lam, machine, task


def busy(**top: Any) -> dict[str, Any]:
    """A Parallel with a task in flight in one branch, a Map of tasks in another, a Wait in a third."""
    return machine(
        "Fan",
        {
            "Fan": {
                "Type": "Parallel",
                "Branches": [
                    machine("A", {"A": task(lam("a"), TimeoutSeconds=300)}),
                    machine(
                        "Each",
                        {
                            "Each": {
                                "Type": "Map",
                                "ItemsPath": "$.items",
                                "ItemProcessor": {"StartAt": "Item", "States": {"Item": task(lam("item"))}},
                                "End": True,
                            }
                        },
                    ),
                    machine("Nap", {"Nap": {"Type": "Wait", "Seconds": 500, "End": True}}),
                ],
                "End": True,
            }
        },
        **top,
    )


def test_execution_timeout_seconds_arms_a_timer_at_the_start() -> None:
    run = Run(busy(TimeoutSeconds=60), {"items": [1, 2]})
    (timer,) = [
        c
        for c in run.steps[0].decision.commands
        if isinstance(c, StartTimer) and c.command_id == EXECUTION_TIMEOUT_TIMER
    ]
    assert timer.fire_at_ms == T0 + 60_000


def test_execution_timeout_ends_the_execution_and_retires_every_command() -> None:
    run = Run(busy(TimeoutSeconds=60), {"items": [1, 2]})
    run.at(10).succeed(run.tasks("Item")[0].command_id, "one")
    owed = set(run.owed) - {EXECUTION_TIMEOUT_TIMER}
    assert len(owed) == 4  # A and its timeout, the second item, the Nap
    before = len(run.events)
    decision = run.fire(next(t for t in run.timers() if t.command_id == EXECUTION_TIMEOUT_TIMER))
    assert owed <= set(decision.retired)
    assert run.owed == {}
    # AWS records only the ending: no TaskStateAborted / MapIterationAborted / WaitStateAborted
    assert run.history()[before:] == [("ExecutionTimedOut", {"error": "States.Timeout"})]
    assert run.status == "TIMED_OUT"
    assert run.outcome is not None and run.outcome.error == "States.Timeout"


def test_stop_execution_aborts_with_its_error_and_cause_and_retires_running_tasks() -> None:
    run = Run(busy(), {"items": [1, 2]})
    running = {c.command_id for c in run.tasks()}
    assert len(running) == 3
    before = len(run.events)
    decision = run.at(5).stop("Operator.Cancelled", "customer asked")
    assert running <= set(decision.retired)
    assert run.owed == {}
    assert run.history()[before:] == [
        ("ExecutionAborted", {"error": "Operator.Cancelled", "cause": "customer asked"})
    ]
    assert run.status == "ABORTED"


def test_stop_during_a_wait_records_only_execution_aborted() -> None:
    """As AWS records it (test_stop_execution in the corpus)."""
    run = Run(
        machine(
            "Nap",
            {"Nap": {"Type": "Wait", "Seconds": 60, "Next": "After"}, "After": {"Type": "Pass", "End": True}},
        ),
        {},
    )
    run.at(3).stop()
    assert run.types() == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    assert run.details("ExecutionAborted") == {}


def test_signals_after_the_end_change_nothing() -> None:
    run = Run(busy(), {"items": [1]})
    task_id = run.task("A").command_id
    run.stop()
    for signal in (
        TaskSucceeded(run.now_ms, task_id, "late"),
        TimerFired(run.now_ms, EXECUTION_TIMEOUT_TIMER),
    ):
        decision = run.apply(signal)
        assert (decision.events, decision.commands, decision.retired, decision.outcome) == ([], [], [], None)
    assert run.stop().events == []
    assert run.status == "ABORTED"


def test_an_execution_that_succeeds_owes_nothing() -> None:
    run = Run(busy(TimeoutSeconds=1000), {"items": [1]})
    run.succeed("A", "a")
    run.succeed("Item", "i")
    run.fire_timer()  # the Nap
    assert run.status == "SUCCEEDED"
    assert run.output() == ["a", ["i"], {"items": [1]}]
    assert run.owed == {}  # the execution's own timeout timer too
    assert EXECUTION_TIMEOUT_TIMER in run.steps[-1].decision.retired


def test_events_chain_as_aws_chains_them() -> None:
    """Ids count from 1; ExecutionStarted and the first state's event point at 0; each later
    event of a branch points at the one before it; the execution's last event at the last
    event of the main program (ids as AWS's recorded histories show them)."""
    run = Run(
        machine("First", {"First": {"Type": "Pass", "Next": "Work"}, "Work": task()}),
        {},
    )
    run.succeed("Work", 1)
    assert [(e.id, e.previous_event_id, e.type) for e in run.events] == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "PassStateEntered"),
        (3, 2, "PassStateExited"),
        (4, 3, "TaskStateEntered"),
        (5, 4, "LambdaFunctionScheduled"),
        (6, 5, "LambdaFunctionStarted"),
        (7, 6, "LambdaFunctionSucceeded"),
        (8, 7, "TaskStateExited"),
        (9, 8, "ExecutionSucceeded"),
    ]


def test_execution_failed_points_at_the_event_that_failed_it() -> None:
    run = Run(machine("Nap", {"Nap": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}), {"s": -1})
    assert [(e.id, e.previous_event_id, e.type) for e in run.events] == [
        (1, 0, "ExecutionStarted"),
        (2, 0, "WaitStateEntered"),
        (3, 2, "ExecutionFailed"),
    ]


def test_event_timestamps_are_the_signal_times() -> None:
    run = Run(machine("Work", {"Work": task()}), {})
    run.at(2.5).succeed("Work", 1)
    assert [e.timestamp - T0 / 1000 for e in run.events] == [0, 0, 0, 0, 2.5, 2.5, 2.5]
