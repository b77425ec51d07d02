"""A deterministic scheduler of fibers: the interpreter's concurrency without threads.

Each branch of an execution (the main program, a Parallel branch, a Map iteration) is a
fiber: a generator that yields `Await(keys)` when it needs something from outside (a task's
outcome, a timer) or from its children, and is resumed with the first message delivered
under one of those keys. Messages are routed by key; a fiber subscribes to the keys it may
receive. Fibers run one at a time, in FIFO order of readiness, so that the same signals
always produce the same interleaving, the same events and the same ids.

Cancellation (a failed sibling branch, StopExecution) throws `Cancelled` into a fiber at its
current `yield`, so that the code there can release its tasks and timers and, for a failed
sibling, record what it abandons (TaskStateAborted, ...).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any


class Cancelled(BaseException):
    """Thrown into a fiber whose work is abandoned. BaseException, so `except Exception` can't eat it."""


@dataclass(frozen=True)
class Await:
    """Yielded by a fiber: resume me with the next message under one of these keys."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    key: str
    value: Any


FiberBody = Generator[Await, Message, Any]


@dataclass(eq=False)
class Fiber:
    """One running branch. `on_exit(fiber, result, error)` is called when its generator finishes."""

    body: FiberBody
    name: str
    on_exit: Any = None
    mailbox: deque[Message] = field(default_factory=deque)
    waiting: tuple[str, ...] | None = None
    started: bool = False
    done: bool = False
    subscriptions: set[str] = field(default_factory=set)


class Scheduler:
    def __init__(self) -> None:
        self._ready: deque[tuple[Fiber, Message | None, BaseException | None]] = deque()
        self._routes: dict[str, Fiber] = {}
        self.current: Fiber | None = None  # the fiber being stepped, for code that subscribes keys

    # --- fibers ---------------------------------------------------------------------------

    def spawn(self, body: FiberBody, name: str, on_exit: Any = None) -> Fiber:
        fiber = Fiber(body=body, name=name, on_exit=on_exit)
        self._ready.append((fiber, None, None))
        return fiber

    def subscribe(self, fiber: Fiber, key: str) -> None:
        self._routes[key] = fiber
        fiber.subscriptions.add(key)

    def unsubscribe(self, fiber: Fiber, key: str) -> None:
        if self._routes.get(key) is fiber:
            del self._routes[key]
        fiber.subscriptions.discard(key)

    def is_routed(self, key: str) -> bool:
        return key in self._routes

    def cancel(self, fiber: Fiber) -> None:
        """Abandon a fiber now: throw Cancelled into it and run its handlers to completion."""
        if fiber.done:
            return
        if not fiber.started:
            # Never ran: nothing to record. Drop it from the ready queue.
            fiber.done = True
            fiber.body.close()
            self._forget(fiber)
            self._ready = deque(item for item in self._ready if item[0] is not fiber)
            return
        self._ready = deque(item for item in self._ready if item[0] is not fiber)
        self._step(fiber, None, Cancelled())

    # --- messages -------------------------------------------------------------------------

    def deliver(self, key: str, value: Any) -> bool:
        """Route a message; False when no fiber listens on that key (a late or unknown answer)."""
        fiber = self._routes.get(key)
        if fiber is None or fiber.done:
            return False
        message = Message(key, value)
        if fiber.waiting is not None and key in fiber.waiting:
            fiber.waiting = None
            self._ready.append((fiber, message, None))
        else:
            fiber.mailbox.append(message)
        return True

    def run(self) -> None:
        """Run every ready fiber until all are blocked or done."""
        while self._ready:
            fiber, message, error = self._ready.popleft()
            if fiber.done:
                continue
            self._step(fiber, message, error)

    # --- internals ------------------------------------------------------------------------

    def _step(self, fiber: Fiber, message: Message | None, error: BaseException | None) -> None:
        outer = self.current
        self.current = fiber
        try:
            self._drive(fiber, message, error)
        finally:
            self.current = outer

    def _drive(self, fiber: Fiber, message: Message | None, error: BaseException | None) -> None:
        while True:
            try:
                if error is not None:
                    request = fiber.body.throw(error)
                elif not fiber.started:
                    fiber.started = True
                    request = next(fiber.body)
                else:
                    assert message is not None
                    request = fiber.body.send(message)
            except StopIteration as stop:
                self._finish(fiber, stop.value, None)
                return
            except (Cancelled, Exception) as failure:  # a failed branch ends its fiber, not the run
                # Nobody reads a fiber's traceback, and it would hold every frame it passed
                # through, whose locals (an `error` here, a `failure` in the interpreter) hold
                # the exception again: a cycle that kept a finished execution's interpreter
                # alive until the cyclic garbage collector ran.
                failure.__traceback__ = None
                self._finish(fiber, None, failure)
                return
            error = None
            fiber.started = True
            pending = self._take(fiber, request.keys)
            if pending is None:
                fiber.waiting = request.keys
                return
            message = pending

    @staticmethod
    def _take(fiber: Fiber, keys: tuple[str, ...]) -> Message | None:
        for i, message in enumerate(fiber.mailbox):
            if message.key in keys:
                del fiber.mailbox[i]
                return message
        return None

    def _finish(self, fiber: Fiber, result: Any, error: BaseException | None) -> None:
        fiber.done = True
        fiber.waiting = None
        self._forget(fiber)
        # Dropped as it is called: `on_exit` is mostly a method of the fiber's owner, which
        # holds the fiber, and that cycle would keep every finished execution's interpreter
        # (and its events) alive until a collection of the cyclic garbage collector.
        on_exit, fiber.on_exit = fiber.on_exit, None
        if on_exit is not None:
            on_exit(fiber, result, error)

    def _forget(self, fiber: Fiber) -> None:
        for key in list(fiber.subscriptions):
            self.unsubscribe(fiber, key)
