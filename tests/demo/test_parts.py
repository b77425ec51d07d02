"""The demo's parts on their own: the batch's mix, the fault settings, the calls out of a
history, the CLI's refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from podium.cli import main
from podium.core.history import HistoryEvent
from podium.demo.calls import aggregate, calls_of, percentile
from podium.demo.payments import generate
from tests.demo.conftest import EXAMPLE


def test_the_batch_mixes_kinds_the_services_will_tell_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "payment_saga.rules", raising=False)
    from payment_saga import rules

    payments = generate(40, "pay-test", seed=7)
    assert generate(40, "pay-test", seed=7) == payments  # the same seed, the same batch
    kinds = [p.kind for p in payments]
    assert (kinds.count("good"), kinds.count("declined"), kinds.count("non-compliant")) == (28, 6, 6)
    assert len({p.id for p in payments}) == 40
    for p in payments:
        declined = rules.risk_score({"amount": p.amount}) > rules.RISK_LIMIT
        malformed = rules.card_problem(p.card) is not None
        assert (declined, malformed) == (p.kind == "declined", p.kind == "non-compliant"), p


def test_fault_settings_from_the_file_and_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from payment_saga import faults

    default = faults.load("transaction", {"PAYMENT_FAULTS": str(EXAMPLE / "faults.yaml")})
    assert default.error_rate == 0.1 and default.crash_once == 5
    assert default.latency.median_ms == 8  # from `defaults`
    env = {"PAYMENT_FAULTS": "none", "PAYMENT_FAULT_ERROR_RATE": "0.5", "PAYMENT_FAULT_LATENCY_MS": "20,90"}
    assert faults.load("risk", env).error_rate == 0.5
    assert faults.load("risk", env).latency == faults.Latency(20.0, 90.0)
    bad = tmp_path / "bad.yaml"
    bad.write_text("defaults: {error_rate: 2}\n")
    with pytest.raises(ValueError, match="between 0 and 1"):
        faults.load("risk", {"PAYMENT_FAULTS": str(bad)})


def _event(id_: int, previous: int, type_: str, at: float, **details: object) -> HistoryEvent:
    return HistoryEvent(id_, previous, at, type_, dict(details) or None)


def test_calls_are_paired_through_previous_event_ids_across_parallel_branches() -> None:
    risk = '{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/1/risk","MessageBody":{"command":"score"}}'
    pci = '{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/1/pci-compliance","MessageBody":{"command":"check"}}'
    events = [
        _event(1, 0, "TaskStateEntered", 0.0, name="Risk"),
        _event(2, 1, "TaskScheduled", 0.0, parameters=risk),
        _event(3, 0, "TaskStateEntered", 0.0, name="PciCheck"),
        _event(4, 3, "TaskScheduled", 0.0, parameters=pci),
        _event(5, 2, "TaskStarted", 0.01),
        _event(6, 4, "TaskStarted", 0.01),
        _event(7, 6, "TaskFailed", 0.02, error="ServiceUnavailable"),
        _event(8, 7, "TaskScheduled", 1.0, parameters=pci),
        _event(9, 5, "TaskSucceeded", 0.3),
        _event(10, 8, "TaskTimedOut", 6.0, error="States.Timeout"),
    ]
    calls = {(c.service, c.retry): c for c in calls_of(events)}
    assert calls[("risk", False)].outcome == "ok" and calls[("risk", False)].seconds == pytest.approx(0.3)
    assert calls[("pci-compliance", False)].outcome == "fault"
    assert calls[("pci-compliance", True)].outcome == "timeout"
    assert calls[("pci-compliance", True)].seconds == pytest.approx(5.0)
    stats = {f"{s.service}.{s.command}": s for s in aggregate(calls.values())}
    assert stats["pci-compliance.check"].calls == 2 and stats["pci-compliance.check"].retries == 1


def test_percentiles_are_observed_values() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.95) == 3.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--payments", "0"], "--payments must be at least 1"),
        (["--faults", "/no/such/faults.yaml"], "no such faults file"),
        (["--transport", "carrier-pigeon"], "unknown transport"),
        (["--verify", "/no/such/run"], "holds no podium demo run"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--run-dir", str(tmp_path), "--example", str(EXAMPLE), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_an_unreachable_broker_is_one_line(tmp_path: Path) -> None:
    from tests.demo.conftest import run_demo

    run = run_demo(tmp_path, "--transport", "redis", "--broker-url", "redis://127.0.0.1:1/0", timeout=60)
    assert run.returncode == 2, run.explain()
    assert "podium: cannot use the redis redis://127.0.0.1:1/0" in run.stderr, run.explain()
    assert "Traceback" not in run.stderr and "could not remove" not in run.stderr
