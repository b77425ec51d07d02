"""Choice rules (podium.asl.choice), with AWS's recorded answers as the reference.

`AWS_CASES` is taken from the conformance corpus (the localstack snapshot tests recorded against
AWS: v2/choice_operators/*): one Choice rule `{"Variable": "$.Variable", <Operator>: <operand>}`
run on the input `{"Variable": <variable>, "Value": <other>}`, the `...Path` operators reading
their operand from "$.Value".
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("podium.asl.paths")  # the choice module reads its paths through it

from podium.asl.choice import choose, evaluate_rule, parse_timestamp, string_matches
from podium.asl.errors import EvaluationError
from podium.asl.model import (
    And,
    Choice,
    ChoiceState,
    Comparison,
    Condition,
    Not,
    Or,
    QueryLanguage,
    StateType,
)
from podium.asl.scope import Scope

# (operator as written, value of $.Variable, the literal operand (or $.Value for ...Path), holds)
AWS_CASES: list[tuple[str, Any, Any, bool]] = [
    ("BooleanEquals", None, True, False),
    ("BooleanEquals", None, False, False),
    ("BooleanEquals", "", True, False),
    ("BooleanEquals", "", False, False),
    ("BooleanEquals", " ", True, False),
    ("BooleanEquals", " ", False, False),
    ("BooleanEquals", "HelloWorld", True, False),
    ("BooleanEquals", "HelloWorld", False, False),
    ("BooleanEquals", "2012-10-09T19:00:55", True, False),
    ("BooleanEquals", "2012-10-09T19:00:55", False, False),
    ("BooleanEquals", "2012-10-09T19:00:55Z", True, False),
    ("BooleanEquals", "2012-10-09T19:00:55Z", False, False),
    ("BooleanEquals", 0, True, False),
    ("BooleanEquals", "2012-10-09T19:00:55+01:00", True, False),
    ("BooleanEquals", "2012-10-09T19:00:55+01:00", False, False),
    ("BooleanEquals", "2023-02-24", True, False),
    ("BooleanEquals", "2023-02-24", False, False),
    ("BooleanEquals", [], True, False),
    ("BooleanEquals", [], False, False),
    ("BooleanEquals", [""], True, False),
    ("BooleanEquals", [""], False, False),
    ("BooleanEquals", {}, True, False),
    ("BooleanEquals", {}, False, False),
    ("BooleanEquals", 0, False, False),
    ("BooleanEquals", {"A": 0}, True, False),
    ("BooleanEquals", {"A": 0}, False, False),
    ("BooleanEquals", True, True, True),
    ("BooleanEquals", False, True, False),
    ("BooleanEquals", False, False, True),
    ("BooleanEquals", 0.0, True, False),
    ("BooleanEquals", 0.0, False, False),
    ("BooleanEquals", 1, True, False),
    ("BooleanEquals", 1, False, False),
    ("BooleanEquals", 1.1, True, False),
    ("BooleanEquals", 1.1, False, False),
    ("BooleanEqualsPath", None, True, False),
    ("BooleanEqualsPath", None, False, False),
    ("BooleanEqualsPath", "", True, False),
    ("BooleanEqualsPath", "", False, False),
    ("BooleanEqualsPath", " ", True, False),
    ("BooleanEqualsPath", " ", False, False),
    ("BooleanEqualsPath", "HelloWorld", True, False),
    ("BooleanEqualsPath", "HelloWorld", False, False),
    ("BooleanEqualsPath", "2012-10-09T19:00:55", True, False),
    ("BooleanEqualsPath", "2012-10-09T19:00:55", False, False),
    ("BooleanEqualsPath", "2012-10-09T19:00:55Z", True, False),
    ("BooleanEqualsPath", "2012-10-09T19:00:55Z", False, False),
    ("BooleanEqualsPath", 0, True, False),
    ("BooleanEqualsPath", "2012-10-09T19:00:55+01:00", True, False),
    ("BooleanEqualsPath", "2012-10-09T19:00:55+01:00", False, False),
    ("BooleanEqualsPath", "2023-02-24", True, False),
    ("BooleanEqualsPath", "2023-02-24", False, False),
    ("BooleanEqualsPath", [], True, False),
    ("BooleanEqualsPath", [], False, False),
    ("BooleanEqualsPath", [""], True, False),
    ("BooleanEqualsPath", [""], False, False),
    ("BooleanEqualsPath", {}, True, False),
    ("BooleanEqualsPath", {}, False, False),
    ("BooleanEqualsPath", 0, False, False),
    ("BooleanEqualsPath", {"A": 0}, True, False),
    ("BooleanEqualsPath", {"A": 0}, False, False),
    ("BooleanEqualsPath", True, True, True),
    ("BooleanEqualsPath", False, True, False),
    ("BooleanEqualsPath", False, False, True),
    ("BooleanEqualsPath", 0.0, True, False),
    ("BooleanEqualsPath", 0.0, False, False),
    ("BooleanEqualsPath", 1, True, False),
    ("BooleanEqualsPath", 1, False, False),
    ("BooleanEqualsPath", 1.1, True, False),
    ("BooleanEqualsPath", 1.1, False, False),
    ("IsBoolean", None, True, False),
    ("IsBoolean", None, False, True),
    ("IsBoolean", "", True, False),
    ("IsBoolean", "", False, True),
    ("IsBoolean", " ", True, False),
    ("IsBoolean", " ", False, True),
    ("IsBoolean", "HelloWorld", True, False),
    ("IsBoolean", "HelloWorld", False, True),
    ("IsBoolean", "2012-10-09T19:00:55", True, False),
    ("IsBoolean", "2012-10-09T19:00:55", False, True),
    ("IsBoolean", "2012-10-09T19:00:55Z", True, False),
    ("IsBoolean", "2012-10-09T19:00:55Z", False, True),
    ("IsBoolean", 0, True, False),
    ("IsBoolean", "2012-10-09T19:00:55+01:00", True, False),
    ("IsBoolean", "2012-10-09T19:00:55+01:00", False, True),
    ("IsBoolean", "2023-02-24", True, False),
    ("IsBoolean", "2023-02-24", False, True),
    ("IsBoolean", [], True, False),
    ("IsBoolean", [], False, True),
    ("IsBoolean", [""], True, False),
    ("IsBoolean", [""], False, True),
    ("IsBoolean", {}, True, False),
    ("IsBoolean", {}, False, True),
    ("IsBoolean", 0, False, True),
    ("IsBoolean", {"A": 0}, True, False),
    ("IsBoolean", {"A": 0}, False, True),
    ("IsBoolean", True, True, True),
    ("IsBoolean", False, True, True),
    ("IsBoolean", False, False, False),
    ("IsBoolean", 0.0, True, False),
    ("IsBoolean", 0.0, False, True),
    ("IsBoolean", 1, True, False),
    ("IsBoolean", 1, False, True),
    ("IsBoolean", 1.1, True, False),
    ("IsBoolean", 1.1, False, True),
    ("IsNull", None, True, True),
    ("IsNull", None, False, False),
    ("IsNull", "", True, False),
    ("IsNull", "", False, True),
    ("IsNull", " ", True, False),
    ("IsNull", " ", False, True),
    ("IsNull", "HelloWorld", True, False),
    ("IsNull", "HelloWorld", False, True),
    ("IsNull", "2012-10-09T19:00:55", True, False),
    ("IsNull", "2012-10-09T19:00:55", False, True),
    ("IsNull", "2012-10-09T19:00:55Z", True, False),
    ("IsNull", "2012-10-09T19:00:55Z", False, True),
    ("IsNull", 0, True, False),
    ("IsNull", "2012-10-09T19:00:55+01:00", True, False),
    ("IsNull", "2012-10-09T19:00:55+01:00", False, True),
    ("IsNull", "2023-02-24", True, False),
    ("IsNull", "2023-02-24", False, True),
    ("IsNull", [], True, False),
    ("IsNull", [], False, True),
    ("IsNull", [""], True, False),
    ("IsNull", [""], False, True),
    ("IsNull", {}, True, False),
    ("IsNull", {}, False, True),
    ("IsNull", 0, False, True),
    ("IsNull", {"A": 0}, True, False),
    ("IsNull", {"A": 0}, False, True),
    ("IsNull", True, True, False),
    ("IsNull", False, True, False),
    ("IsNull", False, False, True),
    ("IsNull", 0.0, True, False),
    ("IsNull", 0.0, False, True),
    ("IsNull", 1, True, False),
    ("IsNull", 1, False, True),
    ("IsNull", 1.1, True, False),
    ("IsNull", 1.1, False, True),
    ("IsPresent", None, True, True),
    ("IsPresent", None, False, False),
    ("IsPresent", "", True, True),
    ("IsPresent", "", False, False),
    ("IsPresent", " ", True, True),
    ("IsPresent", " ", False, False),
    ("IsPresent", "HelloWorld", True, True),
    ("IsPresent", "HelloWorld", False, False),
    ("IsPresent", "2012-10-09T19:00:55", True, True),
    ("IsPresent", "2012-10-09T19:00:55", False, False),
    ("IsPresent", "2012-10-09T19:00:55Z", True, True),
    ("IsPresent", "2012-10-09T19:00:55Z", False, False),
    ("IsPresent", 0, True, True),
    ("IsPresent", "2012-10-09T19:00:55+01:00", True, True),
    ("IsPresent", "2012-10-09T19:00:55+01:00", False, False),
    ("IsPresent", "2023-02-24", True, True),
    ("IsPresent", "2023-02-24", False, False),
    ("IsPresent", [], True, True),
    ("IsPresent", [], False, False),
    ("IsPresent", [""], True, True),
    ("IsPresent", [""], False, False),
    ("IsPresent", {}, True, True),
    ("IsPresent", {}, False, False),
    ("IsPresent", 0, False, False),
    ("IsPresent", {"A": 0}, True, True),
    ("IsPresent", {"A": 0}, False, False),
    ("IsPresent", True, True, True),
    ("IsPresent", False, True, True),
    ("IsPresent", False, False, False),
    ("IsPresent", 0.0, True, True),
    ("IsPresent", 0.0, False, False),
    ("IsPresent", 1, True, True),
    ("IsPresent", 1, False, False),
    ("IsPresent", 1.1, True, True),
    ("IsPresent", 1.1, False, False),
    ("NumericEquals", None, 0, False),
    ("NumericEquals", None, 0.0, False),
    ("NumericEquals", 0.0, 1, False),
    ("NumericEquals", 0.0, 1.0, False),
    ("NumericEquals", 1, 0, False),
    ("NumericEquals", 1, 0.0, False),
    ("NumericEquals", 1, 1, True),
    ("NumericEquals", 1, 1.0, True),
    ("NumericEquals", 1.1, 0, False),
    ("NumericEquals", 1.1, 0.0, False),
    ("NumericEquals", 1.1, 1, False),
    ("NumericEquals", 1.1, 1.0, False),
    ("NumericEquals", None, 1, False),
    ("NumericEquals", "", 0, False),
    ("NumericEquals", "", 0.0, False),
    ("NumericEquals", "", 1, False),
    ("NumericEquals", "", 1.0, False),
    ("NumericEquals", " ", 0, False),
    ("NumericEquals", " ", 0.0, False),
    ("NumericEquals", " ", 1, False),
    ("NumericEquals", " ", 1.0, False),
    ("NumericEquals", [], 0, False),
    ("NumericEquals", [], 0.0, False),
    ("NumericEquals", None, 1.0, False),
    ("NumericEquals", [], 1, False),
    ("NumericEquals", [], 1.0, False),
    ("NumericEquals", [""], 0, False),
    ("NumericEquals", [""], 0.0, False),
    ("NumericEquals", [""], 1, False),
    ("NumericEquals", [""], 1.0, False),
    ("NumericEquals", {}, 0, False),
    ("NumericEquals", {}, 0.0, False),
    ("NumericEquals", {}, 1, False),
    ("NumericEquals", {}, 1.0, False),
    ("NumericEquals", 0, 0, True),
    ("NumericEquals", {"A": 0}, 0, False),
    ("NumericEquals", {"A": 0}, 0.0, False),
    ("NumericEquals", {"A": 0}, 1, False),
    ("NumericEquals", {"A": 0}, 1.0, False),
    ("NumericEquals", False, 0, False),
    ("NumericEquals", False, 0.0, False),
    ("NumericEquals", False, 1, False),
    ("NumericEquals", False, 1.0, False),
    ("NumericEquals", True, 0, False),
    ("NumericEquals", True, 0.0, False),
    ("NumericEquals", 0, 0.0, True),
    ("NumericEquals", True, 1, False),
    ("NumericEquals", True, 1.0, False),
    ("NumericEquals", 0.0, 0, True),
    ("NumericEquals", 2.22, 2.22, True),
    ("NumericEquals", 0, 1, False),
    ("NumericEquals", 0, 1.0, False),
    ("NumericEquals", 0.0, 0.0, True),
    ("NumericEqualsPath", None, 0, False),
    ("NumericEqualsPath", None, 0.0, False),
    ("NumericEqualsPath", 0.0, 1, False),
    ("NumericEqualsPath", 0.0, 1.0, False),
    ("NumericEqualsPath", 1, 0, False),
    ("NumericEqualsPath", 1, 0.0, False),
    ("NumericEqualsPath", 1, 1, True),
    ("NumericEqualsPath", 1, 1.0, True),
    ("NumericEqualsPath", 1.1, 0, False),
    ("NumericEqualsPath", 1.1, 0.0, False),
    ("NumericEqualsPath", 1.1, 1, False),
    ("NumericEqualsPath", 1.1, 1.0, False),
    ("NumericEqualsPath", None, 1, False),
    ("NumericEqualsPath", "", 0, False),
    ("NumericEqualsPath", "", 0.0, False),
    ("NumericEqualsPath", "", 1, False),
    ("NumericEqualsPath", "", 1.0, False),
    ("NumericEqualsPath", " ", 0, False),
    ("NumericEqualsPath", " ", 0.0, False),
    ("NumericEqualsPath", " ", 1, False),
    ("NumericEqualsPath", " ", 1.0, False),
    ("NumericEqualsPath", [], 0, False),
    ("NumericEqualsPath", [], 0.0, False),
    ("NumericEqualsPath", None, 1.0, False),
    ("NumericEqualsPath", [], 1, False),
    ("NumericEqualsPath", [], 1.0, False),
    ("NumericEqualsPath", [""], 0, False),
    ("NumericEqualsPath", [""], 0.0, False),
    ("NumericEqualsPath", [""], 1, False),
    ("NumericEqualsPath", [""], 1.0, False),
    ("NumericEqualsPath", {}, 0, False),
    ("NumericEqualsPath", {}, 0.0, False),
    ("NumericEqualsPath", {}, 1, False),
    ("NumericEqualsPath", {}, 1.0, False),
    ("NumericEqualsPath", 0, 0, True),
    ("NumericEqualsPath", {"A": 0}, 0, False),
    ("NumericEqualsPath", {"A": 0}, 0.0, False),
    ("NumericEqualsPath", {"A": 0}, 1, False),
    ("NumericEqualsPath", {"A": 0}, 1.0, False),
    ("NumericEqualsPath", False, 0, False),
    ("NumericEqualsPath", False, 0.0, False),
    ("NumericEqualsPath", False, 1, False),
    ("NumericEqualsPath", False, 1.0, False),
    ("NumericEqualsPath", True, 0, False),
    ("NumericEqualsPath", True, 0.0, False),
    ("NumericEqualsPath", 0, 0.0, True),
    ("NumericEqualsPath", True, 1, False),
    ("NumericEqualsPath", True, 1.0, False),
    ("NumericEqualsPath", 0.0, 0, True),
    ("NumericEqualsPath", 2.22, 2.22, True),
    ("NumericEqualsPath", 0, 1, False),
    ("NumericEqualsPath", 0, 1.0, False),
    ("NumericEqualsPath", 0.0, 0.0, True),
    ("NumericGreaterThan", 0, 0, False),
    ("NumericGreaterThan", 0.0, 0, False),
    ("NumericGreaterThan", 0, 1, False),
    ("NumericGreaterThan", 1, 1, False),
    ("NumericGreaterThan", 1, 0, True),
    ("NumericGreaterThanEquals", 0, 0, True),
    ("NumericGreaterThanEquals", 0.0, 0, True),
    ("NumericGreaterThanEquals", 0, 1, False),
    ("NumericGreaterThanEquals", 1, 1, True),
    ("NumericGreaterThanEquals", 1, 0, True),
    ("NumericGreaterThanEqualsPath", 0, 0, True),
    ("NumericGreaterThanEqualsPath", 0.0, 0, True),
    ("NumericGreaterThanEqualsPath", 0, 1, False),
    ("NumericGreaterThanEqualsPath", 1, 1, True),
    ("NumericGreaterThanEqualsPath", 1, 0, True),
    ("NumericGreaterThanPath", 0, 0, False),
    ("NumericGreaterThanPath", 0.0, 0, False),
    ("NumericGreaterThanPath", 0, 1, False),
    ("NumericGreaterThanPath", 1, 1, False),
    ("NumericGreaterThanPath", 1, 0, True),
    ("NumericLessThanEquals", 0, 0, True),
    ("NumericLessThanEquals", 0.0, 0, True),
    ("NumericLessThanEquals", 0, 1, True),
    ("NumericLessThanEquals", 1, 1, True),
    ("NumericLessThanEquals", 1, 0, False),
    ("NumericLessThanEqualsPath", 0, 0, True),
    ("NumericLessThanEqualsPath", 0.0, 0, True),
    ("NumericLessThanEqualsPath", 0, 1, True),
    ("NumericLessThanEqualsPath", 1, 1, True),
    ("NumericLessThanEqualsPath", 1, 0, False),
    ("NumericLessThanPath", 0, 0, False),
    ("NumericLessThanPath", 0.0, 0, False),
    ("NumericLessThanPath", 0, 1, True),
    ("NumericLessThanPath", 1, 1, False),
    ("NumericLessThanPath", 1, 0, False),
    ("StringEqualsPath", " ", "     ", False),
    ("StringEqualsPath", "\t\n", "\t\r\n", False),
    ("StringEqualsPath", "Hello", "Hello", True),
    ("StringGreaterThanEquals", "", "", True),
    ("StringGreaterThanEquals", "A", "AB", False),
    ("StringGreaterThanEquals", "AB", "A", True),
    ("StringGreaterThanEqualsPath", "", "", True),
    ("StringGreaterThanEqualsPath", "A", "AB", False),
    ("StringGreaterThanEqualsPath", "AB", "A", True),
    ("StringLessThan", "", "", False),
    ("StringLessThan", "A", "AB", True),
    ("StringLessThan", "AB", "A", False),
    ("StringLessThanPath", "", "", False),
    ("StringLessThanPath", "A", "AB", True),
    ("StringLessThanPath", "AB", "A", False),
    ("TimestampEquals", None, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", 0, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", {}, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", {"A": 0}, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", False, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", True, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", 0.0, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", 1, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", 1.1, "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", "", "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", " ", "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", "2023-02-24 12:15:56.832957", "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", [], "2012-10-09T19:00:55Z", False),
    ("TimestampEquals", [""], "2012-10-09T19:00:55Z", False),
    ("TimestampEqualsPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampEqualsPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampEqualsPath", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", True),
    ("TimestampGreaterThanEqualsPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampGreaterThanPath", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", False),
    ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", False),
    ("TimestampLessThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", True),
    ("TimestampLessThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", True),
    ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", True),
    ("TimestampLessThanEquals", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ("TimestampLessThanEqualsPath", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
    ("TimestampLessThanPath", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", False),
]


def _scope(input: Any = None, *, variables: dict[str, Any] | None = None, context: Any = None) -> Scope:
    return Scope(input=input, context=context if context is not None else {}, variables=variables or {})


def _comparison(operator: str, operand: Any, variable: str = "$.Variable") -> Comparison:
    if operator.endswith("Path"):
        return Comparison(variable=variable, operator=operator.removesuffix("Path"), value=operand, path=True)
    return Comparison(variable=variable, operator=operator, value=operand)


@pytest.mark.parametrize(("operator", "variable", "other", "expected"), AWS_CASES)
def test_recorded_aws_answers(operator: str, variable: Any, other: Any, expected: bool) -> None:
    path = operator.endswith("Path")
    rule = _comparison(operator, "$.Value" if path else other)
    scope = _scope({"Variable": variable, "Value": other})
    assert evaluate_rule(rule, scope) is expected


# --- missing values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "operand"),
    [
        ("StringEquals", "a"),
        ("NumericEquals", 1),
        ("BooleanEquals", True),
        ("TimestampEquals", "2016-03-14T01:59:00Z"),
        ("IsNull", True),
        ("IsNumeric", False),
        ("IsString", False),
        ("IsBoolean", False),
        ("IsTimestamp", False),
    ],
)
def test_missing_variable_is_a_runtime_error(operator: str, operand: Any) -> None:
    rule = Comparison(variable="$.missing", operator=operator, value=operand)
    with pytest.raises(EvaluationError) as info:
        evaluate_rule(rule, _scope({"present": 1}))
    assert info.value.error == "States.Runtime"
    assert info.value.cause == (
        "Invalid path '$.missing': The choice state's condition path references an invalid value."
    )


def test_missing_path_operand_is_a_runtime_error() -> None:
    rule = Comparison(variable="$.a", operator="NumericEquals", value="$.nope", path=True)
    with pytest.raises(EvaluationError) as info:
        evaluate_rule(rule, _scope({"a": 1}))
    assert info.value.error == "States.Runtime"
    assert "Invalid path '$.nope'" in str(info.value.cause)


def test_is_present() -> None:
    scope = _scope({"a": None, "b": {"c": 0}})
    assert evaluate_rule(Comparison("$.a", "IsPresent", True), scope)
    assert evaluate_rule(Comparison("$.b.c", "IsPresent", True), scope)
    assert not evaluate_rule(Comparison("$.x", "IsPresent", True), scope)
    assert evaluate_rule(Comparison("$.x", "IsPresent", False), scope)
    assert not evaluate_rule(Comparison("$.b.c.d", "IsPresent", True), scope)


def test_is_present_guards_a_comparison_in_and() -> None:
    # The documented idiom: the StringEquals is not evaluated when the key is absent.
    rule = And(
        (
            Comparison("$.keyThatMightNotExist", "IsPresent", True),
            Comparison("$.keyThatMightNotExist", "StringEquals", "foo"),
        )
    )
    assert evaluate_rule(rule, _scope({})) is False
    assert evaluate_rule(rule, _scope({"keyThatMightNotExist": "foo"})) is True


# --- operators -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "variable", "operand", "expected"),
    [
        ("StringEquals", "abc", "abc", True),
        ("StringEquals", "abc", "ABC", False),
        ("StringLessThan", "a", "b", True),
        ("StringLessThan", "B", "a", True),  # by code point: uppercase first
        ("StringGreaterThan", "b", "a", True),
        ("StringLessThanEquals", "a", "a", True),
        ("StringGreaterThanEquals", "a", "b", False),
        ("StringLessThan", "\u00e9", "\U0001f600", True),  # code points beyond the BMP
        ("StringEquals", 1, "1", False),
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", 10**20, 1e20, True),
        ("NumericEquals", 2**53 + 1, float(2**53), False),  # exact, no rounding to double
        ("NumericLessThan", -1.5, -1, True),
        ("NumericGreaterThan", 3, 2.999, True),
        ("NumericLessThanEquals", 2, 2.0, True),
        ("NumericGreaterThanEquals", 1, 2, False),
        ("NumericEquals", "1", 1, False),
        ("NumericEquals", True, 1, False),
        ("BooleanEquals", False, False, True),
        ("BooleanEquals", 0, False, False),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T02:59:00+01:00", True),
        ("TimestampEquals", "2016-03-14T01:59:00.000Z", "2016-03-14T01:59:00Z", True),
        ("TimestampLessThan", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00.001Z", True),
        ("TimestampGreaterThan", "2016-03-14T01:59:00.1Z", "2016-03-14T01:59:00.09999Z", True),
        ("TimestampLessThanEquals", "2016-03-14T23:30:00-01:00", "2016-03-15T00:30:00Z", True),
        ("TimestampGreaterThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z", True),
        ("TimestampEquals", "2016-03-14", "2016-03-14T00:00:00Z", False),
        ("TimestampEquals", "2016-03-14T01:59:00Z", "not a timestamp", False),
    ],
)
def test_operators(operator: str, variable: Any, operand: Any, expected: bool) -> None:
    scope = _scope({"v": variable, "o": operand})
    assert evaluate_rule(Comparison("$.v", operator, operand), scope) is expected
    # The ...Path form reads the same operand from the input.
    assert evaluate_rule(Comparison("$.v", operator, "$.o", path=True), scope) is expected


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("log-2024.txt", "log-*.txt", True),
        ("log-.txt", "log-*.txt", True),
        ("log-2024.csv", "log-*.txt", False),
        ("anything at all", "*", True),
        ("", "*", True),
        ("", "", True),
        ("a", "", False),
        ("a*b", "a\\*b", True),  # \* is a literal star
        ("axb", "a\\*b", False),
        ("a\\b", "a\\\\b", True),  # \\ is a literal backslash
        ("a\\xyz", "a\\\\*", True),
        ("x.y", "x.y", True),  # no other metacharacters
        ("xzy", "x.y", False),
        ("[a]", "[a]", True),
        ("a\nb", "a*b", True),
        ("abc", "a**c", True),
        ("ABC", "abc", False),
        (1, "*", False),
    ],
)
def test_string_matches(value: Any, pattern: str, expected: bool) -> None:
    assert string_matches(value, pattern) is expected
    assert evaluate_rule(Comparison("$.v", "StringMatches", pattern), _scope({"v": value})) is expected


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-14T01:59:00.5Z", True),
        ("2016-03-14T01:59:00.123456789Z", True),
        ("2016-03-14T01:59:00+01:00", True),
        ("2016-03-14T01:59:00-23:59", True),
        ("2016-02-29T00:00:00Z", True),
        ("2016-03-14t01:59:00Z", False),
        ("2016-03-14T01:59:00z", False),
        ("2016-03-14 01:59:00Z", False),
        ("2016-03-14T01:59:00", False),
        ("2016-03-14T01:59Z", False),
        ("2016-03-14", False),
        ("2015-02-29T00:00:00Z", False),
        ("2016-13-01T00:00:00Z", False),
        ("2016-03-14T24:00:00Z", False),
        ("2016-03-14T01:60:00Z", False),
        ("2016-03-14T01:59:00+0100", False),
        ("2016-03-14T01:59:00+01:60", False),
        ("2016-03-14T01:59:00.Z", False),
        (" 2016-03-14T01:59:00Z", False),
        ("\uff12\uff1016-03-14T01:59:00Z", False),  # fullwidth digits are not digits here
        (1457920740, False),
    ],
)
def test_timestamp_format(text: Any, valid: bool) -> None:
    assert (parse_timestamp(text) is not None) is valid
    assert evaluate_rule(Comparison("$.t", "IsTimestamp", True), _scope({"t": text})) is valid


def test_type_tests() -> None:
    scope = _scope({"n": None, "i": 1, "f": 1.5, "s": "x", "b": False, "o": {}, "a": []})
    cases = {
        "IsNull": {"n"},
        "IsNumeric": {"i", "f"},
        "IsString": {"s"},
        "IsBoolean": {"b"},
    }
    for operator, holds_for in cases.items():
        for key in ("n", "i", "f", "s", "b", "o", "a"):
            assert evaluate_rule(Comparison(f"$.{key}", operator, True), scope) is (key in holds_for)
            assert evaluate_rule(Comparison(f"$.{key}", operator, False), scope) is (key not in holds_for)


def test_variable_paths_reach_context_and_variables() -> None:
    scope = _scope(
        {"x": 1},
        variables={"guess": "42", "answer": "42"},
        context={"Execution": {"Input": {"input-value": 0}}},
    )
    # Recorded: a Choice comparing two workflow variables, and one reading the context object.
    assert evaluate_rule(Comparison("$guess", "StringEquals", "$answer", path=True), scope)
    assert evaluate_rule(Comparison("$$.Execution.Input.input-value", "NumericLessThanEquals", 0), scope)


def test_whole_input_as_variable() -> None:
    # Recorded (a Map's break condition): "$" compared as a number, guarded by IsNumeric.
    rule = And(
        (
            Comparison("$", "IsPresent", True),
            And((Comparison("$", "IsNumeric", True), Comparison("$", "NumericEquals", 3))),
        )
    )
    assert evaluate_rule(rule, _scope(3))
    assert not evaluate_rule(rule, _scope(2))
    assert not evaluate_rule(rule, _scope("3"))


# --- composition -----------------------------------------------------------------------------------


def test_and_or_not() -> None:
    scope = _scope({"a": 1, "b": "x"})
    yes = Comparison("$.a", "NumericEquals", 1)
    no = Comparison("$.b", "StringEquals", "y")
    assert evaluate_rule(And((yes, yes)), scope)
    assert not evaluate_rule(And((yes, no)), scope)
    assert evaluate_rule(Or((no, yes)), scope)
    assert not evaluate_rule(Or((no, no)), scope)
    assert evaluate_rule(Not(no), scope)
    assert not evaluate_rule(Not(Not(no)), scope)
    assert evaluate_rule(And((yes,)), scope)  # a singleton composite (recorded)


def test_or_stops_at_the_first_true_rule() -> None:
    failing = Comparison("$.missing", "StringEquals", "x")
    scope = _scope({"a": 1})
    assert evaluate_rule(Or((Comparison("$.a", "NumericEquals", 1), failing)), scope)
    with pytest.raises(EvaluationError):
        evaluate_rule(Or((Comparison("$.a", "NumericEquals", 2), failing)), scope)


# --- JSONata conditions ----------------------------------------------------------------------------


def test_condition_literal() -> None:
    assert evaluate_rule(Condition(True), _scope({})) is True
    assert evaluate_rule(Condition(False), _scope({})) is False


@pytest.mark.parametrize(
    ("expression", "input", "expected"),
    [
        # Recorded conditions and the branch AWS took.
        ("{% $states.input.type = 'Public' %}", {"type": "Public", "value": 22}, True),
        ('{% $states.input.str_value = "string literal" %}', {"str_value": "string literal"}, True),
        ("{% $states.input.result.done %}", {"result": {"done": False}}, False),
        ("{% $not($states.input.result.done) %}", {"result": {"done": False}}, True),
        ("{% $states.input.cost < 10 %}", {"cost": 10}, False),
        ("{% $states.input.cost < 10 %}", {"cost": 9}, True),
        ("{% $states.input.condition %}", {"condition": True}, True),
    ],
)
def test_condition_expression(expression: str, input: Any, expected: bool) -> None:
    assert evaluate_rule(Condition(expression), _scope(input)) is expected


def test_condition_reads_variables() -> None:
    rule = Condition("{% $status = 'completed' %}")
    assert evaluate_rule(rule, _scope({}, variables={"status": "completed"}))
    assert not evaluate_rule(rule, _scope({}, variables={"status": "running"}))


def test_condition_must_be_boolean() -> None:
    with pytest.raises(EvaluationError) as info:
        evaluate_rule(Condition("{% $states.input.n %}"), _scope({"n": 1}))
    assert info.value.error == "States.QueryEvaluationError"
    assert info.value.cause == (
        "The JSONata expression '$states.input.n' specified for the field 'Condition' returned an "
        "unexpected result type. Expected 'boolean', but was 'number' for value: 1"
    )


def test_condition_undefined() -> None:
    with pytest.raises(EvaluationError) as info:
        evaluate_rule(Condition("{% $states.input.missing %}"), _scope({}))
    assert info.value.cause == (
        "The JSONata expression '$states.input.missing' specified for the field 'Condition' "
        "returned nothing (undefined)."
    )


# --- choose ----------------------------------------------------------------------------------------


def _state(*choices: Choice, default: str | None = "Default") -> ChoiceState:
    return ChoiceState(name="Check", type=StateType.CHOICE, choices=choices, default=default)


def test_choose_takes_the_first_match_in_order() -> None:
    first = Choice(rule=Comparison("$.result.done", "BooleanEquals", True), next="FinishTrue")
    second = Choice(rule=Comparison("$.result.done", "BooleanEquals", False), next="FinishFalse")
    third = Choice(rule=Comparison("$.result", "IsPresent", True), next="Never")
    state = _state(first, second, third, default=None)
    assert choose(state, _scope({"result": {"done": True}})) is first
    assert choose(state, _scope({"result": {"done": False}})) is second


def test_choose_none_when_nothing_matches() -> None:
    state = _state(Choice(rule=Comparison("$.a", "NumericGreaterThan", 5), next="Big"))
    assert choose(state, _scope({"a": 1})) is None


def test_choose_jsonata() -> None:
    state = ChoiceState(
        name="Check",
        type=StateType.CHOICE,
        query_language=QueryLanguage.JSONATA,
        choices=(
            Choice(rule=Condition("{% $states.input.result.done %}"), next="FinishTrue"),
            Choice(rule=Condition("{% $not($states.input.result.done) %}"), next="FinishFalse"),
        ),
    )
    chosen = choose(state, _scope({"result": {"done": False}}))
    assert chosen is not None and chosen.next == "FinishFalse"
