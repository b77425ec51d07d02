"""The SQLite Store: one file, the embedded default.

Writes go through one connection behind a lock: SQLite takes one writer at a time anyway, so
a writer connection per thread would only trade the lock for SQLITE_BUSY retries. Steps and
new executions, the writes under load, are group-committed (store.group_commit): concurrent
ones share a transaction and its fsync. Reads take a connection of their own from a small
pool: in WAL mode a reader sees the last commit and never waits for a writer, so reads do not
queue up behind a commit's fsync. With synchronous=FULL a commit costs one fsync of the WAL;
"normal" skips it: still safe from a killed process, not from a power cut. busy_timeout
covers other processes on the same file.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from podium.core.history import HistoryEvent
from podium.core.messages import Command, Signal
from podium.store.base import Created
from podium.store.codec import (
    command_of,
    command_text,
    details_text,
    event_of,
    routing_of,
    routing_text,
    signal_of,
    signal_text,
)
from podium.store.errors import (
    ConflictError,
    DuplicateIdError,
    ExecutionClosedError,
    ExecutionDoesNotExistError,
    ExecutionNotRedrivableError,
    StoreClosedError,
    StoreError,
)
from podium.store.group_commit import GroupCommit
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
from podium.store.schema import migrate_sqlite

Synchronous = Literal["full", "normal"]
MACHINE_CACHE_SECONDS = 1.0  # how long a state machine read is kept (get_state_machine)

# Column names are the records' field names, so that a row becomes a record by zip().
_MACHINE_FIELDS = (
    "arn",
    "name",
    "definition",
    "type",
    "role_arn",
    "created_ms",
    "updated_ms",
    "status",
    "description",
    "revision_id",
    "logging_configuration",
    "tracing_configuration",
    "versions_published",
)
_EXECUTION_FIELDS = (
    "arn",
    "name",
    "state_machine_arn",
    "definition",
    "status",
    "input",
    "output",
    "error",
    "cause",
    "start_ms",
    "stop_ms",
    "version",
    "redrive_count",
    "redrive_ms",
    "state_machine_version_arn",
    "state_machine_alias_arn",
    "type",
)
_VERSION_FIELDS = (
    "arn",
    "state_machine_arn",
    "version",
    "definition",
    "role_arn",
    "type",
    "description",
    "revision_id",
    "created_ms",
)
_ALIAS_FIELDS = ("arn", "state_machine_arn", "name", "description", "routing", "created_ms", "updated_ms")
_ACTIVITY_FIELDS = ("arn", "name", "created_ms")
_MACHINE_COLUMNS = ", ".join(_MACHINE_FIELDS)
_EXECUTION_COLUMNS = ", ".join(_EXECUTION_FIELDS)
# An execution's row names its definition by id (schema version 3): read, it is the text.
_EXECUTION_SELECT = ", ".join(
    "(SELECT d.text FROM definitions AS d WHERE d.id = executions.definition_id) AS definition"
    if name == "definition"
    else name
    for name in _EXECUTION_FIELDS
)
_VERSION_COLUMNS = ", ".join(_VERSION_FIELDS)
_ALIAS_COLUMNS = ", ".join(_ALIAS_FIELDS)
_ACTIVITY_COLUMNS = ", ".join(_ACTIVITY_FIELDS)
_EVENT_COLUMNS = "event_id, previous_event_id, timestamp, type, details"

# The version guard, the liveness check and finding the execution's row in one statement.
_ADVANCE = (
    "UPDATE executions SET version = version + 1"
    " WHERE arn = ? AND version = ? AND status = 'RUNNING' RETURNING id"
)
_CLOSE = (
    "UPDATE executions SET version = version + 1, status = ?, output = ?, error = ?, cause = ?, stop_ms = ?"
    " WHERE arn = ? AND version = ? AND status = 'RUNNING' RETURNING id"
)
_REOPEN = (
    "UPDATE executions SET version = version + 1, status = 'RUNNING', output = NULL, error = NULL,"
    " cause = NULL, stop_ms = NULL, redrive_count = redrive_count + 1, redrive_ms = ?"
    " WHERE arn = ? AND version = ? AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED') RETURNING id"
)


def _placeholders(fields: Sequence[str]) -> str:
    return ", ".join("?" * len(fields))


def _upsert(table: str, fields: Sequence[str]) -> str:
    """INSERT, or UPDATE every column but the ARN when the ARN is taken."""
    updates = ", ".join(f"{name} = excluded.{name}" for name in fields if name != "arn")
    return (
        f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({_placeholders(fields)})"
        f" ON CONFLICT (arn) DO UPDATE SET {updates}"
    )


_PUT_MACHINE = _upsert("state_machines", _MACHINE_FIELDS)
_PUT_VERSION = _upsert("state_machine_versions", _VERSION_FIELDS)
_PUT_ALIAS = _upsert("state_machine_aliases", _ALIAS_FIELDS)
_PUT_ACTIVITY = _upsert("activities", _ACTIVITY_FIELDS)
_INSERT_EXECUTION = (
    f"INSERT INTO executions ({_EXECUTION_COLUMNS}, definition_id)"
    f" VALUES ({_placeholders(_EXECUTION_FIELDS)}, ?) ON CONFLICT DO NOTHING RETURNING id"
)


def _machine(row: Any) -> StateMachineRecord:
    return StateMachineRecord(**dict(zip(_MACHINE_FIELDS, row, strict=True)))


def _execution(row: Any) -> ExecutionRecord:
    return ExecutionRecord(**dict(zip(_EXECUTION_FIELDS, row, strict=True)))


def _version(row: Any) -> StateMachineVersionRecord:
    return StateMachineVersionRecord(**dict(zip(_VERSION_FIELDS, row, strict=True)))


def _alias(row: Any) -> AliasRecord:
    fields = dict(zip(_ALIAS_FIELDS, row, strict=True))
    fields["routing"] = routing_of(fields["routing"])
    return AliasRecord(**fields)


def _activity(row: Any) -> ActivityRecord:
    return ActivityRecord(**dict(zip(_ACTIVITY_FIELDS, row, strict=True)))


def _values(record: Any, fields: Sequence[str]) -> tuple[Any, ...]:
    return tuple(getattr(record, name) for name in fields)


class SQLiteStore:
    """A Store in one SQLite file (created, and migrated to the newest schema, on open)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "full",
        busy_timeout_ms: int = 5000,
    ) -> None:
        if synchronous not in ("full", "normal"):
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self.path = Path(path)
        # isolation_level=None: we write BEGIN IMMEDIATE / COMMIT ourselves, so that a step
        # takes the write lock up front instead of upgrading a read lock (and deadlocking).
        conn = sqlite3.connect(
            self.path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode != "wal":
                raise StoreError(f"{self.path}: SQLite would not enable WAL (journal_mode={mode})")
            conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            conn.execute("PRAGMA foreign_keys = ON")
            # The SAVEPOINT around each write of a group commit keeps a sub-journal of the
            # pages it changes; past 64 KiB SQLite moves it to a temporary file, created,
            # written and deleted in every transaction. In memory it is a copy of the pages.
            conn.execute("PRAGMA temp_store = MEMORY")
            migrate_sqlite(conn)
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()
        self._busy_timeout_s = busy_timeout_ms / 1000
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._group = GroupCommit(self._lock, self._writer)
        self._machines: dict[str, tuple[StateMachineRecord, float]] = {}  # arn -> (record, until)
        self._machine_generation = 0  # counts this store's changes to state machines
        self._machines_lock = threading.Lock()

    # --- plumbing ---------------------------------------------------------------------------

    def _writer(self) -> sqlite3.Connection:
        """The write connection; the caller holds self._lock."""
        if self._conn is None:
            raise StoreClosedError()
        return self._conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A read connection of the pool (each statement sees the last commit)."""
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._open_reader()
        try:
            yield conn
        finally:
            if conn.in_transaction:  # not left by our reads; never hand a snapshot on
                conn.rollback()
            if self._conn is None:  # closed meanwhile
                conn.close()
            else:
                self._readers.put(conn)

    def _open_reader(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosedError()
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA query_only = ON")
        return conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of the block is committed, or none of it."""
        with self._lock:
            conn = self._writer()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _execution_id(conn: sqlite3.Connection, arn: str) -> int:
        row = conn.execute("SELECT id FROM executions WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise ExecutionDoesNotExistError(arn)
        execution_id: int = row[0]
        return execution_id

    # --- state machines ---------------------------------------------------------------------

    def put_state_machine(self, record: StateMachineRecord) -> None:
        with self._writing() as conn:
            conn.execute(_PUT_MACHINE, _values(record, _MACHINE_FIELDS))
        self._machine_changed(record.arn)

    def get_state_machine(self, arn: str) -> StateMachineRecord | None:
        # Every StartExecution reads its state machine: kept for MACHINE_CACHE_SECONDS. This
        # store's own changes show at once; another process's within that time, as AWS allows
        # ("executions started immediately after UpdateStateMachine may use the previous
        # definition"). Only machines found are kept: a new one is seen at once.
        cached = self._machines.get(arn)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        generation = self._machine_generation
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_MACHINE_COLUMNS} FROM state_machines WHERE arn = ?", (arn,)
            ).fetchone()
        if row is None:
            return None
        record = _machine(row)
        with self._machines_lock:
            if generation == self._machine_generation:  # else a change raced this read: not kept
                self._machines[arn] = (record, now + MACHINE_CACHE_SECONDS)
        return record

    def _machine_changed(self, arn: str) -> None:
        with self._machines_lock:
            self._machine_generation += 1
            self._machines.pop(arn, None)

    def list_state_machines(self) -> list[StateMachineRecord]:
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_MACHINE_COLUMNS} FROM state_machines ORDER BY name, arn"
            ).fetchall()
        return [_machine(row) for row in rows]

    def delete_state_machine(self, arn: str) -> bool:
        with self._writing() as conn:
            if conn.execute("DELETE FROM state_machines WHERE arn = ?", (arn,)).rowcount == 0:
                return False
            conn.execute("DELETE FROM state_machine_versions WHERE state_machine_arn = ?", (arn,))
            conn.execute("DELETE FROM state_machine_aliases WHERE state_machine_arn = ?", (arn,))
            conn.execute("DELETE FROM tags WHERE resource_arn = ?", (arn,))
        self._machine_changed(arn)
        return True

    # --- versions and aliases ---------------------------------------------------------------

    def put_version(self, record: StateMachineVersionRecord) -> None:
        with self._writing() as conn:
            conn.execute(_PUT_VERSION, _values(record, _VERSION_FIELDS))

    def get_version(self, arn: str) -> StateMachineVersionRecord | None:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM state_machine_versions WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None else _version(row)

    def list_versions(self, state_machine_arn: str) -> list[StateMachineVersionRecord]:
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM state_machine_versions WHERE state_machine_arn = ?"
                " ORDER BY version DESC",
                (state_machine_arn,),
            ).fetchall()
        return [_version(row) for row in rows]

    def delete_version(self, arn: str) -> bool:
        with self._writing() as conn:
            return conn.execute("DELETE FROM state_machine_versions WHERE arn = ?", (arn,)).rowcount > 0

    def put_alias(self, record: AliasRecord) -> None:
        values = _values(record, _ALIAS_FIELDS)
        values = (*values[:4], routing_text(record.routing), *values[5:])
        with self._writing() as conn:
            conn.execute(_PUT_ALIAS, values)

    def get_alias(self, arn: str) -> AliasRecord | None:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_ALIAS_COLUMNS} FROM state_machine_aliases WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None else _alias(row)

    def list_aliases(self, state_machine_arn: str) -> list[AliasRecord]:
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_ALIAS_COLUMNS} FROM state_machine_aliases WHERE state_machine_arn = ?"
                " ORDER BY name, arn",
                (state_machine_arn,),
            ).fetchall()
        return [_alias(row) for row in rows]

    def delete_alias(self, arn: str) -> bool:
        with self._writing() as conn:
            return conn.execute("DELETE FROM state_machine_aliases WHERE arn = ?", (arn,)).rowcount > 0

    # --- activities -------------------------------------------------------------------------

    def put_activity(self, record: ActivityRecord) -> None:
        with self._writing() as conn:
            conn.execute(_PUT_ACTIVITY, _values(record, _ACTIVITY_FIELDS))

    def get_activity(self, arn: str) -> ActivityRecord | None:
        with self._reading() as conn:
            row = conn.execute(f"SELECT {_ACTIVITY_COLUMNS} FROM activities WHERE arn = ?", (arn,)).fetchone()
        return None if row is None else _activity(row)

    def list_activities(self) -> list[ActivityRecord]:
        with self._reading() as conn:
            rows = conn.execute(f"SELECT {_ACTIVITY_COLUMNS} FROM activities ORDER BY name, arn").fetchall()
        return [_activity(row) for row in rows]

    def delete_activity(self, arn: str) -> bool:
        with self._writing() as conn:
            if conn.execute("DELETE FROM activities WHERE arn = ?", (arn,)).rowcount == 0:
                return False
            conn.execute("DELETE FROM tags WHERE resource_arn = ?", (arn,))
        self._machine_changed(arn)
        return True

    # --- tags -------------------------------------------------------------------------------

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        with self._writing() as conn:
            conn.executemany(
                "INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value",
                [(arn, key, value) for key, value in tags.items()],
            )

    def untag_resource(self, arn: str, keys: Sequence[str]) -> None:
        with self._writing() as conn:
            conn.executemany(
                "DELETE FROM tags WHERE resource_arn = ? AND key = ?", [(arn, key) for key in keys]
            )

    def list_tags(self, arn: str) -> dict[str, str]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY rowid", (arn,)
            ).fetchall()
        return dict(rows)

    # --- executions -------------------------------------------------------------------------

    def create_execution(
        self, record: ExecutionRecord, start: Signal, *, first_step: FirstStep | None = None
    ) -> tuple[ExecutionRecord, bool]:
        return self._group.run(self._creation(record, start, first_step))

    def submit_execution(
        self,
        record: ExecutionRecord,
        start: Signal,
        done: Created,
        *,
        first_step: FirstStep | None = None,
    ) -> None:
        self._group.submit(self._creation(record, start, first_step), done)

    def _creation(
        self, record: ExecutionRecord, start: Signal, first_step: FirstStep | None
    ) -> Callable[[sqlite3.Connection], tuple[ExecutionRecord, bool]]:
        """create_execution's write: the encoding done by the caller, the statements by the group."""
        start_text = signal_text(start)
        step = None if first_step is None else _encode_step((), first_step.events, first_step.new_commands)

        # Written as its first step leaves it (version 1, closed if that step ended it): one
        # INSERT instead of an INSERT and the guarded UPDATE of a later step.
        stored = record if first_step is None else _after_step(record, first_step.outcome)

        def write(conn: sqlite3.Connection) -> tuple[ExecutionRecord, bool]:
            # Inserted unless the name or the ARN is taken: the existing execution is read only
            # then (StartExecution's idempotency), not looked for before every start.
            # The row's own `definition` column stays empty: the text is the definitions row's.
            inserted = conn.execute(
                _INSERT_EXECUTION,
                (
                    *_values(dataclasses.replace(stored, definition=""), _EXECUTION_FIELDS),
                    self._definition_id(conn, stored.definition),
                ),
            ).fetchone()
            if inserted is None:
                row = conn.execute(
                    f"SELECT {_EXECUTION_SELECT} FROM executions"
                    " WHERE (state_machine_arn = ? AND name = ?) OR arn = ? LIMIT 1",
                    (record.state_machine_arn, record.name, record.arn),
                ).fetchone()
                return _execution(row), False
            (execution_id,) = inserted
            # The start signal is committed at once when its step is written with it.
            conn.execute(
                "INSERT INTO journal (execution_id, signal, committed) VALUES (?, ?, ?)",
                (execution_id, start_text, int(step is not None)),
            )
            if first_step is not None and step is not None:
                self._write_rows(
                    conn,
                    record.arn,
                    execution_id,
                    step,
                    retired=first_step.retired,
                    consumed_inbox=(),
                    outcome=first_step.outcome,
                    new=True,
                )
            return stored, True

        return write

    @property
    def commit_counts(self) -> tuple[int, int]:
        """(transactions, writes) this store has committed: for benchmarks, writes per fsync."""
        return self._group.transactions, self._group.writes

    @staticmethod
    def _definition_id(conn: sqlite3.Connection, text: str) -> int:
        """The id of the definitions row holding `text`, added if there is none."""
        row = conn.execute("SELECT id FROM definitions WHERE text = ?", (text,)).fetchone()
        if row is None:
            row = conn.execute("INSERT INTO definitions (text) VALUES (?) RETURNING id", (text,)).fetchone()
        return int(row[0])

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        with self._reading() as conn:
            row = conn.execute(f"SELECT {_EXECUTION_SELECT} FROM executions WHERE arn = ?", (arn,)).fetchone()
        return None if row is None else _execution(row)

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
        where: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("state_machine_arn", state_machine_arn),
            ("status", status),
            ("state_machine_version_arn", version_arn),
            ("state_machine_alias_arn", alias_arn),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = f"SELECT {_EXECUTION_SELECT} FROM executions"
        with self._reading() as conn:
            if after_arn is not None:
                where.append("id < ?")
                params.append(self._execution_id(conn, after_arn))
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += " ORDER BY id DESC"
            if limit is not None:
                sql += " LIMIT ?"
                params.append(limit)
            rows = conn.execute(sql, params).fetchall()
        return [_execution(row) for row in rows]

    def unfinished_executions(self) -> list[str]:
        with self._reading() as conn:
            rows = conn.execute("SELECT arn FROM executions WHERE status = 'RUNNING' ORDER BY id").fetchall()
        return [arn for (arn,) in rows]

    # --- steps ------------------------------------------------------------------------------

    def journal(self, arn: str) -> list[Signal]:
        with self._reading() as conn:
            execution_id = self._execution_id(conn, arn)
            rows = conn.execute(
                "SELECT signal FROM journal WHERE execution_id = ? ORDER BY id", (execution_id,)
            ).fetchall()
        return [signal_of(text) for (text,) in rows]

    def journal_entries(self, arn: str) -> list[tuple[Signal, bool]]:
        with self._reading() as conn:
            execution_id = self._execution_id(conn, arn)
            rows = conn.execute(
                "SELECT signal, committed FROM journal WHERE execution_id = ? ORDER BY id", (execution_id,)
            ).fetchall()
        return [(signal_of(text), bool(committed)) for text, committed in rows]

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
        self._group.run(self._step_write(step))
        return expected_version + 1

    def commit_steps(self, steps: Sequence[StepCommit]) -> list[BaseException | None]:
        writes: list[Callable[[sqlite3.Connection], None]] = []
        for step in steps:
            try:
                writes.append(self._step_write(step))
            except Exception as exc:  # a value JSON cannot carry: this step only
                writes.append(_raiser(exc))
        return [error for _value, error in self._group.run_all(writes)]

    def _step_write(self, step: StepCommit) -> Callable[[sqlite3.Connection], None]:
        # Encode before taking the lock: JSON is the slow part of a big step, and an
        # unencodable value then fails before anything is written.
        encoded = _encode_step(step.signals, step.events, step.new_commands)

        def write(conn: sqlite3.Connection) -> None:
            self._write_step(
                conn,
                step.arn,
                step.expected_version,
                encoded,
                retired=step.retired,
                consumed_inbox=step.consumed_inbox,
                outcome=step.outcome,
            )

        return write

    def _write_step(
        self,
        conn: sqlite3.Connection,
        arn: str,
        expected_version: int,
        step: _EncodedStep,
        *,
        retired: Sequence[str],
        consumed_inbox: Sequence[int],
        outcome: ExecutionOutcome | None,
    ) -> None:
        """The body of a commit, inside the caller's transaction."""
        if outcome is None:
            row = conn.execute(_ADVANCE, (arn, expected_version)).fetchone()
        else:
            row = conn.execute(
                _CLOSE,
                (
                    outcome.status,
                    outcome.output,
                    outcome.error,
                    outcome.cause,
                    outcome.stop_ms,
                    arn,
                    expected_version,
                ),
            ).fetchone()
        if row is None:
            raise self._refusal(conn, arn, expected_version)
        (execution_id,) = row
        self._write_rows(
            conn, arn, execution_id, step, retired=retired, consumed_inbox=consumed_inbox, outcome=outcome
        )

    def _write_rows(
        self,
        conn: sqlite3.Connection,
        arn: str,
        execution_id: int,
        step: _EncodedStep,
        *,
        retired: Sequence[str],
        consumed_inbox: Sequence[int],
        outcome: ExecutionOutcome | None,
        new: bool = False,
    ) -> None:
        """A step's rows (journal, history, outbox, inbox) for the execution `execution_id`.
        `new`: it was created in this transaction (no uncommitted journal, outbox or inbox rows
        yet)."""
        signal_texts, event_rows, command_rows = step
        if not new:
            conn.execute(
                "UPDATE journal SET committed = 1 WHERE execution_id = ? AND committed = 0", (execution_id,)
            )
        if signal_texts:
            conn.executemany(
                "INSERT INTO journal (execution_id, signal) VALUES (?, ?)",
                [(execution_id, text) for text in signal_texts],
            )
        if event_rows:
            try:
                conn.executemany(
                    f"INSERT INTO history (execution_id, {_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    [(execution_id, *event_row) for event_row in event_rows],
                )
            except sqlite3.IntegrityError:
                raise DuplicateIdError(arn, f"one of the event ids {[r[0] for r in event_rows]}") from None
        if command_rows:
            try:
                conn.executemany(
                    "INSERT INTO outbox (execution_id, command_id, command) VALUES (?, ?, ?)",
                    [(execution_id, *command_row) for command_row in command_rows],
                )
            except sqlite3.IntegrityError:
                ids = [r[0] for r in command_rows]
                raise DuplicateIdError(arn, f"one of the command ids {ids}") from None
        if retired:
            conn.executemany(
                "DELETE FROM outbox WHERE execution_id = ? AND command_id = ?",
                [(execution_id, command_id) for command_id in retired],
            )
        if consumed_inbox:
            conn.executemany(
                "DELETE FROM inbox WHERE id = ? AND execution_id = ?",
                [(inbox_id, execution_id) for inbox_id in consumed_inbox],
            )
        if outcome is not None:
            if command_rows or not new:
                conn.execute("DELETE FROM outbox WHERE execution_id = ?", (execution_id,))
            if not new:
                conn.execute("DELETE FROM inbox WHERE execution_id = ?", (execution_id,))

    def reopen_execution(self, arn: str, expected_version: int, signal: Signal, *, now_ms: int) -> int:
        text = signal_text(signal)
        with self._writing() as conn:
            row = conn.execute(_REOPEN, (now_ms, arn, expected_version)).fetchone()
            if row is None:
                refusal = self._refusal(conn, arn, expected_version)
                if isinstance(refusal, ExecutionClosedError):
                    raise ExecutionNotRedrivableError(arn, refusal.status)
                raise refusal
            conn.execute(
                "INSERT INTO journal (execution_id, signal, committed) VALUES (?, ?, 0)", (row[0], text)
            )
        return expected_version + 1

    @staticmethod
    def _refusal(conn: sqlite3.Connection, arn: str, expected_version: int) -> StoreError:
        """Why the guarded UPDATE matched no row."""
        row = conn.execute("SELECT version, status FROM executions WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            return ExecutionDoesNotExistError(arn)
        version, status = row
        if version != expected_version:
            return ConflictError(arn, expected_version, version)
        return ExecutionClosedError(arn, status)

    # --- history ----------------------------------------------------------------------------

    def history(
        self, arn: str, *, after_id: int = 0, limit: int | None = None, reverse: bool = False
    ) -> list[HistoryEvent]:
        params: list[Any] = []
        if reverse:
            sql = f"SELECT {_EVENT_COLUMNS} FROM history WHERE execution_id = ?"
            if after_id:
                sql += " AND event_id < ?"
                params.append(after_id)
            sql += " ORDER BY event_id DESC"
        else:
            sql = f"SELECT {_EVENT_COLUMNS} FROM history WHERE execution_id = ? AND event_id > ?"
            params.append(after_id)
            sql += " ORDER BY event_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._reading() as conn:
            execution_id = self._execution_id(conn, arn)
            rows = conn.execute(sql, [execution_id, *params]).fetchall()
        return [event_of(*row) for row in rows]

    def event_count(self, arn: str) -> int:
        with self._reading() as conn:
            execution_id = self._execution_id(conn, arn)
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM history WHERE execution_id = ?", (execution_id,)
            ).fetchone()
        return int(count)

    # --- outbox and inbox -------------------------------------------------------------------

    def pending_commands(self, arn: str | None = None) -> list[tuple[str, Command]]:
        with self._reading() as conn:
            if arn is None:
                rows = conn.execute(
                    "SELECT e.arn, o.command FROM outbox o JOIN executions e ON e.id = o.execution_id"
                    " ORDER BY o.id"
                ).fetchall()
            else:
                execution_id = self._execution_id(conn, arn)
                rows = [
                    (arn, text)
                    for (text,) in conn.execute(
                        "SELECT command FROM outbox WHERE execution_id = ? ORDER BY id", (execution_id,)
                    )
                ]
        return [(owner, command_of(text)) for owner, text in rows]

    def deliver(self, arn: str, signal: Signal) -> int:
        text = signal_text(signal)
        with self._writing() as conn:
            row = conn.execute("SELECT id, status FROM executions WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                raise ExecutionDoesNotExistError(arn)
            execution_id, status = row
            if status != "RUNNING":
                raise ExecutionClosedError(arn, status)
            cursor = conn.execute(
                "INSERT INTO inbox (execution_id, signal) VALUES (?, ?)", (execution_id, text)
            )
            inbox_id = cursor.lastrowid
        assert inbox_id is not None
        return inbox_id

    def inbox(self, arn: str | None = None) -> list[InboxSignal]:
        with self._reading() as conn:
            if arn is None:
                rows = conn.execute(
                    "SELECT i.id, e.arn, i.signal FROM inbox i JOIN executions e ON e.id = i.execution_id"
                    " ORDER BY i.id"
                ).fetchall()
            else:
                execution_id = self._execution_id(conn, arn)
                rows = [
                    (inbox_id, arn, text)
                    for inbox_id, text in conn.execute(
                        "SELECT id, signal FROM inbox WHERE execution_id = ? ORDER BY id", (execution_id,)
                    )
                ]
        return [InboxSignal(inbox_id, owner, signal_of(text)) for inbox_id, owner, text in rows]

    def close(self) -> None:
        self._group.close()  # the writes handed over already are committed first
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        # Readers in use are closed as they come back (they see _conn is None).
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break


_EncodedStep = tuple[list[str], list[tuple[int, int, float, str, str | None]], list[tuple[str, str]]]


def _encode_step(
    signals: Sequence[Signal], events: Sequence[HistoryEvent], new_commands: Sequence[Command]
) -> _EncodedStep:
    signal_texts = [signal_text(signal) for signal in signals]
    event_rows = [
        (event.id, event.previous_event_id, event.timestamp, event.type, details_text(event))
        for event in events
    ]
    command_rows = [(command.command_id, command_text(command)) for command in new_commands]
    return signal_texts, event_rows, command_rows


def _raiser(error: BaseException) -> Callable[[sqlite3.Connection], None]:
    def write(conn: sqlite3.Connection) -> None:
        raise error

    return write


def _after_step(record: ExecutionRecord, outcome: ExecutionOutcome | None) -> ExecutionRecord:
    """The record as a first step leaves it (version 1; closed if that step ended it)."""
    if outcome is None:
        return dataclasses.replace(record, version=record.version + 1)
    return dataclasses.replace(
        record,
        version=record.version + 1,
        status=outcome.status,
        output=outcome.output,
        error=outcome.error,
        cause=outcome.cause,
        stop_ms=outcome.stop_ms,
    )
