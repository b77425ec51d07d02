"""The checks of a run: what the orchestrator says against what the services' ledgers say.

Two independent records must agree. The orchestrator's: every payment's execution ended
SUCCEEDED or FAILED, with the outcome its kind calls for. The services': their SQLite
ledgers, read directly (this module shares no code with the services, so a bug there cannot
hide itself here):

- every hold is accounted for: a SUCCEEDED payment has exactly one hold, still held, and
  exactly one capture of its amount against that hold; a FAILED payment has its hold (if any)
  voided and its captures (if any) reversed, so that its net on the ledger is zero;
- money is conserved: the amount held, the amount captured net of reversals, and the amount
  of the SUCCEEDED payments are the same;
- at most once per task token: no token appears twice in a service's journal of applied
  steps (`applied`), every applied step has its done mark (`podium_ledger`) and every mark
  its step, and each token belongs to the execution of the payment it acted on;
- nothing in the ledgers belongs to a payment outside the batch.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.core import tokens
from podium.demo.batch import Started
from podium.demo.payments import BUSINESS_ERROR, TRANSIENT_ERRORS

SERVICES = ("payment-auth", "risk", "pci-compliance", "transaction")


@dataclass(frozen=True)
class Hold:
    authorization_id: str
    payment_id: str
    amount: int
    status: str


@dataclass(frozen=True)
class Entry:
    entry_id: str
    payment_id: str
    authorization_id: str | None
    kind: str
    amount: int


@dataclass(frozen=True)
class Applied:
    service: str
    token: str
    step: str
    payment_id: str


@dataclass
class Ledgers:
    """The four ledgers' contents, as far as the checks need them."""

    holds: list[Hold] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    done: dict[str, set[str]] = field(default_factory=dict)  # service -> tokens marked done
    missing: list[str] = field(default_factory=list)  # services without a ledger file


def read_ledgers(directory: Path) -> Ledgers:
    ledgers = Ledgers()
    for service in SERVICES:
        path = directory / f"{service}.db"
        if not path.is_file():
            ledgers.missing.append(service)
            ledgers.done[service] = set()
            continue
        db = sqlite3.connect(path, timeout=10)
        try:
            ledgers.done[service] = {row[0] for row in db.execute("SELECT key FROM podium_ledger")}
            ledgers.applied += [
                Applied(service, *row) for row in db.execute("SELECT token, step, payment_id FROM applied")
            ]
            if service == "payment-auth":
                ledgers.holds = [
                    Hold(*row)
                    for row in db.execute("SELECT authorization_id, payment_id, amount, status FROM holds")
                ]
            elif service == "transaction":
                ledgers.entries = [
                    Entry(*row)
                    for row in db.execute(
                        "SELECT entry_id, payment_id, authorization_id, kind, amount FROM entries"
                    )
                ]
        finally:
            db.close()
    return ledgers


@dataclass
class Totals:
    """Cents, over the batch's payments."""

    succeeded: int = 0
    held: int = 0  # holds not voided
    captured_net: int = 0  # captures minus reversals
    holds_voided: int = 0
    amount_voided: int = 0
    reversals: int = 0  # reversal entries that moved money
    amount_reversed: int = 0

    @property
    def balanced(self) -> bool:
        return self.succeeded == self.held == self.captured_net


@dataclass
class AuditResult:
    problems: list[str]
    totals: Totals

    @property
    def ok(self) -> bool:
        return not self.problems


ExecutionLookup = Callable[[str], Any]  # execution ARN -> its record (status, error, output)


def audit(executions: Sequence[Started], lookup: ExecutionLookup, ledgers: Ledgers) -> AuditResult:
    problems: list[str] = []
    totals = Totals()
    by_payment = {run.payment.id: run for run in executions}
    holds: dict[str, list[Hold]] = {}
    entries: dict[str, list[Entry]] = {}
    for hold in ledgers.holds:
        holds.setdefault(hold.payment_id, []).append(hold)
    for entry in ledgers.entries:
        entries.setdefault(entry.payment_id, []).append(entry)
    if ledgers.missing and any(run.arn for run in executions):
        problems.append(f"no ledger for {', '.join(ledgers.missing)}: the service never applied a step")
    for run in executions:
        record = lookup(run.arn) if run.arn else None
        status = record.status if record is not None else run.status
        its_holds, its_entries = holds.get(run.payment.id, []), entries.get(run.payment.id, [])
        problems += _check_payment(run, status, record, its_holds, its_entries)
        _count(totals, run, status, its_holds, its_entries)
    problems += _check_tokens(ledgers, by_payment)
    seen = {h.payment_id for h in ledgers.holds} | {e.payment_id for e in ledgers.entries}
    foreign = sorted((seen | {a.payment_id for a in ledgers.applied}) - set(by_payment))
    if foreign:
        problems.append(
            f"the ledgers hold entries of {len(foreign)} payment(s) not in the batch: {_some(foreign)}"
        )
    if not totals.balanced:
        problems.append(
            f"the ledgers do not balance: held {_money(totals.held)}, captured net"
            f" {_money(totals.captured_net)}, succeeded payments {_money(totals.succeeded)}"
        )
    return AuditResult(problems, totals)


def _check_payment(
    run: Started, status: str, record: Any, holds: list[Hold], entries: list[Entry]
) -> list[str]:
    payment = run.payment
    name = payment.id
    if run.arn is None:
        return [f"{name}: never started ({run.start_error or 'the batch ran out of time'})"]
    out = []
    captures = [e for e in entries if e.kind == "capture"]
    reversals = [e for e in entries if e.kind == "reversal"]
    net = sum(e.amount for e in entries)
    live = [h for h in holds if h.status == "held"]
    if len(holds) > 1:
        out.append(
            f"{name}: {len(holds)} holds for one payment ({', '.join(h.authorization_id for h in holds)})"
        )
    if len(captures) > 1:
        out.append(f"{name}: captured {len(captures)} times")
    if len(reversals) > 1:
        out.append(f"{name}: reversed {len(reversals)} times")
    if status == "SUCCEEDED":
        if payment.kind != "good":
            out.append(f"{name}: a {payment.kind} payment SUCCEEDED")
        if len(live) != 1 or live[0].amount != payment.amount:
            out.append(f"{name}: SUCCEEDED without exactly one hold of {_money(payment.amount)} still held")
        if len(captures) != 1 or net != payment.amount:
            out.append(
                f"{name}: SUCCEEDED but its net capture is {_money(net)}, not {_money(payment.amount)}"
            )
        elif live and captures[0].authorization_id != live[0].authorization_id:
            hold_id = live[0].authorization_id
            out.append(f"{name}: captured against {captures[0].authorization_id}, not its hold {hold_id}")
        out += _check_output(name, record, live, captures)
    elif status == "FAILED":
        expected = BUSINESS_ERROR[payment.kind]
        if record.error != expected and record.error not in TRANSIENT_ERRORS:
            wanted = f"{expected} or a transient fault" if expected else "a transient fault"
            out.append(f"{name}: a {payment.kind} payment FAILED with {record.error}, not {wanted}")
        for hold in live:
            amount = _money(hold.amount)
            out.append(f"{name}: FAILED but its hold {hold.authorization_id} of {amount} was never voided")
        if net != 0:
            out.append(f"{name}: FAILED but {_money(net)} captured was never reversed")
    else:
        out.append(f"{name}: {status}, not terminal (every payment must end SUCCEEDED or FAILED)")
    return out


def _check_output(name: str, record: Any, live: list[Hold], captures: list[Entry]) -> list[str]:
    """The execution's output names the hold and the capture the ledgers have."""
    try:
        output = json.loads(record.output or "{}")
        authorization = output["authorization"]["authorization_id"]
        transaction = output["capture"]["transaction_id"]
    except (ValueError, KeyError, TypeError):
        return [f"{name}: SUCCEEDED without an authorization and a capture in its output"]
    out = []
    if live and authorization != live[0].authorization_id:
        out.append(f"{name}: its output names hold {authorization}, the ledger {live[0].authorization_id}")
    if captures and transaction != captures[0].entry_id:
        out.append(f"{name}: its output names capture {transaction}, the ledger {captures[0].entry_id}")
    return out


def _check_tokens(ledgers: Ledgers, by_payment: dict[str, Started]) -> list[str]:
    out = []
    for service in SERVICES:
        applied = [a for a in ledgers.applied if a.service == service]
        counts = Counter(a.token for a in applied)
        for token, n in counts.items():
            if n > 1:
                steps = sorted({a.step for a in applied if a.token == token})
                out.append(
                    f"{service}: {'/'.join(steps)} applied {n} times for one task token (…{token[-8:]})"
                )
        marked = ledgers.done.get(service, set())
        unmarked = set(counts) - marked
        unjournalled = marked - set(counts)
        if unmarked:
            out.append(f"{service}: {len(unmarked)} step(s) applied without their done mark")
        if unjournalled:
            out.append(f"{service}: {len(unjournalled)} done mark(s) without the step they vouch for")
        for a in applied:
            run = by_payment.get(a.payment_id)
            parts = tokens.parse(a.token)
            if run is not None and run.arn and parts is not None and parts.execution_arn != run.arn:
                out.append(
                    f"{service}: {a.step} for {a.payment_id} applied with a task token of another execution"
                )
    return out


def _count(totals: Totals, run: Started, status: str, holds: list[Hold], entries: list[Entry]) -> None:
    if status == "SUCCEEDED":
        totals.succeeded += run.payment.amount
    for hold in holds:
        if hold.status == "held":
            totals.held += hold.amount
        else:
            totals.holds_voided += 1
            totals.amount_voided += hold.amount
    for entry in entries:
        totals.captured_net += entry.amount
        if entry.kind == "reversal" and entry.amount:
            totals.reversals += 1
            totals.amount_reversed -= entry.amount


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def _some(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
