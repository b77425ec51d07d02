"""The example's services, called directly: a step at most once per task token, one hold and
one capture per payment across retries, and compensations that win over late steps."""

from __future__ import annotations

import importlib
import logging
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from podium.worker import TaskContext, TaskError
from podium.worker.heartbeats import Heartbeats
from tests.demo.conftest import EXAMPLE

PAYMENT = {"id": "p-1", "card": "4242424242424242", "amount": 12_345, "currency": "EUR"}


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """The four service modules, imported fresh against a run directory of this test's own."""
    monkeypatch.setenv("PAYMENT_RUN_DIR", str(tmp_path))
    monkeypatch.setenv("PAYMENT_FAULTS", "none")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    for name in [m for m in sys.modules if m == "payment_saga" or m.startswith("payment_saga.")]:
        monkeypatch.delitem(sys.modules, name)
    modules = {
        name: importlib.import_module(f"payment_saga.{name}")
        for name in ("auth", "risk", "pci", "transaction")
    }
    yield modules
    for module in modules.values():
        module.service.ledger.close()
    for name in [m for m in sys.modules if m == "payment_saga" or m.startswith("payment_saga.")]:
        del sys.modules[name]


def ctx(token: str, handler: str) -> TaskContext:
    return TaskContext(
        token=token,
        worker="test",
        handler=handler,
        attempt=1,
        deadline=None,
        execution_arn=None,
        state_name=None,
        logger=logging.LoggerAdapter(logging.getLogger("test")),
        _heartbeats=Heartbeats(lambda: True, None),
    )


def call(module: ModuleType, handler: str, token: str, **body: Any) -> Any:
    return getattr(module, handler)({"command": handler, "payment": PAYMENT, **body}, ctx(token, handler))


def rows(tmp: Path, service: str, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(tmp / "ledgers" / f"{service}.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_the_same_token_twice_applies_once(services: dict[str, ModuleType], tmp_path: Path) -> None:
    first = call(services["auth"], "authorize", "token-1")
    again = call(services["auth"], "authorize", "token-1")  # redelivered after a crash
    assert again == first
    assert rows(tmp_path, "payment-auth", "SELECT count(*) FROM applied") == [(1,)]
    assert rows(tmp_path, "payment-auth", "SELECT count(*) FROM holds") == [(1,)]


def test_a_retry_finds_the_hold_its_first_attempt_placed(
    services: dict[str, ModuleType], tmp_path: Path
) -> None:
    first = call(services["auth"], "authorize", "token-1")
    retried = call(services["auth"], "authorize", "token-2")  # a new attempt: a new token
    assert retried["authorization_id"] == first["authorization_id"]
    assert rows(tmp_path, "payment-auth", "SELECT count(*) FROM holds") == [(1,)]
    assert rows(tmp_path, "payment-auth", "SELECT count(*) FROM applied") == [(2,)]


def test_void_releases_the_hold_and_refuses_a_late_authorize(
    services: dict[str, ModuleType], tmp_path: Path
) -> None:
    hold = call(services["auth"], "authorize", "token-1")
    voided = call(services["auth"], "void", "token-2")
    assert voided == {"voided": [hold["authorization_id"]], "released": PAYMENT["amount"]}
    assert call(services["auth"], "void", "token-3") == {"voided": [], "released": 0}  # idempotent
    with pytest.raises(TaskError) as late:
        call(services["auth"], "authorize", "token-4")
    assert late.value.error == "Payment.Voided"
    assert rows(tmp_path, "payment-auth", "SELECT status FROM holds") == [("voided",)]


def test_capture_once_per_payment_and_reverse_nets_to_zero(
    services: dict[str, ModuleType], tmp_path: Path
) -> None:
    captured = call(services["transaction"], "capture", "token-1", authorization_id="auth_x")
    assert call(services["transaction"], "capture", "token-2", authorization_id="auth_x") == captured
    reversed_ = call(services["transaction"], "reverse", "token-3")
    assert reversed_["reversed"] == PAYMENT["amount"]
    assert call(services["transaction"], "reverse", "token-4") == {"reversed": 0}
    with pytest.raises(TaskError) as late:
        call(services["transaction"], "capture", "token-5", authorization_id="auth_x")
    assert late.value.error == "Payment.Reversed"
    assert rows(tmp_path, "transaction", "SELECT sum(amount), count(*) FROM entries") == [(0, 2)]


def test_business_errors_are_recorded_and_repeatable(services: dict[str, ModuleType]) -> None:
    big = {**PAYMENT, "amount": 500_000}
    for token in ("token-1", "token-1"):  # the same decision for the same token
        with pytest.raises(TaskError) as declined:
            services["risk"].score({"command": "score", "payment": big}, ctx(token, "score"))
        assert declined.value.error == "Payment.Declined"
    bad_card = {**PAYMENT, "card": "4242424242424241"}
    with pytest.raises(TaskError) as refused:
        services["pci"].check({"command": "check", "payment": bad_card}, ctx("token-2", "check"))
    assert refused.value.error == "Payment.NonCompliant"
    ok = services["pci"].check({"command": "check", "payment": PAYMENT}, ctx("token-3", "check"))
    assert ok["card_token"].startswith("tok_") and PAYMENT["card"] not in str(ok)


def test_a_command_without_a_payment_is_a_bad_request(services: dict[str, ModuleType]) -> None:
    with pytest.raises(TaskError) as bad:
        services["auth"].authorize({"command": "authorize"}, ctx("token-1", "authorize"))
    assert bad.value.error == "Payment.BadRequest"
