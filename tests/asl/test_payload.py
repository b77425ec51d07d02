"""JSONPath payload templates (podium.asl.payload), checked against AWS's recorded answers.

Besides the unit tests, `test_pass_machines_of_the_corpus` replays every Pass-only JSONPath
machine of the conformance corpus (when it is present: it is not part of this repository) with
a minimal Pass interpreter built on paths + payload, and compares output or error.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from podium.asl.errors import EvaluationError, StatesError
from podium.asl.paths import apply_result_path, read_path
from podium.asl.payload import evaluate_expression, resolve_template
from podium.asl.scope import Scope

CORPUS = Path(os.environ.get("PODIUM_CORPUS", "/work/shared/conformance/asl/cases"))


def scope(data: Any, **kwargs: Any) -> Scope:
    context = kwargs.pop("context", {"Execution": {"Input": data}, "Map": {"Item": {"Value": "Pikachu"}}})
    return Scope(input=data, context=context, **kwargs)


def test_keys_ending_in_dollar_are_evaluated_and_renamed() -> None:
    template = {
        "literal": "$.not_a_path",
        "path.$": "$.a",
        "context.$": "$$.Map.Item.Value",
        "var.$": "$v",
        "call.$": "States.Format('{} {}', $.a, $v)",
        "nested": {"deep.$": "$.b[1]", "list": [1, {"x.$": "$.a"}, [{"y.$": "$.a"}], "$.a"]},
        "whole.$": "$",
    }
    data = {"a": "A", "b": [0, 1]}
    assert resolve_template(template, scope(data, variables={"v": 7})) == {
        "literal": "$.not_a_path",
        "path": "A",
        "context": "Pikachu",
        "var": 7,
        "call": "A 7",
        "nested": {"deep": 1, "list": [1, {"x": "A"}, [{"y": "A"}], "$.a"]},
        "whole": data,
    }


def test_the_template_is_never_shared_nor_changed() -> None:
    template = {"a": {"b": [1, {"c": 2}]}, "d.$": "$"}
    frozen = json.dumps(template)
    out = resolve_template(template, scope({}))
    out["a"]["b"][1]["c"] = 3
    out["a"]["b"].append(4)
    assert json.dumps(template) == frozen
    assert resolve_template([{"x.$": "$"}, 2], scope(5)) == [{"x": 5}, 2]
    assert resolve_template("scalar", scope(5)) == "scalar"


def test_comments_and_non_string_dollar_keys_stay_literal() -> None:
    # v2/comments test_comment_in_parameters; a non-string ".$" value is a definition error,
    # reported by the validator, so it is copied as written here.
    template = {"comment": "x", "Comment": {"nested.$": 1}}
    assert resolve_template(template, scope({})) == template


def test_escape_sequences_in_literals() -> None:
    # v2/scenarios ESCAPE_SEQUENCES_STRING_LITERALS: literals are copied byte for byte.
    template = {
        "literal_single_quote": "'",
        "escaped_double_in_string": 'An escaped quote: \\"hello\\"',
        "escaped_backslash": "Backslash \\\\ in string",
        "whitespace_escapes": "Line1\nLine2\tTabbed",
        "emoji": "🆗",
    }
    assert resolve_template(template, scope({})) == template


def test_map_item_selector_from_the_corpus() -> None:
    # v2/assign MAP_STATE_REFERENCE_IN_INTRINSIC_FUNCTION
    template = {
        "Question": "Who's that Pokemon?",
        "Answer.$": "States.Format($AnswerTemplate, $$.Map.Item.Value)",
    }
    s = scope({}, variables={"AnswerTemplate": "It's {}!"})
    assert resolve_template(template, s) == {"Question": "Who's that Pokemon?", "Answer": "It's Pikachu!"}


def test_assign_with_every_intrinsic_from_the_corpus() -> None:
    # v2/assign BASE_ASSIGN_FROM_INTRINSIC_FUNCTION (the UUID is a placeholder there)
    data = {
        "inputArray": [1, 2, 3, 4, 5, 6],
        "duplicateArray": [1, 2, 2, 3, 3, 4],
        "rawString": "Hello World",
        "encodedString": "SGVsbG8gV29ybGQ=",
        "inputString": "Hash this string",
        "json1": {"a": 1, "b": 2},
        "json2": {"c": 3, "d": 4},
        "jsonString": '{"key":"value"}',
        "jsonObject": {"test": "object"},
        "value1": 5,
        "value2": 3,
        "csvString": "a,b,c,d,e",
        "name": "John",
        "place": "LocalStack",
    }
    assign = {
        "arrayOps": {
            "simpleArray.$": "States.Array('a', 'b', 'c')",
            "partitionedArray.$": "States.ArrayPartition($.inputArray, 2)",
            "containsElement.$": "States.ArrayContains($.inputArray, 5)",
            "numberRange.$": "States.ArrayRange(1, 10, 2)",
            "thirdElement.$": "States.ArrayGetItem($.inputArray, 2)",
            "arraySize.$": "States.ArrayLength($.inputArray)",
            "uniqueValues.$": "States.ArrayUnique($.duplicateArray)",
        },
        "encodingOps": {
            "encoded.$": "States.Base64Encode($.rawString)",
            "decoded.$": "States.Base64Decode($.encodedString)",
        },
        "hashOps": {"hashValue.$": "States.Hash($.inputString, 'SHA-256')"},
        "jsonOps": {
            "mergedJson.$": "States.JsonMerge($.json1, $.json2, false)",
            "parsedJson.$": "States.StringToJson($.jsonString)",
            "stringifiedJson.$": "States.JsonToString($.jsonObject)",
        },
        "mathOps": {"sum.$": "States.MathAdd($.value1, $.value2)"},
        "stringOps": {
            "splitString.$": "States.StringSplit($.csvString, ',')",
            "formattedString.$": "States.Format('Hello {}, welcome to {}!', $.name, $.place)",
        },
    }
    assert resolve_template(assign, scope(data)) == {
        "arrayOps": {
            "uniqueValues": [1, 2, 3, 4],
            "simpleArray": ["a", "b", "c"],
            "thirdElement": 3,
            "partitionedArray": [[1, 2], [3, 4], [5, 6]],
            "arraySize": 6,
            "containsElement": True,
            "numberRange": [1, 3, 5, 7, 9],
        },
        "encodingOps": {"decoded": "Hello World", "encoded": "SGVsbG8gV29ybGQ="},
        "hashOps": {"hashValue": "1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e"},
        "jsonOps": {
            "parsedJson": {"key": "value"},
            "mergedJson": {"a": 1, "b": 2, "c": 3, "d": 4},
            "stringifiedJson": '{"test":"object"}',
        },
        "mathOps": {"sum": 8},
        "stringOps": {
            "formattedString": "Hello John, welcome to LocalStack!",
            "splitString": ["a", "b", "c", "d", "e"],
        },
    }


@pytest.mark.parametrize(
    ("template", "data", "cause"),
    [
        (
            {"value.$": "$.no_such_jsonpath"},
            {"int-literal": 0},
            "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found "
            "in the input '{\"int-literal\":0}'",
        ),
        (
            {"outer": [{"value.$": "$$.Execution.Input.nope"}]},
            {"int-literal": 0},
            "The JSONPath '$$.Execution.Input.nope' specified for the field 'value.$' could not be "
            "found in the input '{\"int-literal\":0}'",
        ),
        ({"Input.$": "$"}, None, "Unable to apply Path transformation to null or empty input."),
        (
            {"x.$": "not a path"},
            {},
            "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call",
        ),
        (
            {"x.$": "States.ArrayLength($.a)"},
            {"a": 1},
            "Invalid arguments in States.ArrayLength: The argument must",
        ),
    ],
)
def test_errors(template: Any, data: Any, cause: str) -> None:
    with pytest.raises(EvaluationError) as info:
        resolve_template(template, scope(data))
    assert info.value.error == "States.Runtime"
    assert (info.value.cause or "").startswith(cause)


def test_evaluate_expression() -> None:
    assert evaluate_expression("$.a", scope({"a": 1}), field="x.$") == 1
    assert evaluate_expression("States.Array($.a)", scope({"a": 1}), field="x.$") == [1]


# --- the corpus --------------------------------------------------------------------------------

_PREFIX = re.compile(
    r"^An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. "
)
_PASS_FIELDS = {
    "Type",
    "Comment",
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "Result",
    "ResultPath",
}
# Not about templates: a payload size limit, and a random number the recording masked.
_OUT_OF_SCOPE = ("test_states_errors_TestStatesErrors_test_start_large_input", "test_math_random")


def _run_pass_machine(definition: dict[str, Any], execution_input: Any) -> Any:
    data, name = execution_input, definition["StartAt"]
    while True:
        state = definition["States"][name]
        context = {
            "Execution": {"Input": execution_input, "Name": "execution"},
            "StateMachine": {"Name": "machine-name"},
            "State": {"Name": name},
        }
        here = Scope(input=data, context=context)
        input_path = state.get("InputPath", "$")
        effective = {} if input_path is None else read_path(input_path, here, field="InputPath")
        if "Parameters" in state:
            effective = resolve_template(state["Parameters"], Scope(input=effective, context=context))
        result = state.get("Result", effective)
        output = apply_result_path(state.get("ResultPath", "$"), data, result)
        output_path = state.get("OutputPath", "$")
        data = (
            {} if output_path is None else read_path(output_path, Scope(output, context), field="OutputPath")
        )
        if state.get("End"):
            return data
        name = state["Next"]


def _pass_cases() -> list[Any]:
    if not CORPUS.is_dir():
        return [
            pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))
        ]
    cases = []
    for path in sorted(CORPUS.glob("*.json")):
        case = json.loads(path.read_text())
        definition = case.get("definition")
        if case.get("kind") not in ("execution", "io_case") or not isinstance(definition, dict):
            continue
        states = definition.get("States") or {}
        if (
            definition.get("QueryLanguage") == "JSONata"
            or not states
            or any(path.stem.find(s) >= 0 for s in _OUT_OF_SCOPE)
        ):
            continue
        only_pass = all(s.get("Type") == "Pass" and not set(s) - _PASS_FIELDS for s in states.values())
        if only_pass and case["expected"].get("status") in ("SUCCEEDED", "FAILED"):
            cases.append(pytest.param(case, id=path.stem[:80]))
    return cases


@pytest.mark.parametrize("case", _pass_cases())
def test_pass_machines_of_the_corpus(case: dict[str, Any]) -> None:
    expected = case["expected"]
    try:
        output = _run_pass_machine(case["definition"], case["input"])
    except StatesError as exc:
        assert expected["status"] == "FAILED", exc
        assert exc.error == expected["error"]
        tail = _PREFIX.sub("", expected["cause"])
        assert re.fullmatch(re.escape(tail).replace(re.escape("<json-input:1>"), ".*"), exc.cause or "")
        return
    assert expected["status"] == "SUCCEEDED"
    if "<" not in json.dumps(expected["output"]):  # placeholders (ARNs, ids) match anything
        assert output == expected["output"]
