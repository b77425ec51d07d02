"""The ledger: a step applied at most once per task token, with the service's own writes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from podium.worker import Ledger, TaskError

SCHEMA = "CREATE TABLE IF NOT EXISTS holds (id TEXT PRIMARY KEY, amount INTEGER NOT NULL)"


def holds(ledger: Ledger) -> list[tuple[str, int]]:
    return [tuple(row) for row in ledger.connection().execute("SELECT id, amount FROM holds ORDER BY id")]


def hold(hold_id: str, amount: int, runs: list[str] | None = None) -> Any:
    def step(db: sqlite3.Connection) -> dict[str, Any]:
        if runs is not None:
            runs.append(hold_id)
        db.execute("INSERT INTO holds VALUES (?, ?)", (hold_id, amount))
        return {"authorization_id": hold_id}

    return step


@pytest.fixture
def ledger(tmp_path: Path) -> Any:
    opened = Ledger(tmp_path / "auth.db", schema=SCHEMA)
    yield opened
    opened.close()


def test_a_step_runs_once_per_key_and_its_first_result_is_returned_again(ledger: Ledger) -> None:
    runs: list[str] = []
    first = ledger.apply("token-1", hold("h1", 50, runs))
    again = ledger.apply("token-1", hold("h1-again", 99, runs))  # a redelivery
    assert first == again == {"authorization_id": "h1"}
    assert runs == ["h1"] and holds(ledger) == [("h1", 50)]
    assert ledger.done("token-1") and not ledger.done("token-2") and ledger.count() == 1


def test_a_step_that_raises_writes_nothing_and_marks_nothing(ledger: Ledger) -> None:
    def declined(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO holds VALUES ('partial', 1)")
        raise TaskError("Payment.Declined")

    with pytest.raises(TaskError):
        ledger.apply("token-1", declined)
    assert holds(ledger) == [] and not ledger.done("token-1")
    assert ledger.apply("token-1", hold("h1", 5)) == {"authorization_id": "h1"}  # a later delivery may


def test_concurrent_deliveries_of_one_token_apply_it_once(ledger: Ledger) -> None:
    runs: list[str] = []
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def deliver(n: int) -> None:
        barrier.wait()
        results.append(ledger.apply("token-1", hold(f"h{n}", n, runs)))

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(runs) == 1 and len(holds(ledger)) == 1
    assert all(result == results[0] for result in results) and len(results) == 8


def test_the_marks_survive_a_restart_and_a_second_process_sees_them(tmp_path: Path) -> None:
    path = tmp_path / "auth.db"
    first = Ledger(path, schema=SCHEMA)
    first.apply("token-1", hold("h1", 5))
    replica = Ledger(path, schema=SCHEMA)  # another replica (or the same service, restarted)
    try:
        runs: list[str] = []
        assert replica.apply("token-1", hold("h2", 7, runs)) == {"authorization_id": "h1"}
        assert runs == [] and holds(replica) == [("h1", 5)]
    finally:
        first.close()
        replica.close()


def test_a_result_that_is_not_json_undoes_the_step(ledger: Ledger) -> None:
    def odd(db: sqlite3.Connection) -> object:
        db.execute("INSERT INTO holds VALUES ('h1', 1)")
        return {1, 2}

    with pytest.raises(TypeError):
        ledger.apply("token-1", odd)
    assert holds(ledger) == [] and not ledger.done("token-1")
