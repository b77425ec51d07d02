"""AWS JSON 1.0, the wire protocol of Step Functions: requests in, responses and errors out.

A request is `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>` and a JSON object as
its body; a response is a JSON object, an error `{"__type": ..., "message": ...}` with the
error's HTTP status. This module is the codec only: no HTTP framework, no I/O.

Timestamps. JSON 1.0 puts timestamps on the wire as epoch seconds (a JSON number, fractions
allowed), and so do podium's handlers: a handler returns every timestamp member as a `float`
of seconds since the epoch (`record.created_ms / 1000`), which goes out unchanged. A
`datetime` is converted too (naive ones are taken as UTC), so that a stray one is not a 500,
but floats are the convention.

Absent members. AWS leaves out the members it has no value for; a handler may return them as
None instead, and they are left out here (at any depth: no member of a Step Functions
response is a JSON null).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from podium.api.errors import SerializationException, UnknownOperationException

TARGET_PREFIX = "AWSStepFunctions."
CONTENT_TYPE = "application/x-amz-json-1.0"
# What clients send: botocore and the AWS CLI send the first; curl users and some SDKs the
# second; 1.1 is what a client configured for the wrong protocol version sends, harmless here.
ACCEPTED_CONTENT_TYPES = frozenset({CONTENT_TYPE, "application/json", "application/x-amz-json-1.1"})

Params = dict[str, Any]


def action_of(target: str | None) -> str:
    """The action named by an `X-Amz-Target` header value, e.g. "StartExecution"."""
    if not target:
        raise UnknownOperationException(
            "Missing X-Amz-Target header: send the action as"
            f" 'X-Amz-Target: {TARGET_PREFIX}<Action>' (for example {TARGET_PREFIX}ListStateMachines)"
        )
    prefix, dot, name = target.partition(".")
    if not dot or f"{prefix}." != TARGET_PREFIX or not name:
        raise UnknownOperationException(
            f"Unknown operation {target!r}: this endpoint serves {TARGET_PREFIX}<Action>"
        )
    return name


def check_content_type(content_type: str | None) -> None:
    """Refuse bodies that are not JSON; a request with no Content-Type at all is taken as JSON."""
    if not content_type:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        raise SerializationException(
            f"Unsupported Content-Type {media_type!r}: send {CONTENT_TYPE} (or application/json)"
        )


def _no_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity, which are not JSON and no AWS member can hold.
    raise ValueError(f"{name} is not valid JSON")


def decode_params(body: bytes) -> Params:
    """The request's parameters: the body's JSON object. An empty body is an empty object."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise SerializationException("The request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SerializationException(
            f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise SerializationException(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SerializationException(
            f"The request body must be a JSON object, not {_json_kind(value)}: send {{}} for no parameters"
        )
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _timestamp(value: object) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def without_nulls(value: Any) -> Any:
    """The value with every None member of every object left out."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def encode_response(response: Params) -> bytes:
    """The response body. Raises TypeError/ValueError on values JSON cannot carry (a bug)."""
    return json.dumps(
        without_nulls(response),
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
        default=_timestamp,
    ).encode("utf-8")


def encode_error(type: str, message: str) -> bytes:
    """An error's body, as botocore parses it (`__type` becomes the error code)."""
    return json.dumps({"__type": type, "message": message}, ensure_ascii=False).encode("utf-8")
