"""RedriveExecution: an execution that ended FAILED, TIMED_OUT or ABORTED goes on from the
state it stopped in, with that state's input and variables; the steps that succeeded are not
run again, nor are the Parallel branches and Map iterations that succeeded."""

from __future__ import annotations

from typing import Any

from podium.core.messages import RedriveExecution
from tests.core.driver import Run, lam, machine, replay, task


def redrive(run: Run, count: int = 1) -> None:
    run.apply(RedriveExecution(run.now_ms, redrive_count=count))


def chain() -> dict[str, Any]:
    return machine(
        "First",
        {
            "First": task(lam("first"), ResultPath="$.first", Assign={"seen.$": "$"}, Next="Second"),
            "Second": task(lam("second"), Parameters={"seen.$": "$seen"}, End=True),
        },
    )


def test_a_redrive_runs_the_failed_state_again_with_its_input_and_variables() -> None:
    run = Run(chain(), {"order": 7})
    run.succeed("First", "one")
    run.fail("Second", "Flaky", "try again")
    assert run.status == "FAILED"
    redrive(run)
    assert run.status == "RUNNING"
    assert run.task("Second").payload == {"seen": "one"}
    assert [t.state_name for t in run.tasks()] == ["Second"]  # First is not run again
    run.succeed("Second", "two")
    assert run.output() == "two"
    redriven = run.one("ExecutionRedriven")
    assert redriven.details == {"redriveCount": 1}
    after = run.types()[run.types().index("ExecutionRedriven") :]
    # The failed state is still open (Entered, never Exited): it is not entered again.
    assert after == [
        "ExecutionRedriven",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    rescheduled = run.events[run.events.index(redriven) + 1]
    assert rescheduled.previous_event_id == redriven.id


def test_the_redrive_count_shows_in_the_context_object() -> None:
    run = Run(machine("W", {"W": task(lam("w"), Parameters={"n.$": "$$.Execution.RedriveCount"}, End=True)}))
    assert run.task("W").payload == {"n": 0}
    run.fail("W")
    redrive(run, 2)
    assert run.task("W").payload == {"n": 2}


def test_a_stopped_execution_is_redriven_from_the_state_it_was_stopped_in() -> None:
    run = Run(machine("Nap", {"Nap": {"Type": "Wait", "Seconds": 60, "Next": "W"}, "W": task(lam("w"))}))
    run.at(10).stop("Manual", "enough")
    assert run.status == "ABORTED"
    run.at(20)
    redrive(run)
    assert run.fire_times() == [80]  # the Wait is waited again, from the redrive
    run.fire_timer()
    run.succeed("W", 1)
    assert run.status == "SUCCEEDED"


def test_a_redrive_of_a_parallel_runs_only_the_branches_that_did_not_succeed() -> None:
    parallel = {
        "Type": "Parallel",
        "Branches": [
            machine("A", {"A": task(lam("a"))}),
            machine("B", {"B": task(lam("b"))}),
            machine("C", {"C": task(lam("c"))}),
        ],
        "End": True,
    }
    run = Run(machine("Fan", {"Fan": parallel}), {"x": 1})
    run.succeed("A", "a")
    run.fail("B", "Flaky")  # C is aborted
    assert run.status == "FAILED"
    redrive(run)
    assert sorted(t.state_name for t in run.tasks()) == ["B", "C"]
    run.succeed("C", "c")
    run.succeed("B", "b")
    assert run.output() == ["a", "b", "c"]
    assert run.types().count("ParallelStateStarted") == 1


def test_a_redrive_of_a_map_runs_only_the_iterations_that_did_not_succeed() -> None:
    each = {
        "Type": "Map",
        "MaxConcurrency": 2,
        "ItemProcessor": machine("Do", {"Do": task(lam("do"))}),
        "End": True,
    }
    run = Run(machine("Each", {"Each": each}), [1, 2, 3, 4])
    first, second = run.tasks("Do")
    run.succeed(first.command_id, "one")
    run.fail(second.command_id, "Flaky")  # the third iteration had started: it is aborted
    assert run.status == "FAILED"
    redrive(run)
    assert [t.payload for t in run.tasks("Do")] == [2, 3]
    for command in run.tasks("Do"):
        run.succeed(command.command_id, f"r{command.payload}")
    (last,) = run.tasks("Do")
    assert last.payload == 4
    run.succeed(last.command_id, "r4")
    assert run.output() == ["one", "r2", "r3", "r4"]


def test_a_succeeded_execution_is_not_redriven() -> None:
    run = Run(machine("W", {"W": task(lam("w"))}))
    run.succeed("W", 1)
    before = list(run.events)
    redrive(run)
    assert run.events == before and run.status == "SUCCEEDED"


def test_a_redriven_execution_replays_to_the_same_events() -> None:
    run = Run(chain(), {"order": 7})
    run.succeed("First", "one")
    run.fail("Second", "Flaky")
    redrive(run)
    run.succeed("Second", "two")
    steps = replay(chain(), run.signals())
    assert [e for step in steps for e in step.decision.events] == run.events


def test_a_redrive_arms_the_execution_timeout_again_under_a_timer_of_its_own() -> None:
    definition = dict(machine("W", {"W": task(lam("w"))}), TimeoutSeconds=100)
    run = Run(definition)
    (first_timer,) = run.timers()
    run.at(10).fail("W")
    run.at(20)
    redrive(run)
    (timer,) = run.timers()
    assert timer.command_id != first_timer.command_id and run.fire_times() == [120]
    run.fire(first_timer)  # the first run's timer, had the runtime kept it: ignored
    assert run.status == "RUNNING"
    run.fire(timer)
    assert run.status == "TIMED_OUT"
