"""The error a task function raises to fail its task with a name of its own choosing."""

from __future__ import annotations


class TaskError(Exception):
    """Fail the task with `error` (e.g. "Payment.Declined") and `cause`, as SendTaskFailure would.

    Retry and Catch match on `error`. Any other exception fails the task as Lambda reports an
    unhandled error: the error is the exception's class name.
    """

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
