"""The Store port: everything podium keeps, and the one transaction that moves an execution.

An execution is event-sourced. Its *journal* holds the signals the pure core has applied, in
order; replaying them rebuilds the execution exactly. Each step of an execution is committed
by `commit` as one transaction, guarded by the execution's version:

    signals applied         -> appended to the journal
    history events produced -> appended to the history (ids unique per execution)
    commands produced       -> added to the outbox (what is still owed to the world)
    commands retired        -> removed from the outbox
    inbox signals consumed  -> removed from the inbox
    outcome (last step)     -> status, output, error, cause, stop time

Either all of it is written or none of it is. A crash between steps loses nothing: the
journal, the history and the outbox agree with each other at every committed version.

Each journal entry knows whether its step was committed. The signal that opens a run
(`create_execution`'s start, `reopen_execution`'s redrive) is journaled first and committed
by the next `commit`, which commits the decisions it led to: a runtime that finds an
uncommitted entry after a crash knows that its step still has to be committed.

Every implementation must pass `tests/store/contract.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from podium.core.history import HistoryEvent
from podium.core.messages import Command, Signal
from podium.store.records import (
    ActivityRecord,
    AliasRecord,
    ExecutionOutcome,
    ExecutionRecord,
    ExecutionStatus,
    FirstStep,
    InboxSignal,
    StateMachineRecord,
    StateMachineVersionRecord,
    StepCommit,
)

# submit_execution's callback: ((record, created), None), or (None, the exception).
Created = Callable[[tuple[ExecutionRecord, bool] | None, BaseException | None], None]


class Store(Protocol):
    """Durable state of state machines and executions. Safe to call from several threads.

    Methods that take an execution ARN raise `ExecutionDoesNotExistError` when there is none;
    every method raises `StoreClosedError` after `close()`.
    """

    # --- state machines ---------------------------------------------------------------------

    def put_state_machine(self, record: StateMachineRecord) -> None:
        """Insert the state machine, or replace the one with the same ARN (an update)."""
        ...

    def get_state_machine(self, arn: str) -> StateMachineRecord | None: ...

    def list_state_machines(self) -> list[StateMachineRecord]:
        """Every state machine, by name."""
        ...

    def delete_state_machine(self, arn: str) -> bool:
        """Forget the state machine, its versions, its aliases and its tags, atomically.

        Its executions keep running. False if there was no such state machine (then nothing
        is deleted).
        """
        ...

    # --- versions and aliases ---------------------------------------------------------------

    def put_version(self, record: StateMachineVersionRecord) -> None:
        """Insert the version, or replace the one with the same ARN."""
        ...

    def get_version(self, arn: str) -> StateMachineVersionRecord | None: ...

    def list_versions(self, state_machine_arn: str) -> list[StateMachineVersionRecord]:
        """The state machine's versions, newest (highest number) first."""
        ...

    def delete_version(self, arn: str) -> bool: ...

    def put_alias(self, record: AliasRecord) -> None:
        """Insert the alias, or replace the one with the same ARN."""
        ...

    def get_alias(self, arn: str) -> AliasRecord | None: ...

    def list_aliases(self, state_machine_arn: str) -> list[AliasRecord]:
        """The state machine's aliases, by name."""
        ...

    def delete_alias(self, arn: str) -> bool: ...

    # --- activities -------------------------------------------------------------------------

    def put_activity(self, record: ActivityRecord) -> None:
        """Insert the activity, or replace the one with the same ARN."""
        ...

    def get_activity(self, arn: str) -> ActivityRecord | None: ...

    def list_activities(self) -> list[ActivityRecord]:
        """Every activity, by name."""
        ...

    def delete_activity(self, arn: str) -> bool:
        """Forget the activity and its tags. False if there was none."""
        ...

    # --- tags -------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        """Add tags to any resource ARN, replacing the values of keys it already has.

        The store does not check that the resource exists; a tag keeps its first position.
        """
        ...

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        """Remove those keys; keys the resource does not have are ignored."""
        ...

    def list_tags(self, arn: str) -> dict[str, str]:
        """The resource's tags, in the order they were first added ({} if none)."""
        ...

    # --- executions -------------------------------------------------------------------------

    def create_execution(
        self, record: ExecutionRecord, start: Signal, *, first_step: FirstStep | None = None
    ) -> tuple[ExecutionRecord, bool]:
        """Insert the execution with `start` as its first journal signal (not committed), atomically.

        With `first_step`, the start signal's step is written in the same transaction: the
        execution comes back at version 1 (ended, if that step ended it), its start committed.

        Idempotent on (state_machine_arn, name): if that execution exists, nothing is written
        and `(existing, False)` comes back; the caller tells ExecutionAlreadyExists from a
        repeated StartExecution with the same input. Otherwise `(record, True)`.
        """
        ...

    def submit_execution(
        self,
        record: ExecutionRecord,
        start: Signal,
        done: Created,
        *,
        first_step: FirstStep | None = None,
    ) -> None:
        """`create_execution` for a caller that must not block: `done(what it returns, None)`
        once the execution is durable, or `done(None, exception)`, on the thread that wrote it
        (maybe this one, before returning)."""
        ...

    def get_execution(self, arn: str) -> ExecutionRecord | None: ...

    def list_executions(
        self,
        state_machine_arn: str | None = None,
        status: ExecutionStatus | None = None,
        *,
        version_arn: str | None = None,
        alias_arn: str | None = None,
        limit: int | None = None,
        after_arn: str | None = None,
    ) -> list[ExecutionRecord]:
        """Executions, newest first; at most `limit`; only those older than `after_arn` if given.

        Every filter given must match: `version_arn` and `alias_arn` against the record's
        `state_machine_version_arn` and `state_machine_alias_arn`. Paging by the last ARN
        seen, not by offset, keeps pages stable while executions start.
        """
        ...

    def unfinished_executions(self) -> list[str]:
        """ARNs of every RUNNING execution, oldest first: what a restarted runtime resumes."""
        ...

    # --- steps ------------------------------------------------------------------------------

    def journal(self, arn: str) -> list[Signal]:
        """The signals applied to the execution, in the order they were applied."""
        ...

    def journal_entries(self, arn: str) -> list[tuple[Signal, bool]]:
        """The journal with each signal's (signal, committed): was its step committed?"""
        ...

    def commit(
        self,
        arn: str,
        expected_version: int,
        *,
        signals: Sequence[Signal] = (),
        events: Sequence[HistoryEvent] = (),
        new_commands: Sequence[Command] = (),
        retired: Sequence[str] = (),
        consumed_inbox: Sequence[int] = (),
        outcome: ExecutionOutcome | None = None,
    ) -> int:
        """Commit one step atomically and return the execution's new version (expected + 1).

        `signals` are journaled as committed, and so is every earlier uncommitted entry of
        the execution: this step commits the decisions they led to.

        Raises `ConflictError` if the execution is no longer at `expected_version`,
        `ExecutionClosedError` if it has already ended, and `DuplicateIdError` if an event id
        or a new command id is already taken; in each case nothing is written.

        A command both added and retired in the same step is not owed. Retiring an id that is
        not owed, or consuming an inbox id that is gone (or another execution's), is not an
        error. With an `outcome` the execution ends: it owes no more commands and its inbox is
        emptied, since nothing will ever apply those signals.
        """
        ...

    def commit_steps(self, steps: Sequence[StepCommit]) -> list[BaseException | None]:
        """Commit several steps, each as `commit` would, and each on its own: one that fails
        (its error in its place of the result, None for the others) leaves the others
        committed. Steps of one execution go in the order given, each expecting the version
        the one before it leaves. All that succeeded are durable when this returns; a store
        may write them in one transaction (SQLite: one fsync for all of them)."""
        ...

    def reopen_execution(self, arn: str, expected_version: int, signal: Signal, *, now_ms: int) -> int:
        """Run an ended execution again (RedriveExecution); returns its new version (expected + 1).

        Only an execution that ended FAILED, TIMED_OUT or ABORTED: its status goes back to
        RUNNING, output, error, cause and stop time are cleared, `redrive_count` grows by one,
        `redrive_ms` becomes `now_ms`, and `signal` is journaled, not committed. Raises
        `ConflictError` if the execution is no longer at `expected_version`, and
        `ExecutionNotRedrivableError` if its status does not allow it; nothing is written then.
        """
        ...

    # --- history ----------------------------------------------------------------------------

    def history(
        self, arn: str, *, after_id: int = 0, limit: int | None = None, reverse: bool = False
    ) -> list[HistoryEvent]:
        """A page of the history, ordered by event id (descending if `reverse`).

        `after_id` is the last id the caller has seen in that order; 0 starts from the
        beginning (the newest event if `reverse`).
        """
        ...

    def event_count(self, arn: str) -> int: ...

    # --- outbox and inbox -------------------------------------------------------------------

    def pending_commands(self, arn: str | None = None) -> list[tuple[str, Command]]:
        """(execution ARN, command) for every command still owed, oldest first; of one execution if `arn`."""
        ...

    def deliver(self, arn: str, signal: Signal) -> int:
        """Leave a signal for the execution's next step; returns its inbox id.

        Raises `ExecutionClosedError` if the execution has ended.
        """
        ...

    def inbox(self, arn: str | None = None) -> list[InboxSignal]:
        """Delivered signals not yet consumed by a commit, oldest first; of one execution if `arn`."""
        ...

    def close(self) -> None:
        """Release the store's resources. Idempotent."""
        ...
