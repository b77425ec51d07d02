"""risk: scores a payment 0-100; a score above the limit is a business decline, not a fault.

The decision is recorded before it is given, so the same task asked twice gives the same
answer. A decline is `Payment.Declined`, which the definition never retries.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from payment_saga import books, rules
from payment_saga.service import make, payment_of
from podium.worker import TaskContext, TaskError

SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    payment_id TEXT NOT NULL,
    score      INTEGER NOT NULL,
    declined   INTEGER NOT NULL,
    scored_ms  INTEGER NOT NULL
);
"""

service = make("risk", SCHEMA)
worker = service.worker


@worker.handler("score")
def score(body: Any, ctx: TaskContext) -> Any:
    payment = payment_of(body)
    service.faults.before(ctx)

    def decide(db: sqlite3.Connection) -> Any:
        value = rules.risk_score(payment)
        declined = value > rules.RISK_LIMIT
        db.execute(
            "INSERT INTO scores (payment_id, score, declined, scored_ms) VALUES (?, ?, ?, ?)",
            (payment["id"], value, int(declined), books.now_ms()),
        )
        return {"score": value, "limit": rules.RISK_LIMIT, "declined": declined}

    decision = books.apply_step(service.ledger, ctx, payment["id"], decide)
    service.faults.after(ctx)
    if decision["declined"]:
        raise TaskError(
            "Payment.Declined", f"risk score {decision['score']} is above the limit {decision['limit']}"
        )
    return {"score": decision["score"]}
