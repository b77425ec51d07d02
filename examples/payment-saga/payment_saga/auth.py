"""payment-auth: places a hold of the payment's amount on the card, and voids it.

One hold per payment, whatever the number of attempts: a Retry is a new task with a new
token, so the done table alone would let a retried `authorize` whose first attempt did
place its hold (and then timed out) place a second one, which no step would ever void.
So `authorize` returns the payment's existing hold, and `void` acts on the payment, not on
an authorization id it might never have learnt.

`void` leaves a mark (`voided`): an `authorize` that arrives after it (a stalled attempt
answering late) must not place a hold the saga has already given up on.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from payment_saga import books, rules
from payment_saga.service import make, payment_of
from podium.worker import TaskContext, TaskError

SCHEMA = """
CREATE TABLE IF NOT EXISTS holds (
    authorization_id TEXT PRIMARY KEY,
    payment_id       TEXT NOT NULL,
    amount           INTEGER NOT NULL,
    card_last4       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('held', 'voided')),
    held_ms          INTEGER NOT NULL,
    voided_ms        INTEGER
);
CREATE INDEX IF NOT EXISTS holds_by_payment ON holds (payment_id);
CREATE TABLE IF NOT EXISTS voided (
    payment_id TEXT PRIMARY KEY,
    voided_ms  INTEGER NOT NULL
);
"""

service = make("payment-auth", SCHEMA)
worker = service.worker


@worker.handler("authorize")
def authorize(body: Any, ctx: TaskContext) -> Any:
    payment = payment_of(body)
    service.faults.before(ctx)

    def hold(db: sqlite3.Connection) -> Any:
        if db.execute("SELECT 1 FROM voided WHERE payment_id = ?", (payment["id"],)).fetchone():
            raise TaskError("Payment.Voided", f"payment {payment['id']} was voided before this authorization")
        row = db.execute(
            "SELECT authorization_id, amount FROM holds WHERE payment_id = ?", (payment["id"],)
        ).fetchone()
        if row is not None:
            return {"authorization_id": row[0], "amount": row[1]}
        authorization_id = "auth_" + uuid.uuid4().hex[:16]
        db.execute(
            "INSERT INTO holds (authorization_id, payment_id, amount, card_last4, status, held_ms)"
            " VALUES (?, ?, ?, ?, 'held', ?)",
            (
                authorization_id,
                payment["id"],
                int(payment["amount"]),
                rules.last4(payment.get("card")),
                books.now_ms(),
            ),
        )
        return {"authorization_id": authorization_id, "amount": int(payment["amount"])}

    result = books.apply_step(service.ledger, ctx, payment["id"], hold)
    service.faults.after(ctx)
    return result


@worker.handler("void")
def void(body: Any, ctx: TaskContext) -> Any:
    payment = payment_of(body)
    service.faults.before(ctx)

    def release(db: sqlite3.Connection) -> Any:
        now = books.now_ms()
        db.execute("INSERT OR IGNORE INTO voided (payment_id, voided_ms) VALUES (?, ?)", (payment["id"], now))
        released = db.execute(
            "UPDATE holds SET status = 'voided', voided_ms = ? WHERE payment_id = ? AND status = 'held'"
            " RETURNING authorization_id, amount",
            (now, payment["id"]),
        ).fetchall()
        return {
            "voided": [authorization_id for authorization_id, _ in released],
            "released": sum(amount for _, amount in released),
        }

    result = books.apply_step(service.ledger, ctx, payment["id"], release)
    service.faults.after(ctx)
    return result
