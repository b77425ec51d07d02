"""The in-memory Store: the reference implementation, the test double, and home of EXPRESS executions.

Values are kept by reference, not copied: signals, commands and events are frozen and the
core never mutates the JSON inside them, so copying would only cost time.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from podium.core.history import HistoryEvent
from podium.core.messages import Command, Signal
from podium.store.base import Created
from podium.store.errors import (
    ConflictError,
    DuplicateIdError,
    ExecutionClosedError,
    ExecutionDoesNotExistError,
    ExecutionNotRedrivableError,
    StoreClosedError,
)
from podium.store.records import (
    REDRIVABLE_STATUSES,
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


@dataclass
class _Execution:
    record: ExecutionRecord
    seq: int  # creation order: pages and "oldest first" follow it
    journal: list[Signal]
    # Uncommitted entries are always the journal's tail (a start or a redrive not yet
    # followed by a commit), so one count says which entries are committed.
    committed: int = 0
    events: list[HistoryEvent] = field(default_factory=list)  # sorted by id
    event_ids: set[int] = field(default_factory=set)
    outbox: dict[str, int] = field(default_factory=dict)  # command id -> key in MemoryStore._outbox


def _event_id(event: HistoryEvent) -> int:
    return event.id


class MemoryStore:
    """A Store in dicts behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._machines: dict[str, StateMachineRecord] = {}
        self._versions: dict[str, StateMachineVersionRecord] = {}
        self._aliases: dict[str, AliasRecord] = {}
        self._activities: dict[str, ActivityRecord] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._executions: dict[str, _Execution] = {}
        self._by_name: dict[tuple[str, str], str] = {}
        # Both are keyed by an ever-growing sequence number, so their insertion order is
        # oldest first, as pending_commands() and inbox() promise.
        self._outbox: dict[int, tuple[str, Command]] = {}
        self._inbox: dict[int, InboxSignal] = {}
        self._seq = 0

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError()

    def _execution(self, arn: str) -> _Execution:
        self._check_open()
        execution = self._executions.get(arn)
        if execution is None:
            raise ExecutionDoesNotExistError(arn)
        return execution

    # --- state machines ---------------------------------------------------------------------

    def put_state_machine(self, record: StateMachineRecord) -> None:
        with self._lock:
            self._check_open()
            self._machines[record.arn] = record

    def get_state_machine(self, arn: str) -> StateMachineRecord | None:
        with self._lock:
            self._check_open()
            return self._machines.get(arn)

    def list_state_machines(self) -> list[StateMachineRecord]:
        with self._lock:
            self._check_open()
            return sorted(self._machines.values(), key=lambda record: (record.name, record.arn))

    def delete_state_machine(self, arn: str) -> bool:
        with self._lock:
            self._check_open()
            if self._machines.pop(arn, None) is None:
                return False
            for table in (self._versions, self._aliases):
                for key in [key for key, item in table.items() if item.state_machine_arn == arn]:
                    del table[key]
            self._tags.pop(arn, None)
            return True

    # --- versions and aliases ---------------------------------------------------------------

    def put_version(self, record: StateMachineVersionRecord) -> None:
        with self._lock:
            self._check_open()
            self._versions[record.arn] = record

    def get_version(self, arn: str) -> StateMachineVersionRecord | None:
        with self._lock:
            self._check_open()
            return self._versions.get(arn)

    def list_versions(self, state_machine_arn: str) -> list[StateMachineVersionRecord]:
        with self._lock:
            self._check_open()
            found = [v for v in self._versions.values() if v.state_machine_arn == state_machine_arn]
        return sorted(found, key=lambda record: record.version, reverse=True)

    def delete_version(self, arn: str) -> bool:
        with self._lock:
            self._check_open()
            return self._versions.pop(arn, None) is not None

    def put_alias(self, record: AliasRecord) -> None:
        with self._lock:
            self._check_open()
            self._aliases[record.arn] = record

    def get_alias(self, arn: str) -> AliasRecord | None:
        with self._lock:
            self._check_open()
            return self._aliases.get(arn)

    def list_aliases(self, state_machine_arn: str) -> list[AliasRecord]:
        with self._lock:
            self._check_open()
            found = [a for a in self._aliases.values() if a.state_machine_arn == state_machine_arn]
        return sorted(found, key=lambda record: (record.name, record.arn))

    def delete_alias(self, arn: str) -> bool:
        with self._lock:
            self._check_open()
            return self._aliases.pop(arn, None) is not None

    # --- activities -------------------------------------------------------------------------

    def put_activity(self, record: ActivityRecord) -> None:
        with self._lock:
            self._check_open()
            self._activities[record.arn] = record

    def get_activity(self, arn: str) -> ActivityRecord | None:
        with self._lock:
            self._check_open()
            return self._activities.get(arn)

    def list_activities(self) -> list[ActivityRecord]:
        with self._lock:
            self._check_open()
            return sorted(self._activities.values(), key=lambda record: (record.name, record.arn))

    def delete_activity(self, arn: str) -> bool:
        with self._lock:
            self._check_open()
            if self._activities.pop(arn, None) is None:
                return False
            self._tags.pop(arn, None)
            return True

    # --- tags -------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        with self._lock:
            self._check_open()
            self._tags.setdefault(arn, {}).update(tags)

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        with self._lock:
            self._check_open()
            tags = self._tags.get(arn)
            if tags is None:
                return
            for key in keys:
                tags.pop(key, None)
            if not tags:
                del self._tags[arn]

    def list_tags(self, arn: str) -> dict[str, str]:
        with self._lock:
            self._check_open()
            return dict(self._tags.get(arn, {}))

    # --- executions -------------------------------------------------------------------------

    def create_execution(
        self, record: ExecutionRecord, start: Signal, *, first_step: FirstStep | None = None
    ) -> tuple[ExecutionRecord, bool]:
        with self._lock:
            self._check_open()
            existing = self._by_name.get((record.state_machine_arn, record.name))
            if existing is None and record.arn in self._executions:
                existing = record.arn
            if existing is not None:
                return self._executions[existing].record, False
            self._executions[record.arn] = _Execution(record, self._next_seq(), [start])
            self._by_name[(record.state_machine_arn, record.name)] = record.arn
            if first_step is None:
                return record, True
            self._commit_locked(
                StepCommit(
                    record.arn,
                    0,
                    events=first_step.events,
                    new_commands=first_step.new_commands,
                    retired=first_step.retired,
                    outcome=first_step.outcome,
                )
            )
            return self._executions[record.arn].record, True

    def submit_execution(
        self,
        record: ExecutionRecord,
        start: Signal,
        done: Created,
        *,
        first_step: FirstStep | None = None,
    ) -> None:
        try:
            created = self.create_execution(record, start, first_step=first_step)
        except Exception as exc:
            done(None, exc)
            return
        done(created, None)

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        with self._lock:
            self._check_open()
            execution = self._executions.get(arn)
            return None if execution is None else execution.record

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
        with self._lock:
            before = None if after_arn is None else self._execution(after_arn).seq
            self._check_open()
            matching = [
                execution
                for execution in self._executions.values()
                if (state_machine_arn is None or execution.record.state_machine_arn == state_machine_arn)
                and (status is None or execution.record.status == status)
                and (version_arn is None or execution.record.state_machine_version_arn == version_arn)
                and (alias_arn is None or execution.record.state_machine_alias_arn == alias_arn)
                and (before is None or execution.seq < before)
            ]
        matching.sort(key=lambda execution: execution.seq, reverse=True)
        return [execution.record for execution in matching[:limit]]

    def unfinished_executions(self) -> list[str]:
        with self._lock:
            self._check_open()
            running = [e for e in self._executions.values() if e.record.status == "RUNNING"]
        return [e.record.arn for e in sorted(running, key=lambda e: e.seq)]

    # --- steps ------------------------------------------------------------------------------

    def journal(self, arn: str) -> list[Signal]:
        with self._lock:
            return list(self._execution(arn).journal)

    def journal_entries(self, arn: str) -> list[tuple[Signal, bool]]:
        with self._lock:
            execution = self._execution(arn)
            return [(signal, i < execution.committed) for i, signal in enumerate(execution.journal)]

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
        step = StepCommit(
            arn, expected_version, signals, events, new_commands, retired, consumed_inbox, outcome
        )
        with self._lock:
            return self._commit_locked(step)

    def commit_steps(self, steps: Sequence[StepCommit]) -> list[BaseException | None]:
        results: list[BaseException | None] = []
        with self._lock:
            for step in steps:
                try:
                    self._commit_locked(step)
                except Exception as exc:
                    results.append(exc)
                else:
                    results.append(None)
        return results

    def _commit_locked(self, step: StepCommit) -> int:
        """A commit, with the lock held by the caller."""
        arn, outcome = step.arn, step.outcome
        execution = self._execution(arn)
        record = execution.record
        if record.version != step.expected_version:
            raise ConflictError(arn, step.expected_version, record.version)
        if record.status != "RUNNING":
            raise ExecutionClosedError(arn, record.status)
        self._check_unique(execution, step.events, step.new_commands)

        # Nothing below can fail: the step is written whole.
        execution.journal.extend(step.signals)
        execution.committed = len(execution.journal)
        for event in step.events:
            if execution.events and event.id < execution.events[-1].id:
                bisect.insort(execution.events, event, key=_event_id)
            else:
                execution.events.append(event)
            execution.event_ids.add(event.id)
        for command in step.new_commands:
            key = self._next_seq()
            self._outbox[key] = (arn, command)
            execution.outbox[command.command_id] = key
        for command_id in step.retired:
            retired_key = execution.outbox.pop(command_id, None)
            if retired_key is not None:
                del self._outbox[retired_key]
        for inbox_id in step.consumed_inbox:
            item = self._inbox.get(inbox_id)
            if item is not None and item.execution_arn == arn:
                del self._inbox[inbox_id]

        version = step.expected_version + 1
        if outcome is None:
            execution.record = dataclasses.replace(record, version=version)
        else:
            execution.record = dataclasses.replace(
                record,
                version=version,
                status=outcome.status,
                output=outcome.output,
                error=outcome.error,
                cause=outcome.cause,
                stop_ms=outcome.stop_ms,
            )
            for key in execution.outbox.values():
                del self._outbox[key]
            execution.outbox.clear()
            for inbox_id in [i for i, item in self._inbox.items() if item.execution_arn == arn]:
                del self._inbox[inbox_id]
        return version

    def reopen_execution(self, arn: str, expected_version: int, signal: Signal, *, now_ms: int) -> int:
        with self._lock:
            execution = self._execution(arn)
            record = execution.record
            if record.version != expected_version:
                raise ConflictError(arn, expected_version, record.version)
            if record.status not in REDRIVABLE_STATUSES:
                raise ExecutionNotRedrivableError(arn, record.status)
            execution.journal.append(signal)
            version = expected_version + 1
            execution.record = dataclasses.replace(
                record,
                version=version,
                status="RUNNING",
                output=None,
                error=None,
                cause=None,
                stop_ms=None,
                redrive_count=record.redrive_count + 1,
                redrive_ms=now_ms,
            )
            return version

    @staticmethod
    def _check_unique(
        execution: _Execution, events: Sequence[HistoryEvent], new_commands: Sequence[Command]
    ) -> None:
        arn = execution.record.arn
        event_ids: set[int] = set()
        for event in events:
            if event.id in execution.event_ids or event.id in event_ids:
                raise DuplicateIdError(arn, f"event {event.id}")
            event_ids.add(event.id)
        command_ids: set[str] = set()
        for command in new_commands:
            if command.command_id in execution.outbox or command.command_id in command_ids:
                raise DuplicateIdError(arn, f"command {command.command_id!r}")
            command_ids.add(command.command_id)

    # --- history ----------------------------------------------------------------------------

    def history(
        self, arn: str, *, after_id: int = 0, limit: int | None = None, reverse: bool = False
    ) -> list[HistoryEvent]:
        with self._lock:
            events = self._execution(arn).events
            if not reverse:
                start = bisect.bisect_right(events, after_id, key=_event_id)
                stop = len(events) if limit is None else min(len(events), start + limit)
                return events[start:stop]
            stop = bisect.bisect_left(events, after_id, key=_event_id) if after_id else len(events)
            start = 0 if limit is None else max(0, stop - limit)
            return events[start:stop][::-1]

    def event_count(self, arn: str) -> int:
        with self._lock:
            return len(self._execution(arn).events)

    # --- outbox and inbox -------------------------------------------------------------------

    def pending_commands(self, arn: str | None = None) -> list[tuple[str, Command]]:
        with self._lock:
            if arn is None:
                self._check_open()
                return list(self._outbox.values())
            execution = self._execution(arn)
            return [self._outbox[key] for key in sorted(execution.outbox.values())]

    def deliver(self, arn: str, signal: Signal) -> int:
        with self._lock:
            execution = self._execution(arn)
            if execution.record.status != "RUNNING":
                raise ExecutionClosedError(arn, execution.record.status)
            inbox_id = self._next_seq()
            self._inbox[inbox_id] = InboxSignal(inbox_id, arn, signal)
            return inbox_id

    def inbox(self, arn: str | None = None) -> list[InboxSignal]:
        with self._lock:
            if arn is None:
                self._check_open()
                return list(self._inbox.values())
            self._execution(arn)
            return [item for item in self._inbox.values() if item.execution_arn == arn]

    def close(self) -> None:
        with self._lock:
            self._closed = True
