"""Retry and Catch arithmetic: which retrier or catcher matches an error, and how long to wait."""

from __future__ import annotations

from random import Random

from podium.asl.errors import TERMINAL_ERRORS, ErrorName
from podium.asl.model import Catcher, Retrier

_NOT_TASK_FAILED = frozenset({ErrorName.TIMEOUT.value, *TERMINAL_ERRORS})


def error_matches(error_equals: tuple[str, ...], error: str | None, aliases: tuple[str, ...] = ()) -> bool:
    """True when an ErrorEquals list covers `error`, per the spec's wildcards.

    States.ALL matches everything but the terminal errors (States.Runtime); States.TaskFailed
    matches any error but States.Timeout (and the terminal ones). A failure without an error
    name (SendTaskFailure with no `error`) is matched by the wildcards only, as AWS does.
    `aliases` are further names the failure answers to: a heartbeat timeout is recorded as
    States.Timeout, but `States.HeartbeatTimeout` in ErrorEquals matches it too.
    """
    for name in error_equals:
        if error is not None and name == error:
            return True
        if name in aliases:
            return True
        if name == ErrorName.ALL and error not in TERMINAL_ERRORS:
            return True
        if name == ErrorName.TASK_FAILED and error not in _NOT_TASK_FAILED:
            return True
    return False


def find_retrier(
    retriers: tuple[Retrier, ...], error: str | None, aliases: tuple[str, ...] = ()
) -> int | None:
    if error == ErrorName.RUNTIME:
        return None  # never retriable
    for i, retrier in enumerate(retriers):
        if error_matches(retrier.error_equals, error, aliases):
            return i
    return None


def find_catcher(
    catchers: tuple[Catcher, ...], error: str | None, aliases: tuple[str, ...] = ()
) -> Catcher | None:
    if error == ErrorName.RUNTIME:
        return None  # always fails the execution, even with an explicit States.Runtime catcher
    for catcher in catchers:
        if error_matches(catcher.error_equals, error, aliases):
            return catcher
    return None


def retry_delay_ms(retrier: Retrier, attempt: int, random: Random) -> int:
    """Delay before retry number `attempt + 1` (attempt counts earlier retries by this retrier)."""
    delay = float(retrier.interval_seconds) * (float(retrier.backoff_rate) ** attempt)
    if retrier.max_delay_seconds is not None:
        delay = min(delay, float(retrier.max_delay_seconds))
    if retrier.jitter_strategy == "FULL":
        delay = random.uniform(0, delay)
    return int(delay * 1000)
