"""Choice rules: which branch of a Choice state is taken.

JSONPath states compare a `Variable` with a literal (StringEquals, NumericLessThan, ...) or with
another path (the `...Path` operators); JSONata states give a `Condition`. The semantics are AWS's:

- A comparison whose operands are not of its type is false, not an error (StringEquals on a
  number, NumericEquals on "1", TimestampEquals on a text that is not a timestamp).
- A `Variable` (or `...Path` operand) that does not exist fails the execution with
  States.Runtime, except under IsPresent, which exists to test exactly that.
- Numbers compare by value whatever their spelling (1 = 1.0); strings by code point;
  timestamps as instants (offsets applied, fractional seconds kept).
- A JSONata Condition must evaluate to a boolean; anything else is States.QueryEvaluationError.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Final, TypeAlias

from podium.asl import jsonata
from podium.asl.errors import ErrorName, EvaluationError
from podium.asl.model import JSON, And, Choice, ChoiceRule, ChoiceState, Comparison, Condition, Not, Or
from podium.asl.paths import path_exists, read_path
from podium.asl.scope import Scope

_Instant: TypeAlias = tuple[int, Fraction]
"""A timestamp's instant: whole seconds since the epoch, and the fraction of a second (exact)."""

__all__ = [
    "COMPARISON_OPERATORS",
    "TYPE_TEST_OPERATORS",
    "choose",
    "evaluate_rule",
    "parse_timestamp",
    "string_matches",
]


def choose(state: ChoiceState, scope: Scope) -> Choice | None:
    """The first of the state's Choices whose rule holds, in order; None if none does."""
    for choice in state.choices:
        if evaluate_rule(choice.rule, scope):
            return choice
    return None


def evaluate_rule(rule: ChoiceRule, scope: Scope) -> bool:
    """Whether a Choice rule holds. And/Or stop at the first deciding rule, as AWS does."""
    if isinstance(rule, Comparison):
        return _comparison(rule, scope)
    if isinstance(rule, And):
        return all(evaluate_rule(r, scope) for r in rule.rules)
    if isinstance(rule, Or):
        return any(evaluate_rule(r, scope) for r in rule.rules)
    if isinstance(rule, Not):
        return not evaluate_rule(rule.rule, scope)
    if isinstance(rule, Condition):
        return _condition(rule, scope)
    raise TypeError(f"not a Choice rule: {rule!r}")


# --- JSONata ---------------------------------------------------------------------------------------


def _condition(rule: Condition, scope: Scope) -> bool:
    expression = rule.expression
    if isinstance(expression, bool):  # "Condition": true is allowed as a literal
        return expression
    if not jsonata.is_jsonata_expression(expression):
        # The parser accepts only a boolean or "{% %}" text; this is a model built by hand.
        raise TypeError(f"a Condition must be a boolean or a JSONata expression, not {expression!r}")
    result = jsonata.evaluate_expression(expression, scope, field="Condition", expect="boolean")
    return bool(result)


# --- JSONPath comparisons --------------------------------------------------------------------------


def _invalid_path(path: str) -> EvaluationError:
    return EvaluationError(
        ErrorName.RUNTIME.value,
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )


def _read(path: str, scope: Scope) -> JSON:
    # Only a path that fails to resolve is an error: an indefinite path ($.items[*].x) that
    # matches nothing reads as an empty list, which then compares false.
    try:
        return read_path(path, scope)
    except EvaluationError:
        raise _invalid_path(path) from None


def _comparison(rule: Comparison, scope: Scope) -> bool:
    if rule.operator == "IsPresent":
        return path_exists(rule.variable, scope) is bool(rule.value)
    variable = _read(rule.variable, scope)
    test = TYPE_TEST_OPERATORS.get(rule.operator)
    if test is not None:
        return test(variable) is bool(rule.value)
    compare = COMPARISON_OPERATORS.get(rule.operator)
    if compare is None:
        raise ValueError(f"unknown Choice operator {rule.operator!r}")
    other = _read(rule.value, scope) if rule.path else rule.value
    return compare(variable, other)


# --- the operators ---------------------------------------------------------------------------------


def _is_number(value: JSON) -> bool:
    # bool is an int in Python, but true is not a number in JSON.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _strings(op: Callable[[str, str], bool]) -> Callable[[JSON, JSON], bool]:
    # Python compares str by code point, which is the order AWS documents.
    return lambda a, b: isinstance(a, str) and isinstance(b, str) and op(a, b)


def _numbers(op: Callable[[float, float], bool]) -> Callable[[JSON, JSON], bool]:
    # int against float compares exact values (1 == 1.0; no rounding of large ints).
    return lambda a, b: _is_number(a) and _is_number(b) and op(a, b)


def _timestamps(op: Callable[[_Instant, _Instant], bool]) -> Callable[[JSON, JSON], bool]:
    def compare(a: JSON, b: JSON) -> bool:
        left, right = parse_timestamp(a), parse_timestamp(b)
        return left is not None and right is not None and op(left, right)

    return compare


def _boolean_equals(a: JSON, b: JSON) -> bool:
    return isinstance(a, bool) and isinstance(b, bool) and a is b


def string_matches(value: JSON, pattern: JSON) -> bool:
    """StringMatches: `*` matches any run of characters (even none); `\\*` is a literal `*` and
    `\\\\` a literal backslash. Everything else matches itself, the whole string."""
    if not isinstance(value, str) or not isinstance(pattern, str):
        return False
    return _wildcard(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            # An escaped character is literal, whatever it is (\* and \\ are the documented ones).
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            if not parts or parts[-1] != ".*":  # a run of stars is one star
                parts.append(".*")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


COMPARISON_OPERATORS: Final[Mapping[str, Callable[[JSON, JSON], bool]]] = {
    "StringEquals": _strings(lambda a, b: a == b),
    "StringLessThan": _strings(lambda a, b: a < b),
    "StringGreaterThan": _strings(lambda a, b: a > b),
    "StringLessThanEquals": _strings(lambda a, b: a <= b),
    "StringGreaterThanEquals": _strings(lambda a, b: a >= b),
    "StringMatches": string_matches,
    "NumericEquals": _numbers(lambda a, b: a == b),
    "NumericLessThan": _numbers(lambda a, b: a < b),
    "NumericGreaterThan": _numbers(lambda a, b: a > b),
    "NumericLessThanEquals": _numbers(lambda a, b: a <= b),
    "NumericGreaterThanEquals": _numbers(lambda a, b: a >= b),
    "BooleanEquals": _boolean_equals,
    "TimestampEquals": _timestamps(lambda a, b: a == b),
    "TimestampLessThan": _timestamps(lambda a, b: a < b),
    "TimestampGreaterThan": _timestamps(lambda a, b: a > b),
    "TimestampLessThanEquals": _timestamps(lambda a, b: a <= b),
    "TimestampGreaterThanEquals": _timestamps(lambda a, b: a >= b),
}
"""The binary operators by base name (the `...Path` form reads its right operand from a path)."""


TYPE_TEST_OPERATORS: Final[Mapping[str, Callable[[JSON], bool]]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}
"""The type tests, whose value is the expected answer (IsNull: false holds for a non-null).
IsPresent is apart: it is the only operator a missing Variable does not fail."""


# --- timestamps ------------------------------------------------------------------------------------

# RFC 3339 as the States language restricts it: uppercase "T" between date and time, and "Z"
# unless a numeric offset is given. Seconds are required; a fraction of any length is allowed.
_TIMESTAMP: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(value: JSON) -> _Instant | None:
    """The instant a States-language timestamp names, or None if `value` is not one.

    "2016-03-14T01:59:00Z", "2016-03-14T01:59:00.123+01:00"; not a date alone, not a lowercase
    "t"/"z", not a missing offset, not an impossible date (February 30th).
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    try:
        offset = timedelta(0)
        if sign is not None:
            if int(off_m) > 59:
                return None
            offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:  # out-of-range field or offset
        return None
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    part = Fraction(int(fraction), 10 ** len(fraction)) if fraction else Fraction(0)
    return seconds, part
