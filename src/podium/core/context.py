"""The per-branch context of a running state: variables, the context object, the clock.

A `Frame` belongs to one fiber (the main program, a Parallel branch, a Map iteration).
Variables follow Step Functions' scoping: a branch reads its parents' variables and assigns
into its own scope only, so nothing assigned inside a Parallel or Map leaks out.
"""

from __future__ import annotations

import functools
from collections import ChainMap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from podium.asl.model import JSON
from podium.core.messages import ExecutionInfo


@functools.lru_cache(maxsize=4096)
def iso_millis(ms: int) -> str:
    """AWS's form of a timestamp in the context object: 2024-01-01T00:00:00.000Z."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class Frame:
    """What a branch of the execution carries from state to state."""

    variables: ChainMap[str, JSON] = field(default_factory=ChainMap)
    last_event_id: int = 0
    record: bool = True  # False inside a distributed Map's child runs: their events are not ours
    in_parallel: bool = False  # directly inside a Parallel branch (not a Map iteration within one)
    resume: Any = None  # where the branch stopped unsuccessfully (podium.core.redrive.ResumePoint)

    def child(self, *, in_parallel: bool = False) -> Frame:
        """A nested scope (Parallel branch, Map iteration): reads ours, writes its own."""
        return Frame(
            variables=self.variables.new_child(),
            last_event_id=self.last_event_id,
            record=self.record,
            in_parallel=in_parallel,
        )


def context_object(
    info: ExecutionInfo,
    execution_input: JSON,
    *,
    state_name: str,
    entered_ms: int,
    retry_count: int | None,
    task_token: str | None = None,
    map_item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The context object ($$) as seen from a state."""
    ctx: dict[str, Any] = {
        "Execution": {
            "Id": info.execution_arn,
            "Input": execution_input,
            "StartTime": info.start_time,
            "Name": info.name,
            "RoleArn": info.role_arn,
        },
        "StateMachine": {"Id": info.state_machine_arn, "Name": info.state_machine_name},
        "State": {"EnteredTime": iso_millis(entered_ms), "Name": state_name},
    }
    if info.redrive_count is not None:  # EXPRESS executions cannot be redriven: no RedriveCount
        ctx["Execution"]["RedriveCount"] = info.redrive_count
    if retry_count is not None:  # Task states only
        ctx["State"]["RetryCount"] = retry_count
    if task_token is not None:
        ctx["Task"] = {"Token": task_token}
    if map_item is not None:
        ctx["Map"] = {"Item": map_item}
    return ctx
