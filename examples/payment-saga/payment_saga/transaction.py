"""transaction: captures an authorised amount onto the ledger, and reverses a capture.

The ledger is append-only: a capture is a `+amount` entry, its reversal a `-amount` entry,
so a payment's net is the sum of its entries. As in payment-auth, both steps act on the
payment (a retried `capture` finds the capture its timed-out first attempt made), and
`reverse` leaves a mark that a late `capture` respects.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from payment_saga import books
from payment_saga.service import make, payment_of
from podium.worker import TaskContext, TaskError

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    entry_id         TEXT PRIMARY KEY,
    payment_id       TEXT NOT NULL,
    authorization_id TEXT,
    kind             TEXT NOT NULL CHECK (kind IN ('capture', 'reversal')),
    amount           INTEGER NOT NULL,
    posted_ms        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_payment ON entries (payment_id);
CREATE TABLE IF NOT EXISTS reversed (
    payment_id  TEXT PRIMARY KEY,
    reversed_ms INTEGER NOT NULL
);
"""

service = make("transaction", SCHEMA)
worker = service.worker


@worker.handler("capture")
def capture(body: Any, ctx: TaskContext) -> Any:
    payment = payment_of(body)
    authorization_id = body.get("authorization_id")
    service.faults.before(ctx)

    def post(db: sqlite3.Connection) -> Any:
        if db.execute("SELECT 1 FROM reversed WHERE payment_id = ?", (payment["id"],)).fetchone():
            raise TaskError("Payment.Reversed", f"payment {payment['id']} was reversed before this capture")
        row = db.execute(
            "SELECT entry_id, amount FROM entries WHERE payment_id = ? AND kind = 'capture'", (payment["id"],)
        ).fetchone()
        if row is not None:
            return {"transaction_id": row[0], "amount": row[1]}
        entry_id = "txn_" + uuid.uuid4().hex[:16]
        db.execute(
            "INSERT INTO entries (entry_id, payment_id, authorization_id, kind, amount, posted_ms)"
            " VALUES (?, ?, ?, 'capture', ?, ?)",
            (entry_id, payment["id"], authorization_id, int(payment["amount"]), books.now_ms()),
        )
        return {"transaction_id": entry_id, "amount": int(payment["amount"])}

    result = books.apply_step(service.ledger, ctx, payment["id"], post)
    service.faults.after(ctx)
    return result


@worker.handler("reverse")
def reverse(body: Any, ctx: TaskContext) -> Any:
    payment = payment_of(body)
    service.faults.before(ctx)

    def post_opposite(db: sqlite3.Connection) -> Any:
        now = books.now_ms()
        db.execute(
            "INSERT OR IGNORE INTO reversed (payment_id, reversed_ms) VALUES (?, ?)", (payment["id"], now)
        )
        (net,) = db.execute(
            "SELECT coalesce(sum(amount), 0) FROM entries WHERE payment_id = ?", (payment["id"],)
        ).fetchone()
        if net == 0:
            return {"reversed": 0}
        entry_id = "rev_" + uuid.uuid4().hex[:16]
        db.execute(
            "INSERT INTO entries (entry_id, payment_id, authorization_id, kind, amount, posted_ms)"
            " VALUES (?, ?, NULL, 'reversal', ?, ?)",
            (entry_id, payment["id"], -net, now),
        )
        return {"reversed": net, "transaction_id": entry_id}

    result = books.apply_step(service.ledger, ctx, payment["id"], post_opposite)
    service.faults.after(ctx)
    return result
