"""`podium demo --check --payments 30` end to end, on each transport, with the example's faults.

The faults include a crash of a payment-auth process and of a transaction process mid-task
(faults.yaml's `crash_once`); the supervisor restarts them, and the saga still ends every
payment SUCCEEDED or FAILED-and-compensated with the ledgers balanced.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.demo.conftest import DemoRun, run_demo
from tests.transports.brokers import require, url_of


def assert_passed_with_crashes(run: DemoRun, payments: int = 30) -> None:
    assert run.returncode == 0, run.explain()
    assert "checks         passed" in run.stdout, run.explain()
    crashed = {line.split()[0] for line in run.crashes()}
    assert {"payment-auth", "transaction"} <= crashed, run.explain()
    restarts = run.record["restarts"]
    assert restarts["payment-auth"] >= 1 and restarts["transaction"] >= 1, restarts
    assert len(run.record["payments"]) == payments
    for outcome in ("SUCCEEDED", "FAILED  Payment.Declined", "FAILED  Payment.NonCompliant"):
        assert outcome in run.stdout, run.explain()


def test_local_transport_with_faults_and_crashes(local_run: DemoRun) -> None:
    assert_passed_with_crashes(local_run)
    assert "progress" not in local_run.stderr and "[###" not in local_run.stderr  # --check: no bar


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_brokers_with_faults_and_crashes(broker: str, tmp_path: Path) -> None:
    require(broker)  # skipped with the reason when the broker is not there, failed under CI=true
    run = run_demo(
        tmp_path, "--check", "--payments", "30", "--transport", broker, "--broker-url", url_of(broker)
    )
    assert_passed_with_crashes(run)
    assert f"over the {broker} transport" in run.stdout


def test_a_batch_that_outlives_its_deadline_fails_the_check(tmp_path: Path) -> None:
    # Every call takes at least 0.3 s and a payment makes three in a row: none can end within
    # half a second, however fast the machine. What is not finished is not terminal, and the
    # demo still stops everything, reports and exits promptly.
    faults = tmp_path / "slow.yaml"
    faults.write_text("defaults:\n  latency: {median_ms: 300, p95_ms: 350}\n")
    run = run_demo(
        tmp_path / "run",
        "--check",
        "--payments",
        "40",
        "--timeout",
        "0.5",
        "--faults",
        str(faults),
        timeout=90,
    )
    assert run.returncode == 1, run.explain()
    assert "not terminal" in run.stdout or "never started" in run.stdout, run.explain()
    assert "checks         FAILED" in run.stdout


def test_captures_of_failed_payments_are_reversed(tmp_path: Path) -> None:
    # Every capture is posted and its answer lost, on every attempt: Capture times out for
    # good, and ReverseCapture must undo real money before VoidAuthorization releases the hold.
    faults = tmp_path / "faults.yaml"
    faults.write_text("services:\n  transaction:\n    handlers:\n      capture: {lost_reply_rate: 1.0}\n")
    run = run_demo(tmp_path / "run", "--check", "--payments", "6", "--faults", str(faults))
    assert run.returncode == 0, run.explain()
    good = sum(1 for p in run.record["payments"] if p["kind"] == "good")
    assert good == 4
    assert re.search(rf"FAILED  States\.Timeout +{good}\n", run.stdout), run.explain()
    assert f"ReverseCapture for {good} ({good} captures undone" in run.stdout, run.explain()
    assert "held 0.00 = captured net 0.00 = succeeded payments 0.00: balanced" in run.stdout
