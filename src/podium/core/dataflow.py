"""The fields that move data through a state and the small computations that go with them.

InputPath, OutputPath, ResultPath, the Fail state's error and cause, a Wait state's wake-up
time, TimeoutSeconds/HeartbeatSeconds: each in the query language of its state, with the
error texts AWS gives when the data does not fit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from podium.asl import intrinsics, jsonata, paths
from podium.asl.errors import ErrorName, EvaluationError
from podium.asl.jsontext import to_json_text
from podium.asl.model import JSON, FailState, QueryLanguage, State, WaitState
from podium.asl.scope import Scope

UNSET: Any = object()
MAX_WAIT_SECONDS = 99_999_999  # AWS's limit on any wait or timeout
_RUNTIME = ErrorName.RUNTIME.value


def _with_input(scope: Scope, value: JSON) -> Scope:
    if scope.input is value:
        return scope
    return Scope(
        input=value,
        context=scope.context,
        variables=scope.variables,
        now_ms=scope.now_ms,
        random=scope.random,
    )


def input_path(path: str | None, raw_input: JSON, scope: Scope) -> JSON:
    if path is None:
        return {}
    if path == "$":
        return raw_input
    return paths.read_path(path, _with_input(scope, raw_input), field="InputPath")


def output_path(path: str | None, value: JSON, scope: Scope) -> JSON:
    if path is None:
        return {}
    if path == "$":
        return value
    return paths.read_path(path, _with_input(scope, value), field="OutputPath")


def apply_result_path(path: str | None, raw_input: JSON, result: JSON) -> JSON:
    return paths.apply_result_path(path, raw_input, result)


def fail_fields(state: FailState, scope: Scope) -> tuple[str | None, str | None]:
    """The error and cause of a Fail state (literal, *Path, or JSONata)."""
    if state.query_language == QueryLanguage.JSONATA:
        error = _jsonata_text(state.error, scope, "Error")
        cause = _jsonata_text(state.cause, scope, "Cause")
        return error, cause
    error = state.error
    cause = state.cause
    if state.error_path is not None:
        error = _text(_path_or_intrinsic(state.error_path, scope, "ErrorPath"))
    if state.cause_path is not None:
        cause = _text(_path_or_intrinsic(state.cause_path, scope, "CausePath"))
    return error, cause


def _path_or_intrinsic(text: str, scope: Scope, field: str) -> JSON:
    if intrinsics.is_intrinsic(text):
        return intrinsics.evaluate_intrinsic(text, scope, field=field)
    return paths.read_field_path(text, scope, field)


def _jsonata_text(value: JSON, scope: Scope, field: str) -> str | None:
    if value is None:
        return None
    if jsonata.is_jsonata_expression(value):
        value = jsonata.evaluate_expression(value, scope, field=field)
    return _text(value)


def _text(value: JSON) -> str:
    return value if isinstance(value, str) else to_json_text(value)


def seconds_field(state: State, name: str, literal: JSON, path: str | None, scope: Scope) -> int | None:
    """TimeoutSeconds / HeartbeatSeconds: a literal, a path (JSONPath) or an expression (JSONata)."""
    return integer_field(name, literal, path, scope, minimum=1, expression_minimum=1)


def integer_field(
    name: str,
    literal: JSON,
    path: str | None,
    scope: Scope,
    *,
    minimum: int,
    expression_minimum: int | None = None,
    numeric_strings: bool = False,
) -> int | None:
    """An integer field given literally, through `{name}Path`, or as a JSONata expression.

    `minimum` bounds the value a path reads (`expression_minimum` an expression's, if any);
    `numeric_strings` accepts "12" from a path, as AWS does for a Map's fields.
    """
    if path is not None:
        value = paths.read_path(path, scope, field=f"{name}Path")
        if numeric_strings and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not _is_integral(value) or value < minimum:
            raise EvaluationError(
                _RUNTIME,
                f"The {name}Path field refers to value {_quoted(value)} which is not a valid integer: {path}",
            )
        return int(value)
    if literal is None:
        return None
    if jsonata.is_jsonata_expression(literal):
        value = jsonata.evaluate_expression(literal, scope, field=name)
        if not _is_integral(value) or (expression_minimum is not None and value < expression_minimum):
            raise EvaluationError(
                ErrorName.QUERY_EVALUATION_ERROR.value,
                f"The JSONata expression '{_inner(literal)}' specified for the field '{name}' "
                "returned an unexpected result type. "
                f"Expected 'integer', but was '{jsonata.json_type_name(value)}' "
                f"for value: {to_json_text(value)}",
            )
        return int(value)
    return int(literal)


def _is_integral(value: JSON) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value == int(value)


def _quoted(value: JSON) -> str:
    return f'"{value if isinstance(value, str) else to_json_text(value)}"'


def _inner(expression: str) -> str:
    return expression.strip()[2:-2].strip()


def wait_until(state: WaitState, scope: Scope, now_ms: int) -> int:
    """When a Wait state wakes up, in epoch milliseconds."""
    if state.seconds is not None:
        seconds = state.seconds
        if jsonata.is_jsonata_expression(seconds):
            seconds = jsonata.evaluate_expression(seconds, scope, field="Seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != int(seconds):
                raise EvaluationError(
                    ErrorName.QUERY_EVALUATION_ERROR.value,
                    f"The JSONata expression '{_inner(state.seconds)}' specified for the field 'Seconds' "
                    "returned an unexpected result type. "
                    f"Expected 'integer', but was '{jsonata.json_type_name(seconds)}' "
                    f"for value: {to_json_text(seconds)}",
                )
        return _delay(now_ms, int(seconds) * 1000)
    if state.seconds_path is not None:
        found, value = _lookup(state.seconds_path, scope)
        if not found:
            raise EvaluationError(
                _RUNTIME, f"The SecondsPath parameter does not reference an input value: {state.seconds_path}"
            )
        shown = f"{state.seconds_path} == {value if isinstance(value, str) else to_json_text(value)}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise EvaluationError(
                _RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: {shown}"
            )
        if value < 0:
            raise EvaluationError(_RUNTIME, f"The SecondsPath parameter references a negative value: {shown}")
        return _delay(now_ms, value * 1000)
    text: JSON = state.timestamp
    field = "Timestamp"
    if state.timestamp_path is not None:
        field = "TimestampPath"
        found, text = _lookup(state.timestamp_path, scope)
        if not found:
            raise EvaluationError(
                _RUNTIME,
                f"The TimestampPath parameter does not reference an input value: {state.timestamp_path}",
            )
    elif jsonata.is_jsonata_expression(text):
        text = jsonata.evaluate_expression(text, scope, field="Timestamp")
    instant = parse_timestamp(text) if isinstance(text, str) else None
    if instant is None:
        if state.timestamp_path is not None:
            shown = f"{state.timestamp_path} == {text if isinstance(text, str) else to_json_text(text)}"
            raise EvaluationError(
                _RUNTIME,
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
                f"date-time format string: {shown}",
            )
        raise EvaluationError(
            ErrorName.QUERY_EVALUATION_ERROR.value
            if state.query_language == QueryLanguage.JSONATA
            else _RUNTIME,
            f"The {field} field does not reference a valid ISO-8601 extended offset date-time format string",
        )
    return _delay(now_ms, instant - now_ms)


def _delay(now_ms: int, delay_ms: int) -> int:
    if delay_ms > MAX_WAIT_SECONDS * 1000:
        raise EvaluationError(_RUNTIME, "Wait state delay is too long.")
    return now_ms + max(0, delay_ms)


def _lookup(path: str, scope: Scope) -> tuple[bool, JSON]:
    if not paths.path_exists(path, scope):
        return False, None
    return True, paths.read_path(path, scope)


def parse_timestamp(text: str) -> int | None:
    """An ISO-8601 extended offset date-time (with a zone), in epoch milliseconds; None if invalid."""
    candidate = text.strip()
    if "T" not in candidate:
        return None
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return int(dt.timestamp() * 1000)
