"""What the store keeps about state machines, versions, aliases, activities and executions, as frozen values.

Payloads (definitions, inputs, outputs) stay JSON *text* here: the store hands back exactly
what it was given, and only the layers that need the values parse them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from podium.core.history import HistoryEvent
from podium.core.messages import Command, Signal

StateMachineType = Literal["STANDARD", "EXPRESS"]
ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]

EXECUTION_STATUSES: frozenset[str] = frozenset({"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
CLOSED_STATUSES: frozenset[str] = EXECUTION_STATUSES - {"RUNNING"}
REDRIVABLE_STATUSES: frozenset[str] = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(frozen=True, slots=True, kw_only=True)
class StateMachineRecord:
    """A state machine as CreateStateMachine / UpdateStateMachine leave it.

    `logging_configuration` and `tracing_configuration` are JSON text, kept as the client gave
    them. Tags live apart (`Store.tag_resource`), as they do for every taggable resource.
    `updated_ms` is None until the first UpdateStateMachine. `versions_published` is the number
    of the newest version ever published: versions are numbered 1, 2, ... and a number is never
    given again, even after its version is deleted (as in AWS).
    """

    arn: str
    name: str
    definition: str
    type: StateMachineType
    role_arn: str
    created_ms: int
    updated_ms: int | None = None
    status: Literal["ACTIVE"] = "ACTIVE"
    description: str | None = None
    revision_id: str
    logging_configuration: str | None = None
    tracing_configuration: str | None = None
    versions_published: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class StateMachineVersionRecord:
    """An immutable snapshot of a state machine (PublishStateMachineVersion); arn = f"{machine}:{n}"."""

    arn: str
    state_machine_arn: str
    version: int
    definition: str
    role_arn: str
    type: StateMachineType
    description: str | None = None
    revision_id: str
    created_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AliasRecord:
    """A named pointer to one or two versions of a state machine; arn = f"{machine}:{name}".

    `routing` is ((version ARN, weight), ...) in the client's order; the weights sum to 100.
    """

    arn: str
    state_machine_arn: str
    name: str
    description: str | None = None
    routing: tuple[tuple[str, int], ...]
    created_ms: int
    updated_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityRecord:
    arn: str
    name: str
    created_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionRecord:
    """One execution's row.

    `definition` is the text the execution started with: updating or deleting the state
    machine never changes a running execution. `version` counts committed steps; every
    commit names the version it was computed from (optimistic concurrency). A redrive
    (`Store.reopen_execution`) counts in `redrive_count` and stamps `redrive_ms`.
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
    redrive_ms: int | None = None
    state_machine_version_arn: str | None = None  # started through a version (or an alias's)
    state_machine_alias_arn: str | None = None  # started through an alias
    type: StateMachineType = "STANDARD"


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
class FirstStep:
    """The step of the start signal, written in the same transaction as the execution itself.

    Saves a transaction per execution: the start signal is then journaled as committed.
    """

    events: tuple[HistoryEvent, ...] = ()
    new_commands: tuple[Command, ...] = ()
    retired: tuple[str, ...] = ()
    outcome: ExecutionOutcome | None = None


@dataclass(frozen=True, slots=True)
class StepCommit:
    """One step of one execution, as `Store.commit` takes it: for `Store.commit_steps`."""

    arn: str
    expected_version: int
    signals: Sequence[Signal] = ()
    events: Sequence[HistoryEvent] = ()
    new_commands: Sequence[Command] = ()
    retired: Sequence[str] = ()
    consumed_inbox: Sequence[int] = ()
    outcome: ExecutionOutcome | None = None


@dataclass(frozen=True, slots=True)
class InboxSignal:
    """A signal delivered to an execution (by any process) and not yet applied by a step."""

    id: int
    execution_arn: str
    signal: Signal
