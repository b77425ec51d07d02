"""The orchestrator as a child process (`--kill-orchestrator`): a real `podium server` killed with
SIGKILL and started again on its database and port, and the batch's client of its API, whose
starts must stay idempotent across the kill."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.arns import ArnFactory
from podium.demo.batch import MISSING, StartRefusedError, UnreachableError, run_batch
from podium.demo.client import ApiExecutions
from podium.demo.kills import marks
from podium.demo.orchestrator import OrchestratorError, OrchestratorProcess
from podium.demo.payments import generate
from podium.supervisor.config import ServerSpec, StateMachineSpec
from podium.supervisor.output import Console
from podium.transports.factory import TransportSpec

# Long enough to be running across the kill and the restart, short enough for a test.
WAIT = {
    "StartAt": "Hold",
    "States": {"Hold": {"Type": "Wait", "Seconds": 3, "Next": "Done"}, "Done": {"Type": "Succeed"}},
}
QUICK = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
MACHINE = ArnFactory().state_machine("Holds")
QUICK_MACHINE = ArnFactory().state_machine("Quick")
ENDED_WITHIN = 60.0  # seconds: far above the 3 s wait and a restart on a busy machine


@pytest.fixture
def orchestrator(tmp_path: Path) -> Iterator[OrchestratorProcess]:
    console = Console(io.StringIO(), colour=False)
    process = OrchestratorProcess(
        ServerSpec(db=str(tmp_path / "podium.db"), port=0), TransportSpec(), console
    )
    try:
        process.start()
        holds = StateMachineSpec("Holds", tmp_path / "holds.asl.json", json.dumps(WAIT))
        quick = StateMachineSpec("Quick", tmp_path / "quick.asl.json", json.dumps(QUICK))
        process.register((holds, quick), ())
        yield process
    finally:
        process.stop()


def wait_for(executions: ApiExecutions, arn: str, status: str) -> None:
    deadline = time.monotonic() + ENDED_WITHIN
    while (seen := executions.statuses(MACHINE, [arn])[arn]) != status:
        assert time.monotonic() < deadline, f"{arn} still {seen}, not {status}"
        time.sleep(0.1)


def test_a_killed_orchestrator_comes_back_on_its_database_and_port(orchestrator: OrchestratorProcess) -> None:
    executions = ApiExecutions(orchestrator.endpoint, region="us-east-1")
    try:
        arn = executions.start(MACHINE, "p-1", '{"amount": 1}')
        # The same start again while it runs: the same execution (a retry whose answer was lost).
        assert executions.start(MACHINE, "p-1", '{"amount": 1}') == arn
        assert executions.statuses(MACHINE, [arn]) == {arn: "RUNNING"}

        port, first = orchestrator.port, orchestrator.pids[-1]
        assert orchestrator.kill() == first
        assert not orchestrator.running
        with pytest.raises(UnreachableError):
            executions.start(MACHINE, "p-2", "{}")
        with pytest.raises(UnreachableError):
            executions.statuses(MACHINE, [arn])

        second = orchestrator.start()
        assert second != first and orchestrator.port == port and orchestrator.pids == [first, second]
        # Recovered from the database: its Wait goes on and it ends.
        wait_for(executions, arn, "SUCCEEDED")
        # Ended, the same start is "already exists": the same name and input are this execution.
        assert executions.start(MACHINE, "p-1", '{ "amount" : 1 }') == arn
        with pytest.raises(StartRefusedError, match="ExecutionAlreadyExists"):
            executions.start(MACHINE, "p-1", '{"amount": 2}')
        missing = arn.replace(":p-1", ":p-404")
        assert executions.statuses(MACHINE, [arn, missing]) == {arn: "SUCCEEDED", missing: MISSING}
    finally:
        executions.close()


def test_the_batch_waits_out_an_absent_orchestrator_and_starts_each_payment_once(
    orchestrator: OrchestratorProcess,
) -> None:
    payments = generate(6, "pay-absent", seed=1)
    executions = ApiExecutions(orchestrator.endpoint, region="us-east-1")
    orchestrator.kill()
    comeback = threading.Timer(1.0, orchestrator.start)
    comeback.start()
    try:
        result = run_batch(
            executions, QUICK_MACHINE, payments, window=4, deadline=time.monotonic() + ENDED_WITHIN
        )
    finally:
        comeback.join()
        executions.close()
    assert not result.deadline_passed
    assert result.start_retries >= 1  # the first start found no one, and was tried again
    assert [run.status for run in result.executions] == ["SUCCEEDED"] * len(payments)
    assert [run.start_error for run in result.executions] == [None] * len(payments)
    assert len({run.arn for run in result.executions}) == len(payments)


def test_an_orchestrator_that_cannot_start_says_why(tmp_path: Path) -> None:
    console = Console(io.StringIO(), colour=False)
    spec = ServerSpec(db=str(tmp_path / "missing-dir" / "deeper" / "podium.db"), port=0)
    process = OrchestratorProcess(spec, TransportSpec(), console)
    with pytest.raises(OrchestratorError, match="the orchestrator exited with code"):
        process.start()
    assert not process.running and process.pids == []


def test_kills_are_spread_over_the_batch() -> None:
    assert marks(1, 200) == [100]
    assert marks(3, 200) == [50, 100, 150]
    assert marks(2, 1) == [0, 0]  # a tiny batch: killed as soon as it runs
