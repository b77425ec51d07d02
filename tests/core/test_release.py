"""A finished execution is freed by reference counting alone: no cycle of the interpreter's
objects is left for the cyclic garbage collector. On a busy server every execution that
stayed in a cycle until the next collection made those collections frequent and long (a
tenth of the server's garbage-collection time was all that was left once they were gone)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from podium.asl.model import JSON
from podium.core.scheduler import Await, FiberBody, Scheduler
from tests.core.driver import Run, lam, machine, task


@contextmanager
def no_cyclic_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def passes() -> Run:
    return Run(
        machine(
            "A",
            {
                "A": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.a", "Next": "B"},
                "B": {"Type": "Pass", "End": True},
            },
        ),
        {"x": 1},
    )


def fan(*branches: dict[str, Any], input_value: JSON = None) -> Run:
    """A Parallel state of `branches`, started."""
    parallel = {"Type": "Parallel", "Branches": list(branches), "End": True}
    return Run(machine("Fan", {"Fan": parallel}), input_value)


def fan_out_then_succeed() -> Run:
    each = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    run = fan(
        machine("Work", {"Work": task(lam("work"))}),
        machine("Each", {"Each": each}),
        input_value={"items": [1, 2, 3]},
    )
    run.succeed("Work", {"done": True})
    assert run.status == "SUCCEEDED"
    return run


def task_fails() -> Run:
    run = Run(machine("Work", {"Work": task(lam("work"))}))
    run.fail("Work", "Boom", "it broke")
    assert run.status == "FAILED"
    return run


def stopped_while_waiting() -> Run:
    run = Run(machine("Work", {"Work": task(lam("work"))}))
    run.stop("Halted", "by a test")
    assert run.status == "ABORTED"
    return run


def retried_then_caught() -> Run:
    # The payment saga's shape: a retry, then a Catch that goes on to a compensation.
    work = task(
        lam("work"),
        Retry=[{"ErrorEquals": ["Transient"], "IntervalSeconds": 1, "MaxAttempts": 1}],
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Undo"}],
    )
    run = Run(machine("Work", {"Work": work, "Undo": {"Type": "Pass", "End": True}}))
    run.fail("Work", "Transient", "once")
    run.fire_timer()
    run.fail("Work", "Declined", "for good")
    assert run.status == "SUCCEEDED"
    return run


def a_branch_fails() -> Run:
    run = fan(machine("A", {"A": task(lam("a"))}), machine("B", {"B": task(lam("b"))}))
    run.fail("A", "Boom", "branch A broke")
    assert run.status == "FAILED"
    return run


FINISHES = [
    passes,
    fan_out_then_succeed,
    task_fails,
    stopped_while_waiting,
    retried_then_caught,
    a_branch_fails,
]


@pytest.mark.parametrize("finish", FINISHES)
def test_a_finished_execution_is_freed_without_the_cycle_collector(finish: Callable[[], Run]) -> None:
    with no_cyclic_collection():
        run = finish()
        assert run.interpreter.outcome is not None
        interpreter = weakref.ref(run.interpreter)
        del run
        assert interpreter() is None, "the finished interpreter is still referenced (a cycle)"


def test_a_running_execution_is_not_released() -> None:
    # The fix must not drop what a waiting execution still needs: its task answer resumes it.
    with no_cyclic_collection():
        run = Run(machine("Work", {"Work": task(lam("work"))}))
        gc.collect()  # nothing is waiting on a collection either
        run.succeed("Work", {"ok": True})
        assert run.status == "SUCCEEDED"
        assert run.output() == {"ok": True}


def test_a_fiber_forgets_its_exit_callback_once_called() -> None:
    scheduler = Scheduler()
    results: list[object] = []

    def body() -> FiberBody:
        return 42
        yield Await(("never",))  # a generator that returns at once

    fiber = scheduler.spawn(body(), "f", on_exit=lambda f, result, error: results.append(result))
    scheduler.run()
    assert results == [42]
    assert fiber.done and fiber.on_exit is None
