"""What a handler's run comes to: a JSON output, a business failure, or a crash.

- A return value is the task's output, as JSON (Lambda's `Runtime.MarshalError` when it is not).
- `TaskError("Payment.Declined", "cause")` is a business failure: the error is its name, and
  only a Retry that names it (or States.ALL / States.TaskFailed) retries it.
- Any other exception is a crash, reported as Lambda reports an unhandled error: the error is
  the exception's class name (`ValueError`), the cause Lambda's JSON text
  `{"errorMessage", "errorType", "stackTrace"}`, the shape a Catch's `$.Cause` already has
  when podium's own Python functions crash. The stack trace holds the innermost frame only
  (where it was raised): enough to find the line, while the cause lands in execution
  histories that people outside the service read; the full traceback goes to the worker's
  log. Error and cause are cut to SendTaskFailure's limits (256 and 32768 characters).
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from podium.task_error import TaskError
from podium.transports.base import JSON

ERROR_LIMIT = 256
CAUSE_LIMIT = 32768
MARSHAL_ERROR = "Runtime.MarshalError"  # Lambda's name for a result that is not JSON
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"  # Lambda's name for a handler that does not exist


@dataclass(frozen=True)
class Outcome:
    status: Literal["SUCCEEDED", "FAILED", "CRASHED"]
    output: JSON = None
    error: str | None = None
    cause: str | None = None
    exception: BaseException | None = None  # a crash's, for the worker's own log


def run(call: Callable[[], JSON]) -> Outcome:
    """Call a handler and say what came of it. Only Exceptions are caught: not KeyboardInterrupt."""
    try:
        result = call()
    except TaskError as exc:
        return failed(exc.error, exc.cause)
    except Exception as exc:
        return crashed(exc)
    try:
        # What crosses a service boundary is JSON: a tuple becomes a list, a NaN is refused.
        output = json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as exc:
        return failed(MARSHAL_ERROR, f"Unable to marshal response: {exc}")
    return Outcome("SUCCEEDED", output=output)


def failed(error: str, cause: str | None) -> Outcome:
    return Outcome("FAILED", error=error[:ERROR_LIMIT], cause=None if cause is None else cause[:CAUSE_LIMIT])


def crashed(exc: Exception) -> Outcome:
    error = type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)[-1:]
    message = str(exc)
    while True:
        cause = {"errorMessage": message, "errorType": error, "stackTrace": traceback.format_list(frames)}
        text = json.dumps(cause)
        if len(text) <= CAUSE_LIMIT:
            break
        if not message:  # an absurd source line: keep the JSON, lose the frame
            frames = []
            continue
        # Cut the message, never the JSON: its text is what a Catch parses.
        message = message[: max(0, len(message) * CAUSE_LIMIT // len(text) - 16)]
    return Outcome("CRASHED", error=error[:ERROR_LIMIT], cause=text, exception=exc)
