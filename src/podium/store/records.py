"""What the store keeps about state machines and executions, as frozen values.

Payloads (definitions, inputs, outputs) stay JSON *text* here: the store hands back exactly
what it was given, and only the layers that need the values parse them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from podium.core.messages import Signal

StateMachineType = Literal["STANDARD", "EXPRESS"]
ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]

EXECUTION_STATUSES: frozenset[str] = frozenset({"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
CLOSED_STATUSES: frozenset[str] = EXECUTION_STATUSES - {"RUNNING"}


@dataclass(frozen=True, slots=True, kw_only=True)
class StateMachineRecord:
    """A state machine as CreateStateMachine / UpdateStateMachine leave it.

    `tags` are (key, value) pairs in AWS's order, a tuple so that the record stays immutable.
    """

    arn: str
    name: str
    definition: str
    type: StateMachineType
    role_arn: str
    created_ms: int
    status: Literal["ACTIVE"] = "ACTIVE"
    description: str | None = None
    revision_id: str
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionRecord:
    """One execution's row.

    `definition` is the text the execution started with: updating or deleting the state
    machine never changes a running execution. `version` counts committed steps; every
    commit names the version it was computed from (optimistic concurrency).
    """

    arn: str
    name: str
    state_machine_arn: str
    definition: str
    status: ExecutionStatus = "RUNNING"
    input: str
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    start_ms: int
    stop_ms: int | None = None
    version: int = 0
    redrive_count: int = 0


@dataclass(frozen=True, slots=True)
class ExecutionOutcome:
    """How an execution ended; committed with its last step."""

    status: ExecutionStatus
    output: str | None
    error: str | None
    cause: str | None
    stop_ms: int

    def __post_init__(self) -> None:
        if self.status not in CLOSED_STATUSES:
            raise ValueError(f"an outcome must close the execution, not leave it {self.status}")


@dataclass(frozen=True, slots=True)
class InboxSignal:
    """A signal delivered to an execution (by any process) and not yet applied by a step."""

    id: int
    execution_arn: str
    signal: Signal
