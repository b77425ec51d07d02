"""`podium ...` as a user meets it: outputs, exit codes, and one clear line for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.cli import main

ROOT = Path(__file__).resolve().parent.parent
ORDER = ROOT / "examples" / "order"
HELLO = json.dumps(
    {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"hello": "world"}, "End": True}}}
)


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.asl.json"
    path.write_text(HELLO)
    return path


def test_validate_accepts_a_valid_definition(hello: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(hello)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_names_every_problem_by_json_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}))
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "/States/A/Next" in out
    assert "MISSING_TRANSITION_TARGET" in out


def test_run_prints_the_output_and_exits_0(
    hello: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(hello), "--db", str(tmp_path / "p.db")]) == 0
    assert json.loads(capsys.readouterr().out) == {"hello": "world"}


def test_the_order_example_succeeds_and_its_declined_order_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "p.db")
    common = [str(ORDER / "order.asl.yaml"), "--functions", str(ORDER / "functions.py"), "--db", db]
    assert main(["run", *common, "--input", f"@{ORDER / 'input.json'}", "--history"]) == 0
    out = capsys.readouterr().out
    assert '"status":"CONFIRMED"' in out
    assert "ParallelStateExited" in out
    assert main(["run", *common, "--input", f"@{ORDER / 'declined.json'}"]) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err
    assert "error=Order.Declined" in err
    assert main(["executions", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert "SUCCEEDED" in listing
    assert "FAILED" in listing


def test_history_prints_events_or_aws_json(
    hello: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "p.db")
    assert main(["run", str(hello), "--db", db, "--name", "one"]) == 0
    capsys.readouterr()
    assert main(["history", "one", "--db", db, "--json"]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert json.loads(events[-1]["executionSucceededEventDetails"]["output"]) == {"hello": "world"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "/no/such/file.json"], "no such file"),
        (["run", "{hello}", "--input", "{not json"], "--input is not valid JSON"),
        (["run", "{hello}", "--input", "@/no/such/input.json"], "no such file"),
        (["run", "{order}", "--db", "{db}"], "'validate_order'"),
        (
            ["run", "{hello}", "--functions", "no_such_module_xyz"],
            "cannot load functions from no_such_module_xyz",
        ),
        (["run", "{hello}", "--name", "bad name!", "--db", "{db}"], "Invalid Name"),
    ],
)
def test_mistakes_are_one_clear_line_and_exit_2(
    argv: list[str], message: str, hello: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = {"hello": str(hello), "order": str(ORDER / "order.asl.yaml"), "db": str(tmp_path / "p.db")}
    argv = [
        a.format(**values) if a.startswith("{") and a.endswith("}") and a[1:-1] in values else a for a in argv
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_an_invalid_definition_is_reported_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("StartAt: A\nStates:\n  A:\n    Type: Pass\n")
    assert main(["run", str(bad), "--db", str(tmp_path / "p.db")]) == 1
    assert "MISSING_END_STATE" in capsys.readouterr().err
