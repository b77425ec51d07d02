"""Conformance: the matcher's rules as examples, and podium's pass rates over the public corpus.

The corpus (shared/conformance, beside the repository) holds executions recorded against AWS.
The floors below are over its pure cases (no outside service) of kinds execution and io_case,
and over every test_state case attempted (TestState with mocks needs no outside service);
they only move up. When the corpus is absent the corpus tests are skipped, except in CI,
where a missing corpus is a broken checkout and fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from podium.conformance.cases import Case, resolve, skip_reason
from podium.conformance.judge import Observation, compare_outcome, judge_record
from podium.conformance.matcher import Matcher, decode_json_text, normalise_event

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "conformance" / "asl" / "cases"
JUDGE = REPO.parent / "shared" / "tools" / "sfn_conformance.py"
FIXTURE_FUNCTIONS = Path(__file__).resolve().parent / "fixtures" / "corpus_functions.py"

OUTCOME_FLOOR = 0.97
EVENT_TYPES_FLOOR = 0.90
TEST_STATE_OUTCOME_FLOOR = 0.97  # 107/108 attempted: the one left expects no role ARN in $$
TEST_STATE_ATTEMPTED_FLOOR = 100  # of 121: the others hold values only the recording test knew


def make_case(**fields: Any) -> Case:
    values: dict[str, Any] = {
        "name": "example",
        "kind": "execution",
        "file": Path("example.json"),
        "definition": {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
        "input": {},
        "expected": {"status": "SUCCEEDED", "output": {}},
    }
    values.update(fields)
    return Case(**values)


# --- the matcher -------------------------------------------------------------------------------


class TestPlaceholders:
    def test_a_whole_token_matches_any_string(self) -> None:
        m = Matcher()
        assert m.matches("<uuid>", "0b7a1c0e-3f7e-4d55-9c1a-8d7f6a5b4c3d")
        assert m.matches("<arn:states:execution>", "arn:aws:states:us-east-1:000000000000:execution:sm:run")
        assert m.matches("${LambdaFunctionArn:id_function}", "anything")

    def test_a_whole_token_matches_only_strings(self) -> None:
        m = Matcher()
        assert not m.matches("<uuid>", 42)
        assert not m.matches("<uuid>", None)
        assert not m.matches("<uuid>", {"id": "x"})

    def test_tokens_inside_a_string_match_substrings_and_the_rest_is_literal(self) -> None:
        m = Matcher()
        expected = "arn:aws:states:<region>:111111111111:execution:<name>:<uuid>"
        assert m.matches(expected, "arn:aws:states:us-east-1:111111111111:execution:sm:abc-123")
        assert not m.matches(expected, "arn:aws:states:us-east-1:000000000000:execution:sm:abc-123")
        assert m.matches("An error occurred at <date>.\nDone", "An error occurred at today.\nDone")

    def test_bare_tokens_listed_by_the_case_match_any_scalar(self) -> None:
        m = Matcher(frozenset({"start-time"}))
        assert m.matches("start-time", "2024-11-04T11:41:45.123Z")
        assert m.matches("start-time", 1730720505.123)
        assert not m.matches("start-time", {"at": 1})

    def test_an_unlisted_bare_word_is_literal(self) -> None:
        assert not Matcher().matches("start-time", "2024-11-04T11:41:45.123Z")

    def test_keys_may_be_placeholders(self) -> None:
        m = Matcher()
        expected = {"<arn:states:execution>": {"Status": "SUCCEEDED"}, "Count": 1}
        assert m.matches(expected, {"Count": 1, "arn:aws:states:x": {"Status": "SUCCEEDED"}})
        assert not m.matches(expected, {"Count": 1})


class TestValues:
    def test_numbers_compare_by_value(self) -> None:
        m = Matcher()
        assert m.matches(1, 1.0)
        assert m.matches({"n": [2.0]}, {"n": [2]})
        assert not m.matches(1, "1")

    def test_booleans_are_not_numbers(self) -> None:
        m = Matcher()
        assert not m.matches(True, 1)
        assert not m.matches(0, False)
        assert m.matches(False, False)

    def test_null_matches_only_null(self) -> None:
        assert Matcher().matches(None, None)
        assert not Matcher().matches(None, "")

    def test_differences_name_the_path(self) -> None:
        diffs = Matcher().differences({"a": [1, {"b": "x"}]}, {"a": [1, {"b": "y"}], "c": 3})
        assert [str(d) for d in diffs] == [
            '$.a[1].b: expected "x", got "y"',
            "$.c: unexpected key 'c' = 3",
        ]

    def test_missing_and_extra_items(self) -> None:
        diffs = Matcher().differences([1, 2], [1])
        assert [str(d) for d in diffs] == ["$: expected 2 items, got 1"]


class TestJsonText:
    def test_payload_fields_are_decoded_scalars_included(self) -> None:
        event = {
            "id": 3,
            "previousEventId": 2,
            "timestamp": 1.5,
            "type": "PassStateExited",
            "stateExitedEventDetails": {
                "name": "A",
                "output": '"text"',
                "outputDetails": {"truncated": False},
                "assignedVariables": {"x": "1", "y": '{"k": true}'},
            },
        }
        assert normalise_event(event) == {
            "type": "PassStateExited",
            "stateExitedEventDetails": {
                "name": "A",
                "output": "text",
                "assignedVariables": {"x": 1, "y": {"k": True}},
            },
        }

    def test_truncated_details_are_kept_and_role_arns_dropped(self) -> None:
        event = {
            "type": "ExecutionStarted",
            "executionStartedEventDetails": {
                "input": "{}",
                "inputDetails": {"truncated": True},
                "roleArn": "arn:aws:iam::000000000000:role/podium",
            },
        }
        assert normalise_event(event)["executionStartedEventDetails"] == {
            "input": {},
            "inputDetails": {"truncated": True},
        }

    def test_a_cause_is_decoded_only_when_it_is_a_document(self) -> None:
        event = {"type": "ExecutionFailed", "executionFailedEventDetails": {"error": "E", "cause": "3"}}
        assert normalise_event(event)["executionFailedEventDetails"]["cause"] == "3"
        event = {
            "type": "ExecutionFailed",
            "executionFailedEventDetails": {"error": "E", "cause": '{"a": 1}'},
        }
        assert normalise_event(event)["executionFailedEventDetails"]["cause"] == {"a": 1}

    def test_text_that_is_not_json_stays_text(self) -> None:
        assert decode_json_text("{not json", scalars=True) == "{not json"
        assert decode_json_text("plain", scalars=True) == "plain"
        assert decode_json_text("true", scalars=False) == "true"
        assert decode_json_text("true", scalars=True) is True


class TestOutcome:
    def test_output_is_compared_as_json(self) -> None:
        expected = {"status": "SUCCEEDED", "output": {"n": 1, "id": "<uuid>"}}
        observed = Observation(status="SUCCEEDED", output='{"id": "c0ffee", "n": 1.0}')
        assert compare_outcome(expected, observed, Matcher()).passed

    def test_a_json_cause_is_compared_structurally(self) -> None:
        expected = {
            "status": "FAILED",
            "error": "Exception",
            "cause": {"errorMessage": "boom", "requestId": "<uuid>"},
        }
        observed = Observation(
            status="FAILED", error="Exception", cause='{"requestId": "r-1", "errorMessage": "boom"}'
        )
        assert compare_outcome(expected, observed, Matcher()).passed

    def test_a_status_difference_is_the_reason(self) -> None:
        expected = {"status": "FAILED", "error": "States.Runtime", "cause": "x"}
        verdict = compare_outcome(expected, Observation(status="SUCCEEDED", output="{}"), Matcher())
        assert not verdict.passed
        assert verdict.reason == "status FAILED -> SUCCEEDED [expected States.Runtime]"

    def test_a_podium_failure_fails_with_its_text(self) -> None:
        observed = Observation(
            failure="podium raised KeyError: 'x'", failure_reason="podium raised KeyError: 'x'"
        )
        verdict = compare_outcome({"status": "SUCCEEDED", "output": {}}, observed, Matcher())
        assert (verdict.passed, verdict.reason) == (False, "podium raised KeyError: 'x'")


class TestEvents:
    STARTED = {"type": "ExecutionStarted", "executionStartedEventDetails": {"input": {}}}
    SUCCEEDED = {"type": "ExecutionSucceeded", "executionSucceededEventDetails": {"output": {}}}

    @staticmethod
    def aws(event_type: str, key: str) -> dict[str, Any]:
        return {
            "id": 1,
            "previousEventId": 0,
            "timestamp": 0.0,
            "type": event_type,
            key: {"input": "{}", "output": "{}"},
        }

    def record(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {"name": "example", "status": "SUCCEEDED", "output": "{}", "events": events}

    def test_a_reverse_order_recording_is_compared_in_that_order(self) -> None:
        case = make_case(
            expected={
                "status": "SUCCEEDED",
                "output": {},
                "event_types": ["ExecutionSucceeded", "ExecutionStarted"],
                "events": [{"type": "ExecutionSucceeded"}, {"type": "ExecutionStarted"}],
            }
        )
        history = [{"type": "ExecutionStarted"}, {"type": "ExecutionSucceeded"}]
        verdicts = judge_record(case, self.record(history))
        assert all(v.passed for v in verdicts.values()), verdicts

    def test_parallel_branches_may_interleave(self) -> None:
        definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [], "End": True}}}
        expected_types = ["ExecutionStarted", "PassStateEntered", "WaitStateEntered", "ExecutionSucceeded"]
        case = make_case(
            definition=definition,
            expected={"status": "SUCCEEDED", "output": {}, "event_types": expected_types, "events": []},
        )
        history = [
            {"type": t}
            for t in ("ExecutionStarted", "WaitStateEntered", "PassStateEntered", "ExecutionSucceeded")
        ]
        verdicts = judge_record(case, self.record(history))
        assert not verdicts["event_types"].passed
        assert (
            verdicts["event_types"].reason == "event types: expected PassStateEntered, got WaitStateEntered"
        )
        assert verdicts["event_types_unordered"].passed

    def test_an_execution_without_history_fails_every_event_level(self) -> None:
        verdicts = judge_record(
            make_case(), {"name": "example", "status": "SUCCEEDED", "output": "{}", "events": None}
        )
        assert verdicts["outcome"].passed
        assert [lv for lv, v in verdicts.items() if not v.passed] == [
            "event_types",
            "event_types_unordered",
            "events",
            "events_unordered",
        ]


class TestSkipRules:
    LAMBDA_DEFINITION = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "${LambdaFunctionArn:id_function}", "End": True}},
    }

    def test_a_registered_lambda_placeholder_resolves_to_an_arn(self) -> None:
        case = make_case(definition=self.LAMBDA_DEFINITION, classification={"services": ["lambda"]})
        assert skip_reason(case, ["id_function"]) is None
        definition, _ = resolve(case, ["id_function"])
        assert (
            definition["States"]["T"]["Resource"]
            == "arn:aws:lambda:us-east-1:000000000000:function:id_function"
        )

    def test_without_functions_lambda_cases_are_skipped_as_the_judge_skips_them(self) -> None:
        case = make_case(definition=self.LAMBDA_DEFINITION, classification={"services": ["lambda"]})
        assert skip_reason(case) == "unresolved ${...} in definition"
        assert skip_reason(case, ["other"]) == "needs Lambda function id_function (not registered)"

    def test_other_services_placeholders_in_the_input_and_test_state(self) -> None:
        assert (
            skip_reason(make_case(classification={"services": ["sqs"]}), ["id_function"])
            == "needs services (sqs)"
        )
        assert skip_reason(make_case(input={"At": "<timestamp>"})) == "placeholder in input (<timestamp>)"
        assert skip_reason(make_case(expected={"status": "RUNNING"})) == (
            "recorded status RUNNING (history captured before termination)"
        )


class TestTestStateCases:
    TASK = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}

    def test_a_mocked_service_needs_no_service(self) -> None:
        case = make_case(
            kind="test_state",
            definition=self.TASK,
            classification={"services": ["sqs"]},
            test_state_request={"mock": {"result": "{}"}},
        )
        assert skip_reason(case, ["id_function"]) is None
        unmocked = make_case(kind="test_state", definition=self.TASK, classification={"services": ["sqs"]})
        assert skip_reason(unmocked, ["id_function"]) == "needs services (sqs)"

    def test_only_the_state_under_test_counts(self) -> None:
        machine = {
            "StartAt": "Check",
            "States": {"Check": {"Type": "Pass", "Next": "Send"}, "Send": {**self.TASK}},
        }
        services = {"services": ["sqs"]}
        check = make_case(
            kind="test_state",
            definition=machine,
            classification=services,
            test_state_request={"stateName": "Check"},
        )
        assert skip_reason(check) is None
        send = make_case(
            kind="test_state",
            definition=machine,
            classification=services,
            test_state_request={"stateName": "Send"},
        )
        assert skip_reason(send) == "needs services (sqs)"

    def test_a_registered_function_is_called_for_real(self) -> None:
        task = {"Type": "Task", "Resource": "${LambdaFunctionArn:id_function}", "End": True}
        case = make_case(kind="test_state", definition=task, classification={"services": ["lambda"]})
        assert skip_reason(case, ["id_function"]) is None
        assert skip_reason(case) == "unresolved ${...} in definition"

    def test_the_request_and_its_judgement(self) -> None:
        from podium.conformance.runner import run_cases

        expected = {
            "status": "CAUGHT_ERROR",
            "output": {"Error": "Boom", "Cause": "why"},
            "error": "Boom",
            "cause": "why",
            "nextState": "Handle",
        }
        task = {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle"}],
            "End": True,
        }
        mock = {"errorOutput": {"error": "Boom", "cause": "why"}}
        case = make_case(
            kind="test_state", definition=task, expected=expected, test_state_request={"mock": mock}
        )
        (result,) = run_cases([case]).results
        assert result.passed("outcome"), result.verdicts
        assert result.record["nextState"] == "Handle"
        wrong_next = make_case(
            kind="test_state",
            definition=task,
            expected={**expected, "nextState": "Elsewhere"},
            test_state_request={"mock": mock},
        )
        (result,) = run_cases([wrong_next]).results
        assert result.verdicts["outcome"].reason == "nextState differs"
        wrong_output = make_case(
            kind="test_state",
            definition=task,
            expected={**expected, "output": {"Error": "Boom"}},
            test_state_request={"mock": mock},
        )
        (result,) = run_cases([wrong_output]).results
        assert result.verdicts["outcome"].reason == "output differs"

    def test_a_refused_request_fails_the_case_with_the_api_error(self) -> None:
        from podium.conformance.runner import run_cases

        case = make_case(
            kind="test_state",
            definition={"Type": "Pass", "End": True},
            test_state_request={"mock": {"result": "{}"}},
        )
        (result,) = run_cases([case]).results
        assert result.verdicts["outcome"].reason == "TestState refused: ValidationException"


def test_an_exception_inside_podium_fails_the_case_not_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = pytest.importorskip("podium.asl.parser")
    from podium.conformance.runner import run_cases

    def broken(text: str) -> None:
        raise RuntimeError("the parser broke")

    monkeypatch.setattr(parser, "parse_definition", broken)
    run = run_cases([make_case(), make_case(name="second")])
    assert [r.record["podium_error"].split(" (at ")[0] for r in run.results] == [
        "podium raised RuntimeError: the parser broke"
    ] * 2
    assert not any(r.passed("outcome") for r in run.results)


# --- the public corpus -----------------------------------------------------------------------


def _corpus() -> Path:
    if not CORPUS.is_dir():
        message = f"the conformance corpus is not at {CORPUS}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CORPUS


@pytest.fixture(scope="module")
def corpus_run() -> Any:
    corpus = _corpus()
    from podium.conformance import run_cases
    from podium.conformance.cases import load_cases, select
    from podium.connectors.functions import FunctionRegistry

    functions = FunctionRegistry()
    functions.load_module(str(FIXTURE_FUNCTIONS))
    return run_cases(select(load_cases([corpus])), functions)


def _rate(run: Any, kinds: tuple[str, ...], level: str) -> tuple[float, str]:
    from podium.conformance.report import failure_reasons

    judged = [
        r for r in run.results if r.attempted and r.case.pure and r.case.kind in kinds and level in r.verdicts
    ]
    passed = sum(1 for r in judged if r.verdicts[level].passed)
    top = "\n".join(
        f"  {len(n):>4}  {reason}  e.g. {n[0]}" for reason, n in failure_reasons(judged, level)[:10]
    )
    return passed / max(len(judged), 1), f"{passed}/{len(judged)} at {level}; most frequent failures:\n{top}"


def test_outcome_floor_over_pure_cases(corpus_run: Any) -> None:
    rate, summary = _rate(corpus_run, ("execution", "io_case"), "outcome")
    assert rate >= OUTCOME_FLOOR, summary


def test_event_types_floor_over_pure_cases(corpus_run: Any) -> None:
    rate, summary = _rate(corpus_run, ("execution", "io_case"), "event_types")
    assert rate >= EVENT_TYPES_FLOOR, summary


def test_test_state_floor_over_attempted_cases(corpus_run: Any) -> None:
    from podium.conformance.report import failure_reasons

    judged = [r for r in corpus_run.results if r.attempted and r.case.kind == "test_state"]
    passed = sum(1 for r in judged if r.verdicts["outcome"].passed)
    failures = "\n".join(
        f"  {len(n):>4}  {reason}  e.g. {n[0]}" for reason, n in failure_reasons(judged, "outcome")
    )
    summary = f"{passed}/{len(judged)} test_state cases at outcome; failures:\n{failures}"
    assert len(judged) >= TEST_STATE_ATTEMPTED_FLOOR, summary
    assert passed / len(judged) >= TEST_STATE_OUTCOME_FLOOR, summary


def test_the_official_judge_agrees_with_the_runner(corpus_run: Any, tmp_path: Path) -> None:
    if not JUDGE.is_file():
        pytest.skip(f"the official judge is not at {JUDGE}")
    from podium.conformance import write_json
    from podium.conformance.report import tally

    spec = importlib.util.spec_from_file_location("sfn_conformance", JUDGE)
    assert spec is not None and spec.loader is not None
    judge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(judge)
    records, verdicts = tmp_path / "records.json", tmp_path / "verdicts.json"
    write_json(corpus_run, records)
    assert judge.main([str(CORPUS), "--observed", str(records), "--json", str(verdicts), "--top", "0"]) == 0
    theirs = json.loads(verdicts.read_text(encoding="utf-8"))["summary"]
    # The judge does not drive TestState: it skips the test_state cases, so they are left out here.
    driven = [r for r in corpus_run.results if r.case.kind != "test_state"]
    ours = {f"{kind}/{level}": c for (kind, level), c in tally(driven, pure_only=True).items()}
    assert {k: (v["pass"], v["pass"] + v["fail"]) for k, v in theirs.items()} == {
        k: (c.passed, c.attempted) for k, c in ours.items()
    }
