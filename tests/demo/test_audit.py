"""The checks are real: a ledger tampered with after a good run makes `podium demo --verify`
(the same audit as --check) fail, naming what is wrong; the untouched run passes."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from podium.cli import main
from tests.demo.conftest import DemoRun


@pytest.fixture
def copy(local_run: DemoRun, tmp_path: Path) -> Path:
    assert local_run.returncode == 0, local_run.explain()
    target = tmp_path / "run"
    # The ledgers are the copy's; demo.json still names the run's database, read-only here.
    shutil.copytree(local_run.run_dir, target, ignore=shutil.ignore_patterns("podium.db*"))
    return target


def verify(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["demo", "--verify", str(run_dir)])
    return code, capsys.readouterr().out


def ledger(run_dir: Path, service: str) -> sqlite3.Connection:
    return sqlite3.connect(run_dir / "ledgers" / f"{service}.db", isolation_level=None)


def tamper(run_dir: Path, service: str, change: Callable[[sqlite3.Connection], None]) -> None:
    db = ledger(run_dir, service)
    try:
        change(db)
    finally:
        db.close()


def test_the_untouched_run_passes(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = verify(copy, capsys)
    assert code == 0, out
    assert "balanced" in out


def test_a_hold_of_a_failed_payment_left_held(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def unvoid(db: sqlite3.Connection) -> None:
        (payment,) = db.execute("SELECT payment_id FROM holds WHERE status = 'voided' LIMIT 1").fetchone()
        db.execute("UPDATE holds SET status = 'held' WHERE payment_id = ?", (payment,))

    tamper(copy, "payment-auth", unvoid)
    code, out = verify(copy, capsys)
    assert code == 1
    assert "was never voided" in out
    assert "do not balance" in out


def test_a_step_applied_twice_for_one_token(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def capture_again(db: sqlite3.Connection) -> None:
        token, payment = db.execute(
            "SELECT token, payment_id FROM applied WHERE step = 'capture' LIMIT 1"
        ).fetchone()
        db.execute("INSERT INTO applied SELECT * FROM applied WHERE token = ?", (token,))
        db.execute(
            "INSERT INTO entries SELECT 'txn_again', payment_id, authorization_id, kind, amount, posted_ms"
            " FROM entries WHERE payment_id = ? AND kind = 'capture'",
            (payment,),
        )

    tamper(copy, "transaction", capture_again)
    code, out = verify(copy, capsys)
    assert code == 1
    assert "capture applied 2 times for one task token" in out
    assert "captured 2 times" in out


def test_a_capture_of_a_failed_payment_never_reversed(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    auth = ledger(copy, "payment-auth")
    (payment, amount) = auth.execute(
        "SELECT payment_id, amount FROM holds WHERE status = 'voided' LIMIT 1"
    ).fetchone()
    auth.close()

    def late_capture(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO entries VALUES ('txn_late', ?, NULL, 'capture', ?, 0)",
            (payment, amount),
        )

    tamper(copy, "transaction", late_capture)
    code, out = verify(copy, capsys)
    assert code == 1
    assert f"{payment}: FAILED but" in out and "never reversed" in out


def test_a_step_without_its_done_mark(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tamper(
        copy,
        "risk",
        lambda db: db.execute(
            "DELETE FROM podium_ledger WHERE rowid = (SELECT min(rowid) FROM podium_ledger)"
        ),
    )
    code, out = verify(copy, capsys)
    assert code == 1
    assert "risk: 1 step(s) applied without their done mark" in out
