"""A Future for the callbacks of podium's non-blocking calls (`done(result, None)` or
`done(None, exception)`), so that tests can wait on them."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

Done = Callable[[Any, BaseException | None], None]


def promise() -> tuple[Future[Any], Done]:
    """A Future, and the callback that settles it."""
    future: Future[Any] = Future()

    def done(result: Any, error: BaseException | None) -> None:
        if future.done():
            raise AssertionError("called twice")
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    return future, done
