"""The threads that take tasks and run their handlers, and stopping them gracefully.

Each of `concurrency` slots loops: receive one task, run it, answer, receive the next. A slot
asks for a task only when it is free, so a worker never holds more than `concurrency` tasks
(a task it holds and does not run would only age toward its timeout).

Stopping (`shutdown`): slots take no new task; tasks in flight get `grace` seconds to finish
and answer; a poll already pending is waited for too (what it brings is already ours, and run
within the grace), unless the source says its polls are long (activities: 60 s), in which case
it is left behind. When the grace runs out, the tasks still in flight are released (see the
sources for what that means per transport) and their handlers, which Python cannot kill, run
on in their daemon threads with their answers dropped. Flags, not locks, carry the stop
requests, because signal handlers set them and a signal handler must never wait for a lock
its own thread may hold.

Every task ends with one log line on "podium.worker":

    task 1f0c9a2b payment-auth.authorize 153 ms SUCCEEDED execution=pay-17
    task 77a3e0c4 risk.score 12 ms FAILED Payment.Declined execution=pay-18
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from podium.transports.base import JSON
from podium.worker import liveness, outcomes, timings
from podium.worker.context import TaskContext, tag_of, task_logger
from podium.worker.heartbeats import Heartbeats, interval
from podium.worker.liveness import LivenessFile
from podium.worker.outcomes import Outcome
from podium.worker.sources import ReceivedTask, TaskSource

if TYPE_CHECKING:
    from podium.worker.worker import Worker

log = logging.getLogger("podium.worker")

TICK = 0.1  # how often waits look at the stop flags
MAX_BACKOFF = 5.0  # seconds between polls while the transport keeps failing


class Runner:
    def __init__(self, worker: Worker, source: TaskSource, *, owns_source: bool) -> None:
        self.worker = worker
        self.source = source
        self.options = worker.options
        self.stop_requested = False
        self.finished = False
        self._owns_source = owns_source
        self._hurry = False
        self._cond = threading.Condition()
        self._in_flight: dict[int, ReceivedTask] = {}  # by slot
        self._polls = 0
        self._released: set[str] = set()  # tokens of the tasks whose answers are dropped
        self._closed = False
        self._healthy = True
        self._threads: list[threading.Thread] = []
        self._liveness: LivenessFile | None = None
        self._timings = timings.from_environment()  # None unless $PODIUM_WORKER_TIMINGS: benchmarks

    @property
    def in_flight(self) -> int:
        with self._cond:
            return len(self._in_flight)

    def start(self) -> None:
        log.info(
            "%s: taking tasks of %s from %s with %d slot(s)",
            self.worker.name,
            self.worker.queue,
            self.source.name,
            self.options.concurrency,
        )
        for slot in range(self.options.concurrency):
            thread = threading.Thread(
                target=self._slot, args=(slot,), name=f"podium-worker-{self.worker.name}-{slot}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        health_file = self.options.health_file or os.environ.get(liveness.ENV)
        if health_file:
            self._liveness = LivenessFile(health_file, self._alive)
            self._liveness.start()

    def _alive(self) -> bool:
        return not self.stop_requested and all(thread.is_alive() for thread in self._threads)

    def request_stop(self) -> None:
        """Take no new task (safe in a signal handler: sets a flag, takes no lock)."""
        self.stop_requested = True

    def hurry(self) -> None:
        """End the grace period now (safe in a signal handler)."""
        self.stop_requested = True
        self._hurry = True

    def wait_stop_requested(self) -> None:
        while not self.stop_requested:
            time.sleep(TICK)

    def shutdown(self, grace: float) -> bool:
        """Stop, wait up to `grace` for the tasks in flight, release the rest; True if none was released."""
        self.request_stop()
        if self._liveness is not None:
            self._liveness.stop()
        deadline = time.monotonic() + grace
        with self._cond:
            while not self._drained() and not self._hurry:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, TICK))
            if self._closed:
                return not self._released
            self._closed = True
            left = list(self._in_flight.values())
            self._released.update(task.token for task in left)
        for task in left:
            log.warning(
                "task %s: released after the %.1f s grace period; its handler's answer will be dropped",
                tag_of(task.token),
                grace,
            )
            self._release(task)
        if self._owns_source:
            try:
                self.source.close()
            except Exception:
                log.exception("closing %s failed", self.source.name)
        if self._timings is not None:
            self._timings.close()
        self.finished = True
        log.info("%s: stopped (%d task(s) released)", self.worker.name, len(left))
        return not left

    def _drained(self) -> bool:
        return not self._in_flight and (self._polls == 0 or self.source.abandons_polls)

    # --- a slot -----------------------------------------------------------------------------

    def _slot(self, slot: int) -> None:
        backoff = 0.0
        while True:
            with self._cond:
                # Checked under the lock that `shutdown` counts polls with: a poll either
                # counts before the drain check, or does not start at all.
                if self.stop_requested:
                    return
                self._polls += 1
            task: ReceivedTask | None = None
            try:
                task = self.source.receive(self.options.poll_wait, slot)
            except Exception as exc:
                self._unhealthy(exc)
                backoff = min(max(TICK, backoff * 2), MAX_BACKOFF)
            else:
                backoff = 0.0
                self._recovered()
            with self._cond:
                self._polls -= 1
                late = task is not None and self._closed
                if task is not None and not late:
                    self._in_flight[slot] = task
                self._cond.notify_all()
            if late and task is not None:
                log.warning(
                    "task %s: arrived after %s stopped; not run", tag_of(task.token), self.worker.name
                )
                self._release(task)
                return
            if task is not None:
                try:
                    self._perform(task)
                except BaseException as exc:
                    # SystemExit and the like (from a handler: outcomes.run lets them through):
                    # a thread cannot end the process, so the worker stops and `run` returns.
                    log.error(
                        "task %s: %s escaped; stopping %s",
                        tag_of(task.token),
                        type(exc).__name__,
                        self.worker.name,
                    )
                    self.request_stop()
                    return
                finally:
                    with self._cond:
                        self._in_flight.pop(slot, None)
                        self._cond.notify_all()
            elif backoff:
                self._pause(backoff)

    def _pause(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while not self.stop_requested and time.monotonic() < until:
            time.sleep(min(TICK, until - time.monotonic()))

    def _unhealthy(self, exc: Exception) -> None:
        # One warning when the transport starts failing, not one per slot per retry.
        if self._healthy:
            self._healthy = False
            log.warning(
                "%s: cannot take tasks from %s: %s: %s (retrying)",
                self.worker.name,
                self.source.name,
                type(exc).__name__,
                exc,
            )
        else:
            log.debug("%s: still failing: %s", self.worker.name, exc)

    def _recovered(self) -> None:
        if not self._healthy:
            self._healthy = True
            log.info("%s: taking tasks from %s again", self.worker.name, self.source.name)

    # --- one task ---------------------------------------------------------------------------

    def _perform(self, task: ReceivedTask) -> None:
        tag = tag_of(task.token)
        started = time.monotonic()
        source = self.source
        every = interval(
            self.options.heartbeat_every,
            task.heartbeat_seconds,
            source.lease_seconds,
            source.heartbeat_fallback,
        )
        beats = Heartbeats(lambda: self.source.heartbeat(task), every, tag=tag)
        try:
            name, handler = self.worker.route(task.body)
        except LookupError as exc:
            name, outcome = "?", outcomes.failed(outcomes.HANDLER_NOT_FOUND, str(exc))
        else:
            ctx = TaskContext(
                token=task.token,
                worker=self.worker.name,
                handler=name,
                attempt=task.attempt,
                deadline=task.deadline,
                execution_arn=task.execution_arn,
                state_name=task.state_name,
                logger=task_logger(self.worker.name, tag),
                _heartbeats=beats,
            )
            spent: list[float] = []  # the handler's own time, nothing of the SDK's around it

            def call() -> JSON:
                began = time.perf_counter()
                try:
                    return handler(task.body, ctx)
                finally:
                    spent.append(time.perf_counter() - began)

            with beats:
                try:
                    outcome = outcomes.run(call)
                except BaseException:
                    self._release(task)  # not done, not failed: someone else may do it
                    raise
        elapsed_ms = (time.monotonic() - started) * 1000
        with self._cond:
            dropped = task.token in self._released
        note = "released, answer dropped" if dropped else self._answer(task, outcome)
        if self._timings is not None and spent:
            # Written after the answer: a measurement must not sit in the way it measures.
            self._timings.record(task.token, spent[0])
        self._log(task, name, elapsed_ms, outcome, note)

    def _answer(self, task: ReceivedTask, outcome: Outcome) -> str:
        """Send the outcome; a note for the log line ("" when all went as usual)."""
        try:
            if outcome.status == "SUCCEEDED":
                still_open = self.source.succeed(task, outcome.output)
            else:
                assert outcome.error is not None
                still_open = self.source.fail(task, outcome.error, outcome.cause)
        except Exception as exc:
            # Not answered: a broker delivers the unacked command again; an activity task
            # waits for its timeout. Either way the orchestrator, not this worker, decides.
            return f"UNANSWERED ({type(exc).__name__}: {exc})"
        if not still_open:
            return "late: the task had already closed (timed out), answer ignored"
        if task.deadline is not None and time.time() > task.deadline:
            return "late: after the task's deadline"
        return ""

    def _release(self, task: ReceivedTask) -> None:
        try:
            self.source.release(task)
        except Exception:
            log.exception("task %s: releasing failed", tag_of(task.token))

    def _log(self, task: ReceivedTask, handler: str, elapsed_ms: float, outcome: Outcome, note: str) -> None:
        parts = [
            f"task {tag_of(task.token)} {self.worker.name}.{handler} {elapsed_ms:.0f} ms {outcome.status}"
        ]
        if outcome.error is not None:
            parts.append(outcome.error)
        if task.execution_arn:
            parts.append(f"execution={task.execution_arn.rsplit(':', 1)[-1]}")
        if task.attempt > 1:
            parts.append(f"attempt={task.attempt}")
        if note:
            parts.append(f"({note})")
        level = logging.WARNING if note or outcome.status == "CRASHED" else logging.INFO
        # A crash's whole traceback goes here, to the worker's own log; the history gets one frame.
        log.log(level, " ".join(parts), exc_info=outcome.exception)
