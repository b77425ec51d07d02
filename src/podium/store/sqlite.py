"""The SQLite Store: one file, the embedded default.

One connection behind a lock. SQLite takes one writer at a time anyway, so a connection per
thread would only trade the lock for SQLITE_BUSY retries; with one connection a commit never
waits on the busy handler (other processes still can, hence busy_timeout). WAL lets readers
in other processes proceed during a commit, and with synchronous=FULL a commit costs one
fsync of the WAL. "normal" skips that fsync: still safe from a killed process, not from a
power cut.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from podium.core.history import HistoryEvent
from podium.core.messages import Command, Signal
from podium.store.codec import (
    command_of,
    command_text,
    details_text,
    event_of,
    signal_of,
    signal_text,
    tags_of,
    tags_text,
)
from podium.store.errors import (
    ConflictError,
    DuplicateIdError,
    ExecutionClosedError,
    ExecutionDoesNotExistError,
    StoreClosedError,
    StoreError,
)
from podium.store.records import (
    ExecutionOutcome,
    ExecutionRecord,
    ExecutionStatus,
    InboxSignal,
    StateMachineRecord,
)
from podium.store.schema import migrate_sqlite

Synchronous = Literal["full", "normal"]

_MACHINE_COLUMNS = "arn, name, definition, type, role_arn, created_ms, status, description, revision_id, tags"
_EXECUTION_COLUMNS = (
    "arn, name, state_machine_arn, definition, status, input, output, error, cause,"
    " start_ms, stop_ms, version, redrive_count"
)
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


def _machine(row: Any) -> StateMachineRecord:
    arn, name, definition, type_, role_arn, created_ms, status, description, revision_id, tags = row
    return StateMachineRecord(
        arn=arn,
        name=name,
        definition=definition,
        type=type_,
        role_arn=role_arn,
        created_ms=created_ms,
        status=status,
        description=description,
        revision_id=revision_id,
        tags=tags_of(tags),
    )


def _execution(row: Any) -> ExecutionRecord:
    (
        arn,
        name,
        machine,
        definition,
        status,
        input_,
        output,
        error,
        cause,
        start_ms,
        stop_ms,
        version,
        redrives,
    ) = row
    return ExecutionRecord(
        arn=arn,
        name=name,
        state_machine_arn=machine,
        definition=definition,
        status=status,
        input=input_,
        output=output,
        error=error,
        cause=cause,
        start_ms=start_ms,
        stop_ms=stop_ms,
        version=version,
        redrive_count=redrives,
    )


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
            migrate_sqlite(conn)
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()

    # --- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreClosedError()
            yield self._conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction: all of the block is committed, or none of it."""
        with self._reading() as conn:
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
            conn.execute(
                f"INSERT INTO state_machines ({_MACHINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (arn) DO UPDATE SET name = excluded.name, definition = excluded.definition,"
                " type = excluded.type, role_arn = excluded.role_arn, created_ms = excluded.created_ms,"
                " status = excluded.status, description = excluded.description,"
                " revision_id = excluded.revision_id, tags = excluded.tags",
                (
                    record.arn,
                    record.name,
                    record.definition,
                    record.type,
                    record.role_arn,
                    record.created_ms,
                    record.status,
                    record.description,
                    record.revision_id,
                    tags_text(record.tags),
                ),
            )

    def get_state_machine(self, arn: str) -> StateMachineRecord | None:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_MACHINE_COLUMNS} FROM state_machines WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None else _machine(row)

    def list_state_machines(self) -> list[StateMachineRecord]:
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT {_MACHINE_COLUMNS} FROM state_machines ORDER BY name, arn"
            ).fetchall()
        return [_machine(row) for row in rows]

    def delete_state_machine(self, arn: str) -> bool:
        with self._writing() as conn:
            return conn.execute("DELETE FROM state_machines WHERE arn = ?", (arn,)).rowcount > 0

    # --- executions -------------------------------------------------------------------------

    def create_execution(self, record: ExecutionRecord, start: Signal) -> tuple[ExecutionRecord, bool]:
        start_text = signal_text(start)
        with self._writing() as conn:
            row = conn.execute(
                f"SELECT {_EXECUTION_COLUMNS} FROM executions"
                " WHERE (state_machine_arn = ? AND name = ?) OR arn = ? LIMIT 1",
                (record.state_machine_arn, record.name, record.arn),
            ).fetchone()
            if row is not None:
                return _execution(row), False
            cursor = conn.execute(
                f"INSERT INTO executions ({_EXECUTION_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                (
                    record.arn,
                    record.name,
                    record.state_machine_arn,
                    record.definition,
                    record.status,
                    record.input,
                    record.output,
                    record.error,
                    record.cause,
                    record.start_ms,
                    record.stop_ms,
                    record.version,
                    record.redrive_count,
                ),
            )
            conn.execute(
                "INSERT INTO journal (execution_id, signal) VALUES (?, ?)", (cursor.lastrowid, start_text)
            )
        return record, True

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        with self._reading() as conn:
            row = conn.execute(
                f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None else _execution(row)

    def list_executions(
        self,
        state_machine_arn: str | None = None,
        status: ExecutionStatus | None = None,
        *,
        limit: int | None = None,
        after_arn: str | None = None,
    ) -> list[ExecutionRecord]:
        where: list[str] = []
        params: list[Any] = []
        if state_machine_arn is not None:
            where.append("state_machine_arn = ?")
            params.append(state_machine_arn)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {_EXECUTION_COLUMNS} FROM executions"
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
        # Encode before taking the lock: JSON is the slow part of a big step, and an
        # unencodable value then fails before anything is written.
        signal_texts = [signal_text(signal) for signal in signals]
        event_rows = [
            (event.id, event.previous_event_id, event.timestamp, event.type, details_text(event))
            for event in events
        ]
        command_rows = [(command.command_id, command_text(command)) for command in new_commands]
        with self._writing() as conn:
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
                    raise DuplicateIdError(
                        arn, f"one of the event ids {[r[0] for r in event_rows]}"
                    ) from None
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
                conn.execute("DELETE FROM outbox WHERE execution_id = ?", (execution_id,))
                conn.execute("DELETE FROM inbox WHERE execution_id = ?", (execution_id,))
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
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
