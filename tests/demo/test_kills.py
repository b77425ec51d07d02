"""`podium demo --check --payments 200 --kill-orchestrator 1` end to end, on each transport.

Beside the example's faults (a payment-auth and a transaction process killed mid-task by
faults.yaml's `crash_once`, errors, stalls, lost answers), the orchestrator itself is killed
with SIGKILL halfway through the batch, with payments in flight, and started again on the
same database. Still every payment ends SUCCEEDED or FAILED with its completed steps
compensated, the ledgers balance, and no step is applied twice for one task token (the
audit's checks, --check's exit status), with no payment lost or started twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.demo.conftest import DemoRun, run_demo
from tests.demo.test_runs import assert_passed_with_crashes
from tests.transports.brokers import require, url_of

PAYMENTS = 200
# A run takes about 35 s here. The batch's own deadline comes first, so that a payment that
# never ends is reported (the table names it) rather than cut off by the process's timeout.
BATCH_SECONDS = 180
RUN_SECONDS = BATCH_SECONDS + 120  # the services' start and stop, the restarts, the audit


def run_with_a_kill(run_dir: Path, *extra: str) -> DemoRun:
    args = (
        "--check",
        "--payments",
        str(PAYMENTS),
        "--kill-orchestrator",
        "1",
        "--timeout",
        str(BATCH_SECONDS),
    )
    return run_demo(run_dir, *args, *extra, timeout=RUN_SECONDS)


def assert_survived_the_kill(run: DemoRun) -> None:
    assert_passed_with_crashes(run, payments=PAYMENTS)
    record = run.record
    # Every payment was started once: one execution each, none refused (a retried start whose
    # first answer was lost found its execution instead of failing or making a second one).
    arns = [p["execution_arn"] for p in record["payments"]]
    assert None not in arns and len(set(arns)) == PAYMENTS, run.explain()
    assert not any(p["start_error"] for p in record["payments"]), run.explain()
    kills = record["orchestrator"]["kills"]
    assert len(kills) == 1, run.explain()
    kill = kills[0]
    assert kill["error"] is None and kill["restarted_pid"] not in (None, kill["pid"]), kill
    assert 0 < kill["ended"] < PAYMENTS, kill
    # The report counts, from the database, the executions that were running when it died:
    # the new orchestrator carried them on.
    line = re.search(
        r"orchestrator +killed 1 time with SIGKILL mid-run.*?(\d+) running \(back in", run.stdout
    )
    assert line is not None and int(line.group(1)) >= 1, run.explain()
    log = (run.run_dir / "demo.log").read_text()
    banners = re.findall(r"^server +\| podium server \S+ listening on ", log, re.MULTILINE)
    assert len(banners) == 2, run.explain()  # started, and started again after the kill
    compensated = re.search(r"VoidAuthorization for (\d+) payments", run.stdout)
    assert compensated is not None and int(compensated.group(1)) > 0, run.explain()


def test_local_transport_with_an_orchestrator_kill(tmp_path: Path) -> None:
    assert_survived_the_kill(run_with_a_kill(tmp_path))


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_brokers_with_an_orchestrator_kill(broker: str, tmp_path: Path) -> None:
    require(broker)  # skipped with the reason when the broker is not there, failed under CI=true
    run = run_with_a_kill(tmp_path, "--transport", broker, "--broker-url", url_of(broker))
    assert_survived_the_kill(run)
    assert f"over the {broker} transport" in run.stdout
