from __future__ import annotations

import dataclasses
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.core.messages import TimerFired
from podium.store import sqlite as sqlite_store
from podium.store.base import Store
from podium.store.codec import signal_text
from podium.store.errors import ConflictError
from podium.store.records import StepCommit
from podium.store.schema import migrations, statements
from podium.store.sqlite import SQLiteStore

from .contract import FirstStepContract, StoreContract, event, execution, machine, start, task

REPO = Path(__file__).resolve().parents[2]


class TestSqliteStore(StoreContract, FirstStepContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = SQLiteStore(tmp_path / "podium.db")
        yield store
        store.close()

    def reopen(self, store: Store) -> Store:
        assert isinstance(store, SQLiteStore)
        store.close()
        return SQLiteStore(store.path)


def pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


@pytest.mark.parametrize(("mode", "level"), [("full", 2), ("normal", 1)])
def test_connection_settings(tmp_path: Path, mode: str, level: int) -> None:
    store = SQLiteStore(tmp_path / "p.db", synchronous=mode, busy_timeout_ms=1234)  # type: ignore[arg-type]
    try:
        conn = store._conn
        assert conn is not None
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == level
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
        # 2 = MEMORY: the savepoint of each write of a group keeps its sub-journal in memory,
        # not in a temporary file created, written and deleted for every transaction.
        assert conn.execute("PRAGMA temp_store").fetchone()[0] == 2
    finally:
        store.close()


def test_synchronous_must_be_full_or_normal(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SQLiteStore(tmp_path / "p.db", synchronous="off")  # type: ignore[arg-type]


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    SQLiteStore(path).close()
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [m.version for m in migrations("sqlite")]
    assert versions[0] == 1


def test_migration_2_keeps_a_version_1_database(tmp_path: Path) -> None:
    """Tags move to their own table; the start of an execution still at version 0 is uncommitted."""
    path = tmp_path / "v1.db"
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_ms BIGINT NOT NULL)"
        )
        for statement in statements(migrations("sqlite")[0].sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (1, 0)")
        old = machine()
        conn.execute(
            "INSERT INTO state_machines VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', NULL, 'r1', ?)",
            (
                old.arn,
                old.name,
                old.definition,
                old.type,
                old.role_arn,
                old.created_ms,
                '[["b","2"],["a","1"]]',
            ),
        )
        for name, version in (("fresh", 0), ("moving", 2)):
            record = execution(name)
            cursor = conn.execute(
                "INSERT INTO executions (arn, name, state_machine_arn, definition, status, input, start_ms,"
                " version) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?)",
                (record.arn, name, record.state_machine_arn, record.definition, record.input, 1, version),
            )
            conn.execute(
                "INSERT INTO journal (execution_id, signal) VALUES (?, ?)",
                (cursor.lastrowid, signal_text(start(record))),
            )
    store = SQLiteStore(path)
    try:
        assert store.get_state_machine(old.arn) == old
        assert list(store.list_tags(old.arn).items()) == [("b", "2"), ("a", "1")]
        fresh, moving = execution("fresh"), execution("moving")
        assert store.journal_entries(fresh.arn) == [(start(fresh), False)]
        assert store.journal_entries(moving.arn) == [(start(moving), True)]
        record = store.get_execution(moving.arn)
        assert record is not None
        assert (record.type, record.redrive_ms, record.state_machine_version_arn) == ("STANDARD", None, None)
    finally:
        store.close()


def test_migration_3_keeps_each_definition_once_and_every_execution_its_own(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    old_text = execution().definition
    new_text = '{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}'
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_ms BIGINT NOT NULL)"
        )
        for migration in migrations("sqlite")[:2]:
            for statement in statements(migration.sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, 0)", (migration.version,))
        for name, text in (("a", old_text), ("b", new_text), ("c", old_text)):
            record = execution(name, definition=text)
            conn.execute(
                "INSERT INTO executions (arn, name, state_machine_arn, definition, status, input, start_ms,"
                " version) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, 1)",
                (record.arn, name, record.state_machine_arn, text, record.input, 1),
            )
    store = SQLiteStore(path)
    try:
        texts = {}
        for name in "abc":
            record = store.get_execution(execution(name).arn)
            assert record is not None
            texts[name] = record.definition
        assert texts == {"a": old_text, "b": new_text, "c": old_text}
        # A new execution of a definition already kept points at the same row.
        created, _ = store.create_execution(execution("d", definition=new_text), start(execution("d")))
        assert created.definition == new_text
        listed = store.list_executions()
        assert [(r.name, r.definition) for r in listed] == [
            ("d", new_text),
            ("c", old_text),
            ("b", new_text),
            ("a", old_text),
        ]
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        kept = conn.execute("SELECT text FROM definitions ORDER BY id").fetchall()
        assert kept == [(old_text,), (new_text,)]
        assert conn.execute("SELECT DISTINCT definition FROM executions").fetchall() == [("",)]
        rows = conn.execute("SELECT name, definition_id FROM executions ORDER BY id").fetchall()
        assert rows == [("a", 1), ("b", 2), ("c", 1), ("d", 2)]


def test_statements_split_on_semicolons_outside_strings_and_comments() -> None:
    sql = (
        "-- a comment; still a comment\nCREATE TABLE t (x TEXT DEFAULT 'a;b');\n\n"
        "INSERT INTO t VALUES ('c');\n-- trailing\n"
    )
    assert statements(sql) == [
        "-- a comment; still a comment\nCREATE TABLE t (x TEXT DEFAULT 'a;b');",
        "INSERT INTO t VALUES ('c');",
    ]
    with pytest.raises(ValueError):
        statements("CREATE TABLE t (x TEXT)")


def test_two_processes_sharing_a_file_are_kept_apart_by_the_version(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    one, two = SQLiteStore(path), SQLiteStore(path)
    try:
        record = execution()
        one.create_execution(record, start(record))
        assert two.create_execution(record, start(record)) == (record, False)
        one.commit(record.arn, 0, events=[event(1)])
        with pytest.raises(ConflictError):
            two.commit(record.arn, 0, events=[event(1)])
        assert two.commit(record.arn, 1, events=[event(2)]) == 2
        assert [e.id for e in one.history(record.arn)] == [1, 2]
    finally:
        one.close()
        two.close()


# A process that commits steps until it is killed: step n journals TimerFired(w{n}), appends event
# n + 1 and swaps command t{n-1} for t{n}. It prints the version after each commit returns.
CHILD = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, {repo!r})
    from podium.core.messages import TimerFired
    from podium.store.sqlite import SQLiteStore
    from tests.store.contract import event, execution, start, task

    store = SQLiteStore({path!r}, synchronous={mode!r})
    record = execution("crash")
    store.create_execution(record, start(record))
    version = 0
    while True:
        version = store.commit(
            record.arn,
            version,
            signals=[TimerFired(now_ms=version, timer_id=f"w{{version}}")],
            events=[event(version + 1)],
            new_commands=[task(f"t{{version}}")],
            retired=[f"t{{version - 1}}"],
        )
        print(version, flush=True)
        if version == {exit_at}:
            os._exit(0)  # no close(), no atexit: as abrupt as a crash, short of the kernel's kill
    """
)


@pytest.mark.parametrize(
    ("how", "mode"), [("SIGKILL", "full"), ("SIGKILL", "normal"), ("os._exit", "full")], ids=str
)
def test_every_committed_step_survives_a_killed_process(tmp_path: Path, how: str, mode: str) -> None:
    path = tmp_path / "crash.db"
    exit_at = 150 if how == "os._exit" else -1
    code = CHILD.format(repo=str(REPO), path=str(path), mode=mode, exit_at=exit_at)
    acknowledged = 0
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged = int(line)
            if how == "SIGKILL" and acknowledged >= 150:
                child.send_signal(signal.SIGKILL)  # mid-step, most likely: the child never pauses
                break
        child.wait(timeout=30)
    assert child.returncode == (-signal.SIGKILL if how == "SIGKILL" else 0)
    assert acknowledged >= 150

    store = SQLiteStore(path)
    try:
        record = store.get_execution(execution("crash").arn)
        assert record is not None
        committed = record.version
        # Nothing acknowledged is lost, and what is there is whole steps only.
        assert committed >= acknowledged
        journal = store.journal(record.arn)
        assert journal[0] == start(execution("crash"))
        assert journal[1:] == [TimerFired(now_ms=v, timer_id=f"w{v}") for v in range(committed)]
        assert [e.id for e in store.history(record.arn)] == list(range(1, committed + 1))
        assert store.pending_commands() == [(record.arn, task(f"t{committed - 1}"))]
        assert store.commit(record.arn, committed, events=[event(committed + 1)]) == committed + 1
    finally:
        store.close()


def test_concurrent_starts_and_steps_are_grouped_and_each_lands_once(tmp_path: Path) -> None:
    """Eight threads start executions (four of them under one shared name) and commit steps at
    once: the writes share COMMITs, every one lands, and the shared name is created once."""
    import threading

    store = SQLiteStore(tmp_path / "podium.db")
    barrier = threading.Barrier(8)
    created: list[bool] = []
    conflicts: list[ConflictError] = []

    def worker(index: int) -> None:
        barrier.wait()
        for n in range(25):
            record = execution(f"run-{index}-{n}")
            store.create_execution(record, start(record))
            store.commit(record.arn, 0, signals=[TimerFired(1, "t")], events=[event(1)])
            try:  # a stale version, in the middle of other threads' good writes
                store.commit(record.arn, 0, events=[event(2)])
            except ConflictError as exc:
                conflicts.append(exc)
        shared = execution("shared")
        created.append(store.create_execution(shared, start(shared))[1])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert sorted(created) == [False] * 7 + [True]
        assert len(conflicts) == 8 * 25
        for index in range(8):
            for n in range(25):
                arn = execution(f"run-{index}-{n}").arn
                assert [e.id for e in store.history(arn)] == [1]
                record = store.get_execution(arn)
                assert record is not None and record.version == 1
        assert store._group.writes == 8 * 25 * 3 + 8
        assert store._group.transactions < store._group.writes
    finally:
        store.close()


def test_steps_committed_together_share_one_transaction(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "podium.db")
    try:
        records = [execution(f"run-{n}") for n in range(5)]
        for record in records:
            store.create_execution(record, start(record))
        before = store._group.transactions
        steps = [StepCommit(record.arn, 0, events=[event(1)]) for record in records]
        steps.append(StepCommit(records[0].arn, 0, events=[event(2)]))  # stale: refused alone
        results = store.commit_steps(steps)
        assert results[:5] == [None] * 5 and isinstance(results[5], ConflictError)
        assert store._group.transactions == before + 1
        assert all([e.id for e in store.history(record.arn)] == [1] for record in records)
    finally:
        store.close()


def test_state_machine_reads_are_kept_briefly_and_this_stores_changes_show_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "MACHINE_CACHE_SECONDS", 0.3)
    path = tmp_path / "podium.db"
    ours, theirs = SQLiteStore(path), SQLiteStore(path)  # theirs: another process on the file
    try:
        first = machine()
        ours.put_state_machine(first)
        assert ours.get_state_machine(first.arn) == first
        changed = dataclasses.replace(first, definition='{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}')
        ours.put_state_machine(changed)
        assert ours.get_state_machine(first.arn) == changed  # our own update, at once
        theirs.put_state_machine(first)
        assert ours.get_state_machine(first.arn) == changed  # theirs: not yet...
        time.sleep(0.35)
        assert ours.get_state_machine(first.arn) == first  # ...but once the kept read expired
        assert ours.delete_state_machine(first.arn)
        assert ours.get_state_machine(first.arn) is None  # our own delete, at once
        theirs.put_state_machine(first)
        assert ours.get_state_machine(first.arn) == first  # a machine not found is never kept
    finally:
        ours.close()
        theirs.close()
