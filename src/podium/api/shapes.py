"""Requests checked against the Step Functions API's own shapes, as AWS checks them.

The shapes come from the service model that botocore ships (the same file boto3 builds its
client from), so podium and its clients agree on every member, type and constraint without
a copy to keep up to date. Checking happens in AWS's two steps:

1. deserialization: every member must exist in the shape and have the shape's JSON type,
   else SerializationException (AWS fails the same way before it looks at any value);
2. constraints: required members, string lengths, patterns and enums, number ranges, list
   lengths, collected into one ValidationException in AWS's words:
   "2 validation errors detected: Value null at 'stateMachineArn' failed to satisfy
   constraint: Member must not be null; Value 'x y' at 'name' ...".

Handlers then receive well-formed parameters, with members sent as null left out.
Values of sensitive shapes (inputs, outputs, task tokens) never appear in messages.
Payload members (`SensitiveData`) are limited to the server's payload limit in UTF-8 bytes,
as AWS counts them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from podium.api.errors import ApiError, SerializationException, UnknownOperationException, ValidationException

Shape = Mapping[str, Any]
PAYLOAD_SHAPE = "SensitiveData"
DEFAULT_PAYLOAD_LIMIT = 256 * 1024
_SHOWN_VALUE_LIMIT = 256  # a 100 KiB name echoed back helps nobody
_KINDS = {
    "string": "a string",
    "integer": "an integer",
    "long": "an integer",
    "float": "a number",
    "double": "a number",
    "boolean": "a boolean",
    "timestamp": "a number (epoch seconds)",
    "list": "an array",
    "map": "an object",
    "structure": "an object",
    "blob": "a base64 string",
}


@functools.cache
def load_service_model() -> Mapping[str, Any]:
    """The Step Functions service model (the `service-2.json` of the installed botocore)."""
    from botocore.loaders import Loader

    model: Mapping[str, Any] = Loader().load_service_model("stepfunctions", "service-2")
    return model


def _java_pattern(pattern: str) -> re.Pattern[str] | None:
    # The model's patterns are Java regular expressions (matched whole, as fullmatch does).
    # The one construct Python lacks among them is \p{ASCII}, never inside a character class
    # there. A pattern that still does not compile is not checked; the handlers' checks remain.
    try:
        return re.compile(pattern.replace(r"\p{ASCII}", r"[\x00-\x7f]"))
    except re.error:
        return None


class ApiShapes:
    """The operations of the API and the checking of their inputs (and, for tests, outputs)."""

    def __init__(self, model: Mapping[str, Any], *, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> None:
        self._operations: Mapping[str, Any] = model["operations"]
        self._shapes: Mapping[str, Shape] = model["shapes"]
        self.payload_limit = payload_limit
        self.operations: frozenset[str] = frozenset(self._operations)
        self._patterns = {
            name: _java_pattern(shape["pattern"])
            for name, shape in self._shapes.items()
            if "pattern" in shape
        }

    @classmethod
    def load(cls, *, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> ApiShapes:
        return cls(load_service_model(), payload_limit=payload_limit)

    def check_input(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters, checked: raises SerializationException or ValidationException."""
        model = self._operations.get(operation)
        if model is None:
            raise UnknownOperationException(f"Unknown operation {operation!r}")
        if "input" not in model:
            if params:
                raise SerializationException(f"{operation} takes no parameters")
            return {}
        shape_name = model["input"]["shape"]
        cleaned = self._deserialize(shape_name, params, "")
        errors: list[str] = []
        self._constrain(shape_name, cleaned, "", errors)
        if errors:
            noun = "error" if len(errors) == 1 else "errors"
            raise ValidationException(f"{len(errors)} validation {noun} detected: {'; '.join(errors)}")
        assert isinstance(cleaned, dict)
        return cleaned

    # --- step 1: JSON types and known members ------------------------------------------------

    def _deserialize(self, shape_name: str, value: Any, path: str) -> Any:
        shape = self._shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                raise self._type_error(shape_name, value, path)
            members = shape.get("members", {})
            out: dict[str, Any] = {}
            for key, item in value.items():
                member = members.get(key)
                if member is None:
                    where = f" in {path!r}" if path else ""
                    raise SerializationException(
                        f"Unknown member {key!r}{where}: {shape_name} has no such member"
                    )
                if item is not None:  # AWS reads a null member as an absent one
                    out[key] = self._deserialize(member["shape"], item, _join(path, key))
            return out
        if kind == "list":
            if not isinstance(value, list):
                raise self._type_error(shape_name, value, path)
            member_shape = shape["member"]["shape"]
            return [
                None if item is None else self._deserialize(member_shape, item, f"{path}.{i}.member")
                for i, item in enumerate(value, start=1)
            ]
        if kind == "map":
            if not isinstance(value, dict):
                raise self._type_error(shape_name, value, path)
            value_shape = shape["value"]["shape"]
            return {
                key: None if item is None else self._deserialize(value_shape, item, _join(path, key))
                for key, item in value.items()
            }
        if kind in ("string", "blob"):
            if not isinstance(value, str):
                raise self._type_error(shape_name, value, path)
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise self._type_error(shape_name, value, path)
            return value
        if kind in ("integer", "long"):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise self._type_error(shape_name, value, path)
            return value
        if kind in ("float", "double", "timestamp"):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise self._type_error(shape_name, value, path)
            return value
        return value

    def _type_error(self, shape_name: str, value: Any, path: str) -> ApiError:
        expected = _KINDS.get(self._shapes[shape_name]["type"], self._shapes[shape_name]["type"])
        where = f"'{path}'" if path else "the request body"
        return SerializationException(f"Expected {expected} at {where}, found {_kind_of(value)}")

    # --- step 2: constraints -----------------------------------------------------------------

    def _constrain(self, shape_name: str, value: Any, path: str, errors: list[str]) -> None:
        shape = self._shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            members = shape.get("members", {})
            for required in shape.get("required", ()):
                if value.get(required) is None:
                    errors.append(_null(_join(path, required)))
            for key, item in value.items():
                self._constrain(members[key]["shape"], item, _join(path, key), errors)
        elif kind == "list":
            _check_range(shape, "length", len(value), None, path, errors)
            for i, item in enumerate(value, start=1):
                self._constrain_item(shape["member"]["shape"], item, f"{path}.{i}.member", errors)
        elif kind == "map":
            _check_range(shape, "length", len(value), None, path, errors)
            for key, item in value.items():
                self._constrain(shape["key"]["shape"], key, _join(path, key), errors)
                self._constrain_item(shape["value"]["shape"], item, _join(path, key), errors)
        elif kind == "string":
            shown = None if shape.get("sensitive") else _shown(value)
            if shape_name == PAYLOAD_SHAPE:
                # AWS counts payloads in UTF-8 bytes, and their limit is the server's setting.
                limit = {"max": self.payload_limit}
                _check_range(limit, "length", len(value.encode("utf-8")), shown, path, errors)
            else:
                _check_range(shape, "length", len(value), shown, path, errors)
            pattern = self._patterns.get(shape_name)
            if pattern is not None and not pattern.fullmatch(value):
                constraint = f"Member must satisfy regular expression pattern: {shape['pattern']}"
                errors.append(_violation(shown, path, constraint))
            enum = shape.get("enum")
            if enum is not None and value not in enum:
                constraint = f"Member must satisfy enum value set: [{', '.join(enum)}]"
                errors.append(_violation(shown, path, constraint))
        elif kind in ("integer", "long", "float", "double"):
            shown = None if shape.get("sensitive") else str(value)
            _check_range(shape, "value", value, shown, path, errors)

    def _constrain_item(self, shape_name: str, item: Any, path: str, errors: list[str]) -> None:
        if item is None:
            errors.append(_null(path))
        else:
            self._constrain(shape_name, item, path, errors)

    # --- responses (for tests and for PODIUM_CHECK_RESPONSES) ---------------------------------

    def output_problems(self, operation: str, response: Mapping[str, Any]) -> list[str]:
        """Where a handler's response departs from the output shape: unknown or missing
        members, wrong JSON types, values outside an enum. Empty when it conforms."""
        model = self._operations.get(operation)
        if model is None or "output" not in model:
            return [] if not response else [f"{operation} returns no members"]
        problems: list[str] = []
        self._check_output(model["output"]["shape"], response, "", problems)
        return problems

    def _check_output(self, shape_name: str, value: Any, path: str, problems: list[str]) -> None:
        shape = self._shapes[shape_name]
        kind = shape["type"]
        where = path or "the response"
        if kind == "structure" and isinstance(value, dict):
            members = shape.get("members", {})
            for required in shape.get("required", ()):
                if value.get(required) is None:
                    problems.append(f"{_join(path, required)}: required member missing")
            for key, item in value.items():
                if key not in members:
                    problems.append(f"{_join(path, key)}: not a member of {shape_name}")
                elif item is not None:
                    self._check_output(members[key]["shape"], item, _join(path, key), problems)
        elif kind == "list" and isinstance(value, list):
            for i, item in enumerate(value, start=1):
                self._check_output(shape["member"]["shape"], item, f"{path}.{i}.member", problems)
        elif kind == "map" and isinstance(value, dict):
            for key, item in value.items():
                self._check_output(shape["value"]["shape"], item, _join(path, key), problems)
        elif kind in ("structure", "list", "map"):
            problems.append(f"{where}: expected {_KINDS[kind]}, found {_kind_of(value)}")
        else:
            try:
                self._deserialize(shape_name, value, path)
            except SerializationException as exc:
                problems.append(exc.message)
                return
            if "enum" in shape and value not in shape["enum"]:
                problems.append(f"{where}: {value!r} is not one of {list(shape['enum'])}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_range(
    shape: Shape, measure: str, amount: float, shown: str | None, path: str, errors: list[str]
) -> None:
    if "min" in shape and amount < shape["min"]:
        constraint = f"Member must have {measure} greater than or equal to {shape['min']}"
        errors.append(_violation(shown, path, constraint))
    if "max" in shape and amount > shape["max"]:
        constraint = f"Member must have {measure} less than or equal to {shape['max']}"
        errors.append(_violation(shown, path, constraint))


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_VALUE_LIMIT else text[:_SHOWN_VALUE_LIMIT] + "..."


def _null(path: str) -> str:
    return f"Value null at '{path}' failed to satisfy constraint: Member must not be null"


def _violation(shown: str | None, path: str, constraint: str) -> str:
    """AWS's sentence; `shown` None for values not to echo (sensitive ones, lists, maps)."""
    value = "" if shown is None else f" '{shown}'"
    return f"Value{value} at '{path}' failed to satisfy constraint: {constraint}"


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
