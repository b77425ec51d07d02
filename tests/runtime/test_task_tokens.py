"""The registry of tasks in flight: found by token, dropped one by one or a whole execution at once."""

from __future__ import annotations

from podium.core.messages import InvokeTask
from podium.runtime.task_tokens import TaskRegistry


def task(command_id: str, token: str) -> InvokeTask:
    return InvokeTask(
        command_id=command_id, resource="arn:aws:states:::activity:a", payload={}, task_token=token
    )


def test_an_executions_end_drops_its_tasks_and_only_its_tasks() -> None:
    registry = TaskRegistry()
    registry.add("exec-a", task("1", "tok-a1"))
    registry.add("exec-a", task("2", "tok-a2"))
    registry.add("exec-b", task("1", "tok-b1"))
    registry.remove_execution("exec-a")
    assert registry.get("tok-a1") is None and registry.get("tok-a2") is None
    ref = registry.get("tok-b1")
    assert ref is not None and (ref.execution_arn, ref.task_id) == ("exec-b", "1")
    assert len(registry) == 1


def test_a_task_removed_by_token_is_not_removed_again_with_its_execution() -> None:
    registry = TaskRegistry()
    registry.add("exec-a", task("1", "tok-1"))
    registry.add("exec-a", task("2", "tok-2"))
    registry.remove("tok-1")
    registry.remove("tok-unknown")  # a late answer's token: nothing to do
    assert registry.get("tok-1") is None and registry.get("tok-2") is not None
    registry.remove("tok-2")
    registry.add("exec-a", task("3", "tok-3"))  # the execution's index was emptied, then reused
    registry.remove_execution("exec-a")
    assert len(registry) == 0
