"""pci-compliance: checks the card number and swaps it for a token; a malformed number is
`Payment.NonCompliant`, a business error the definition never retries."""

from __future__ import annotations

import sqlite3
from typing import Any

from payment_saga import books, rules
from payment_saga.service import make, payment_of
from podium.worker import TaskContext, TaskError

SCHEMA = """
CREATE TABLE IF NOT EXISTS checks (
    payment_id TEXT NOT NULL,
    card_token TEXT,
    problem    TEXT,
    checked_ms INTEGER NOT NULL
);
"""

service = make("pci-compliance", SCHEMA)
worker = service.worker


@worker.handler("check")
def check(body: Any, ctx: TaskContext) -> Any:
    payment = payment_of(body)
    service.faults.before(ctx)

    def inspect(db: sqlite3.Connection) -> Any:
        problem = rules.card_problem(payment.get("card"))
        token = None if problem else rules.card_token(payment["card"])
        db.execute(
            "INSERT INTO checks (payment_id, card_token, problem, checked_ms) VALUES (?, ?, ?, ?)",
            (payment["id"], token, problem, books.now_ms()),
        )
        return {"card_token": token, "problem": problem}

    verdict = books.apply_step(service.ledger, ctx, payment["id"], inspect)
    service.faults.after(ctx)
    if verdict["problem"]:
        raise TaskError("Payment.NonCompliant", verdict["problem"])
    return {"card_token": verdict["card_token"]}
