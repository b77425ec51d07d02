"""What the four services share: a Worker with its ledger and fault injector, set up from the
environment the same way under `podium up`, `podium demo` or a plain shell."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from payment_saga import books, faults
from podium.worker import Ledger, TaskError, Worker

# Handler threads per process. Tasks mostly wait (latency, a lock on the ledger), so a few
# threads per replica keep a batch moving without a pool per core.
CONCURRENCY = int(os.environ.get("PAYMENT_CONCURRENCY", "8"))


@dataclass
class Service:
    worker: Worker
    ledger: Ledger
    faults: faults.Injector


def make(name: str, schema: str) -> Service:
    """The worker of service `name` (its queue has the same name), its ledger, its faults."""
    injector = faults.Injector(name, faults.load(name), books.run_dir())
    return Service(Worker(name, concurrency=CONCURRENCY), books.open_books(name, schema), injector)


def payment_of(body: Any) -> dict[str, Any]:
    """The payment a command carries; a command without one is a bug of the caller, not a fault."""
    payment = body.get("payment") if isinstance(body, dict) else None
    if not isinstance(payment, dict) or not isinstance(payment.get("id"), str):
        raise TaskError("Payment.BadRequest", "the command carries no payment with an id")
    return payment
