"""Parallel: every branch gets the input; the output lists the branches' outputs in branch order;
the first failing branch aborts the others and its error becomes the Parallel state's."""

from __future__ import annotations

from typing import Any

from podium.core.messages import InvokeTask, StartTimer, TaskSucceeded
from tests.core.driver import Run, lam, machine, task


def fan_out(**fields: Any) -> dict[str, Any]:
    """Three branches: a task A, a task B with a timeout, and a task C followed by a Wait."""
    parallel: dict[str, Any] = {
        "Type": "Parallel",
        "Branches": [
            machine("A", {"A": task(lam("a"))}),
            machine("B", {"B": task(lam("b"), TimeoutSeconds=100)}),
            machine(
                "C", {"C": task(lam("c"), Next="Nap"), "Nap": {"Type": "Wait", "Seconds": 50, "End": True}}
            ),
        ],
    }
    parallel.update(fields)
    states: dict[str, Any] = {"Fan": parallel}
    if "Next" in fields:
        states[fields["Next"]] = {"Type": "Pass", "End": True}
    for catcher in fields.get("Catch", ()):
        states[catcher["Next"]] = {"Type": "Pass", "End": True}
    if "Next" not in fields:
        parallel["End"] = True
    return machine("Fan", states)


def test_every_branch_starts_with_the_state_input() -> None:
    run = Run(fan_out(), {"order": 1})
    assert [(t.state_name, t.payload) for t in run.tasks()] == [
        ("A", {"order": 1}),
        ("B", {"order": 1}),
        ("C", {"order": 1}),
    ]
    assert run.types()[:4] == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "TaskStateEntered",
    ]


def test_outputs_are_in_branch_order_whatever_order_the_branches_finish_in() -> None:
    run = Run(fan_out(), {})
    run.at(1).succeed("C", "c")
    run.fire_timer()  # C's Wait, at 51
    run.at(52).succeed("B", "b")
    run.at(53).succeed("A", "a")
    assert run.output() == ["a", "b", "c"]
    assert run.types()[-2:] == ["ParallelStateExited", "ExecutionSucceeded"]
    assert run.owed == {}


def test_a_failing_branch_aborts_the_others_and_retires_their_commands() -> None:
    run = Run(fan_out(), {})
    run.at(1).succeed("C", "c")  # C is now in its Wait
    owed_before = dict(run.owed)
    assert {type(c).__name__ for c in owed_before.values()} == {"InvokeTask", "StartTimer"}
    decision = run.at(2).fail("B", "Inventory.Empty", "sku 9")
    assert sorted(decision.retired) == sorted(owed_before)  # A's task, B's timeout, C's Wait
    assert decision.commands == []
    assert run.types()[-6:] == [
        "LambdaFunctionFailed",  # B
        "TaskStateAborted",  # B itself: AWS records the failed branch's state as aborted
        "TaskStateAborted",  # A, still running
        "WaitStateAborted",  # C's Nap
        "ParallelStateFailed",
        "ExecutionFailed",
    ]
    assert run.history()[-1] == ("ExecutionFailed", {"error": "Inventory.Empty", "cause": "sku 9"})


def test_answers_for_aborted_branches_are_ignored() -> None:
    run = Run(fan_out(), {})
    a = run.task("A")
    run.fail("B", "Boom")
    decision = run.apply(TaskSucceeded(run.now_ms, a.command_id, "late"))
    assert (decision.events, decision.commands, decision.retired) == ([], [], [])


def test_catch_on_the_parallel_state_catches_a_branch_error() -> None:
    run = Run(
        fan_out(Catch=[{"ErrorEquals": ["Inventory.Empty"], "ResultPath": "$.failure", "Next": "Refund"}]),
        {"order": 5},
    )
    run.fail("A", "Inventory.Empty", "sku 9")
    assert run.history()[-5:] == [
        ("ParallelStateFailed", {}),
        (
            "ParallelStateExited",
            {
                "name": "Fan",
                "output": {"order": 5, "failure": {"Error": "Inventory.Empty", "Cause": "sku 9"}},
            },
        ),
        (
            "PassStateEntered",
            {
                "name": "Refund",
                "input": {"order": 5, "failure": {"Error": "Inventory.Empty", "Cause": "sku 9"}},
            },
        ),
        (
            "PassStateExited",
            {
                "name": "Refund",
                "output": {"order": 5, "failure": {"Error": "Inventory.Empty", "Cause": "sku 9"}},
            },
        ),
        (
            "ExecutionSucceeded",
            {"output": {"order": 5, "failure": {"Error": "Inventory.Empty", "Cause": "sku 9"}}},
        ),
    ]
    assert run.owed == {}


def test_a_branch_timeout_propagates_as_states_timeout() -> None:
    run = Run(fan_out(Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Late"}]), {})
    run.succeed("A", "a")
    run.succeed("C", "c")
    (b_timeout,) = [t for t in run.timers() if t.fire_at_ms == run.start_ms + 100_000]
    run.fire(b_timeout)
    assert run.output() == {"Error": "States.Timeout", "Cause": ""}


def test_variables_assigned_in_a_branch_do_not_leak_out() -> None:
    definition = machine(
        "Setup",
        {
            "Setup": {"Type": "Pass", "Assign": {"outer": "seen inside"}, "Next": "Fan"},
            "Fan": {
                "Type": "Parallel",
                "Branches": [
                    machine(
                        "Inner",
                        {
                            "Inner": {
                                "Type": "Pass",
                                "Assign": {"inner": 1},
                                "Parameters": {"o.$": "$outer"},
                                "End": True,
                            }
                        },
                    )
                ],
                "Next": "After",
            },
            "After": {"Type": "Pass", "Parameters": {"outer.$": "$outer", "inner.$": "$inner"}, "End": True},
        },
    )
    run = Run(definition, {})
    # the branch reads the outer scope and assigns into its own
    assert run.history()[6] == (
        "PassStateExited",
        {"name": "Inner", "output": {"o": "seen inside"}, "assignedVariables": {"inner": 1}},
    )
    assert run.types()[7:9] == ["ParallelStateExited", "PassStateEntered"]
    assert run.status == "FAILED"  # $inner does not exist after the Parallel
    assert run.outcome is not None and run.outcome.error == "States.Runtime"
    assert "$inner" in (run.outcome.cause or "")


def test_parameters_shape_the_branch_input() -> None:
    run = Run(fan_out(Parameters={"id.$": "$.order", "fixed": True}), {"order": 3, "noise": "x"})
    assert {t.payload == {"id": 3, "fixed": True} for t in run.tasks()} == {True}


def test_a_nested_parallel_fails_outward_and_aborts_everything() -> None:
    definition = machine(
        "Outer",
        {
            "Outer": {
                "Type": "Parallel",
                "Branches": [
                    machine(
                        "Inner",
                        {
                            "Inner": {
                                "Type": "Parallel",
                                "Branches": [
                                    machine("X", {"X": task(lam("x"))}),
                                    machine("Y", {"Y": task(lam("y"))}),
                                ],
                                "End": True,
                            }
                        },
                    ),
                    machine("Z", {"Z": task(lam("z"))}),
                ],
                "End": True,
            }
        },
    )
    run = Run(definition, {})
    assert sorted(t.state_name for t in run.tasks()) == ["X", "Y", "Z"]
    run.fail("Y", "Deep")
    assert run.owed == {}
    assert run.types()[-7:] == [
        "LambdaFunctionFailed",  # Y
        "TaskStateAborted",  # Y
        "TaskStateAborted",  # X, Y's sibling
        "ParallelStateFailed",  # Inner
        "TaskStateAborted",  # Z, Inner's sibling
        "ParallelStateFailed",  # Outer
        "ExecutionFailed",
    ]
    assert run.outcome is not None and run.outcome.error == "Deep"
    assert not [c for c in run.issued.values() if isinstance(c, StartTimer)]
    assert all(isinstance(c, InvokeTask) for c in run.issued.values())
