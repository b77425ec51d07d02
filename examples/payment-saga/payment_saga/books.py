"""Each service's own ledger: a SQLite file in the run directory, a step at most once per token.

`podium.worker.Ledger` keeps the "done" table (`podium_ledger`: task token -> the result
first returned) and runs a step and its mark in one transaction, so a command delivered
again with the same token (after a crash, a redelivery, a re-send) gets the recorded answer
and changes nothing. Beside the service's own tables, every step also appends a row to
`applied` (token, step, payment), with no uniqueness on purpose: it is the service's account
of what it did, which an auditor (`podium demo --check`) holds against the done table. If
deduplication ever failed, a token would show up twice there.

Replicas of a service share its file: the Ledger's write lock serialises them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from podium.worker import Ledger, TaskContext

RUN_DIR_ENV = "PAYMENT_RUN_DIR"

_APPLIED = """
CREATE TABLE IF NOT EXISTS applied (
    token      TEXT NOT NULL,
    step       TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    at_ms      INTEGER NOT NULL
);
"""


def run_dir() -> Path:
    """Where ledgers, fault markers and the like go: $PAYMENT_RUN_DIR, else ./run."""
    return Path(os.environ.get(RUN_DIR_ENV) or "run")


def ledger_path(service: str) -> Path:
    return run_dir() / "ledgers" / f"{service}.db"


def open_books(service: str, schema: str) -> Ledger:
    path = ledger_path(service)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Ledger(path, schema=_APPLIED + schema)


def now_ms() -> int:
    return int(time.time() * 1000)


def apply_step(
    ledger: Ledger,
    ctx: TaskContext,
    payment_id: str,
    step: Callable[[sqlite3.Connection], Any],
) -> Any:
    """`step(db)` at most once for this task's token, journalled in `applied` with it."""

    def journalled(db: sqlite3.Connection) -> Any:
        result = step(db)
        db.execute(
            "INSERT INTO applied (token, step, payment_id, at_ms) VALUES (?, ?, ?, ?)",
            (ctx.idempotency_key, ctx.handler, payment_id, now_ms()),
        )
        return result

    return ledger.apply(ctx.idempotency_key, journalled)
