"""The payment saga on each transport: payments/s, the orchestrator's overhead per step, and its floor.

    python -m bench.saga_bench [--quick] [--payments N] [--transports local,redis,rabbitmq]
                               [--sequential N] [--window N] [--round-trips N] [--faults]
                               [--json FILE] [--keep]

What runs is the real example (examples/payment-saga), started as `podium demo` starts it
(podium.demo: its example, broker namespace, payments and batch; the server's assembly in
this process on SQLite, synchronous=FULL; the four services as supervised processes, two
replicas each), once per transport, with the example's faults OFF (`--faults none`): the
handlers do their real work (their SQLite ledgers) but inject no latency, no errors, no
crashes, so the figures are the orchestrator's and the transport's. `--faults` adds a row per
transport with the example's faults.yaml, in a saga of its own.

In each saga, one after another:

  a warm-up batch         not counted (connections, the services' first ledger writes)
  one payment at a time   `--sequential N`: the overhead of a step when nothing queues
                          behind other payments (each payment starts as the one before ends:
                          the demo's batch hears of ends from the engine, not by polling)
  a window of payments    `--payments N`, `--window W` in flight (the demo's 16): payments/s,
                          and the overhead per step under that load
  the floor               `--round-trips N` round trips of the transport alone (below)

Overhead per step. For every Task step of every payment (a service call; the saga's four,
and the compensations):

  orchestrator time  from the engine's dispatch of the task (its token entered in the
                     engine's registry of tasks in flight, right after the step that
                     scheduled it committed, before the connector sends the command) to the
                     commit of the step that applied its answer (the token leaves the
                     registry right after that commit). perf_counter, in this process: the
                     bench swaps the engine's TaskRegistry for one that notes both times.
  handler time       the handler's own call, timed by the worker SDK in the service's
                     process ($PODIUM_WORKER_TIMINGS, podium.worker.timings: one line per
                     task token).
  overhead           orchestrator time - handler time: the command's way out (connector
                     thread, broker or activity queue, the worker taking it), the answer's
                     way back (worker SDK, broker and reply consumer, or SendTaskSuccess over
                     HTTP), and the engine's two steps with their commits (TaskSubmitted, the
                     answer).

Only the steps closed by their own answer (TaskSucceeded / TaskFailed in the history, not a
timeout) whose handler ran exactly once count: a Parallel branch cancelled by its sibling's
decline closes without its answer; a command delivered twice has two handler times.

The floor: the transport's own round trip of a task step's two messages, measured in the
same run with the same clients (bench.brokers, shared with bench.queue_bench): on Redis and
RabbitMQ a command published to a command queue, taken by a trivial consumer with a
transport of its own, acked and answered on the reply queue, the reply received and acked.
On the local transport (no broker: the services take commands as activity tasks through
podium's API) a command put on an activity queue of the server, taken by a trivial consumer
with GetActivityTask over HTTP (botocore, as the worker SDK does) and answered with
SendTaskSuccess (a token the engine does not know: the request's whole way, no step).

overhead / round trip = the two p50s: 1x would be an orchestrator that costs nothing beyond
carrying the two messages. The floor line checks the issue's bound: the overhead per step
under 2 ms p50 on Redis, with one payment in flight.

Progress goes to stderr, the table to stdout, `--json FILE` writes the figures. The figures
are noisy on a small or busy machine: the services, the broker and the orchestrator share
its cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.brokers import BROKER_URLS, Broker, Percentiles, command_reply_round_trips
from bench.measure import log
from bench.report import figure, table
from podium.core.history import HistoryEvent
from podium.core.messages import InvokeTask
from podium.runtime.task_tokens import TaskRegistry

TRANSPORTS = ("local", "redis", "rabbitmq")
FLOOR_MS = 2.0  # the bound: orchestrator overhead per step, p50, on Redis
FLOOR_TRANSPORT = "redis"
FLOOR_QUEUE = "saga-bench-floor"
ANSWERS = frozenset({"TaskSucceeded", "TaskFailed"})


@dataclass(frozen=True)
class Sizes:
    warmup: int
    sequential: int
    payments: int
    window: int
    round_trips: int


FULL = Sizes(warmup=8, sequential=40, payments=200, window=16, round_trips=1000)
QUICK = Sizes(warmup=4, sequential=20, payments=60, window=16, round_trips=300)


# --- the pure part: what a step cost, figures, the table ----------------------------------


@dataclass(frozen=True)
class Step:
    """One answered task: the orchestrator's time for it and its handler's, in ms."""

    service: str
    command: str
    orchestrator_ms: float
    handler_ms: float

    @property
    def overhead_ms(self) -> float:
        return self.orchestrator_ms - self.handler_ms


def parse_timings(lines: Iterable[str]) -> dict[str, list[float]]:
    """$PODIUM_WORKER_TIMINGS lines (`token handler_ms`) -> each token's handler runs in ms."""
    runs: dict[str, list[float]] = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2:
            continue  # a line cut short (a process killed mid-write): not a measurement
        try:
            ms = float(parts[1])
        except ValueError:
            continue
        runs.setdefault(parts[0], []).append(ms)
    return runs


def answered_tasks(events: Sequence[HistoryEvent]) -> dict[str, tuple[str, str]]:
    """token -> (service, command) of the tasks of one history closed by their own answer.

    A task's events chain back to its TaskScheduled through previousEventId (Scheduled <-
    Started <- Submitted <- outcome), also when a Parallel's branches interleave; its token,
    queue and command are in the scheduled parameters (the MessageBody's TaskToken, the
    QueueUrl's last segment, the body's `command`).
    """
    by_id = {event.id: event for event in events}
    out: dict[str, tuple[str, str]] = {}
    for event in events:
        if event.type not in ANSWERS or (event.details or {}).get("error") == "States.Timeout":
            continue
        origin = by_id.get(event.previous_event_id)
        for _ in range(8):
            if origin is None or origin.type == "TaskScheduled":
                break
            origin = by_id.get(origin.previous_event_id)
        if origin is None or origin.type != "TaskScheduled":
            continue
        target = _scheduled_target(origin.details or {})
        if target is not None:
            token, service, command = target
            out[token] = (service, command)
    return out


def _scheduled_target(details: dict[str, Any]) -> tuple[str, str, str] | None:
    try:
        parameters = json.loads(details.get("parameters") or "{}")
    except ValueError:
        return None
    if not isinstance(parameters, dict):
        return None
    body = parameters.get("MessageBody")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    token = body.get("TaskToken") if isinstance(body, dict) else None
    if not isinstance(token, str):
        return None
    assert isinstance(body, dict)
    url = str(parameters.get("QueueUrl") or "?")
    return token, url.rstrip("/").rsplit("/", 1)[-1], str(body.get("command") or "?")


def steps_of(
    answered: dict[str, tuple[str, str]],
    dispatched: dict[str, float],
    committed: dict[str, float],
    handlers: dict[str, list[float]],
) -> tuple[list[Step], int]:
    """The measured steps (times in seconds from one clock -> ms), and how many were left out."""
    steps: list[Step] = []
    left_out = 0
    for token, (service, command) in answered.items():
        runs = handlers.get(token, [])
        if token not in dispatched or token not in committed or len(runs) != 1:
            left_out += 1
            continue
        orchestrator_ms = (committed[token] - dispatched[token]) * 1000
        steps.append(Step(service, command, orchestrator_ms, runs[0]))
    return steps, left_out


def percentiles(samples: Sequence[float]) -> Percentiles | None:
    return Percentiles.of(list(samples)) if samples else None


def times(overhead: Percentiles | None, floor: Percentiles | None) -> float | None:
    """overhead p50 / round trip p50."""
    if overhead is None or floor is None or floor.p50 <= 0:
        return None
    return overhead.p50 / floor.p50


def pair(value: Percentiles | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value.p50:.{digits}f} / {value.p95:.{digits}f}"


@dataclass
class Row:
    """One batch of one saga."""

    transport: str
    faults: str  # "none" | "example"
    window: int
    payments: int
    seconds: float
    steps: list[Step]
    left_out: int
    floor_ms: list[float] = field(default_factory=list)
    floor_what: str = ""
    not_terminal: int = 0
    audit_ok: bool | None = None
    audit_problems: list[str] = field(default_factory=list)
    commits: tuple[int, int] = (0, 0)  # (transactions, writes): starts and steps

    @property
    def writes_per_commit(self) -> float:
        transactions, writes = self.commits
        return writes / transactions if transactions else math.nan

    @property
    def payments_per_s(self) -> float:
        return self.payments / self.seconds if self.seconds > 0 else math.nan

    @property
    def overhead(self) -> Percentiles | None:
        return percentiles([step.overhead_ms for step in self.steps])

    @property
    def floor(self) -> Percentiles | None:
        return percentiles(self.floor_ms)

    @property
    def ratio(self) -> float | None:
        return times(self.overhead, self.floor)

    @property
    def in_flight(self) -> str:
        return "1" if self.window == 1 else str(self.window)

    def summary(self) -> dict[str, Any]:
        def spelled(value: Percentiles | None) -> dict[str, float] | None:
            return None if value is None else {"p50": value.p50, "p95": value.p95, "p99": value.p99}

        by_call: dict[str, list[Step]] = {}
        for step in self.steps:
            by_call.setdefault(f"{step.service}.{step.command}", []).append(step)
        return {
            "transport": self.transport,
            "faults": self.faults,
            "in_flight": self.window,
            "payments": self.payments,
            "seconds": self.seconds,
            "payments_per_s": self.payments_per_s,
            "steps": len(self.steps),
            "steps_left_out": self.left_out,
            "step_overhead_ms": spelled(self.overhead),
            "orchestrator_ms": spelled(percentiles([s.orchestrator_ms for s in self.steps])),
            "handler_ms": spelled(percentiles([s.handler_ms for s in self.steps])),
            "overhead_by_call_ms": {
                call: spelled(percentiles([s.overhead_ms for s in steps])) for call, steps in by_call.items()
            },
            "round_trip": self.floor_what,
            "round_trip_ms": spelled(self.floor),
            "overhead_per_round_trip": self.ratio,
            "transactions": self.commits[0],
            "writes": self.commits[1],
            "writes_per_commit": self.writes_per_commit,
            "not_terminal": self.not_terminal,
            "audit_ok": self.audit_ok,
            "audit_problems": self.audit_problems,
        }


def render(rows: Sequence[Row]) -> str:
    headers = [
        "transport",
        "faults",
        "in flight",
        "payments",
        "payments/s",
        "steps",
        "step overhead p50 / p95 ms",
        "round trip p50 / p95 ms",
        "overhead / round trip",
        "writes per commit",
    ]
    body = [
        [
            row.transport,
            row.faults,
            row.in_flight,
            str(row.payments),
            figure(row.payments_per_s, 1),
            str(len(row.steps)),
            pair(row.overhead),
            pair(row.floor, 3),
            "n/a" if row.ratio is None else f"{row.ratio:.1f}x",
            figure(row.writes_per_commit, 2),
        ]
        for row in rows
    ]
    return table(headers, body, left=2)


def floor_check(rows: Sequence[Row]) -> tuple[bool | None, str]:
    """The issue's bound on Redis, judged with one payment in flight (no queueing behind others)."""
    alone = _row(rows, FLOOR_TRANSPORT, 1)
    loaded = [r for r in rows if r.transport == FLOOR_TRANSPORT and r.faults == "none" and r.window > 1]
    head = f"orchestrator overhead per step under {FLOOR_MS:g} ms p50 on Redis"
    overhead = alone.overhead if alone is not None else None
    if overhead is None:
        return None, f"{head}: n/a (not measured)"
    passed = overhead.p50 < FLOOR_MS
    extra = "".join(f"; {r.overhead.p50:.2f} ms with {r.window} in flight" for r in loaded if r.overhead)
    verdict = "PASS" if passed else "FAIL"
    return passed, f"{head}: {verdict} ({overhead.p50:.2f} ms p50 with one payment in flight{extra})"


def _row(rows: Sequence[Row], transport: str, window: int) -> Row | None:
    for row in rows:
        if row.transport == transport and row.window == window and row.faults == "none":
            return row
    return None


# --- the registry that notes when each task was dispatched and when its answer committed ----


class TimedRegistry(TaskRegistry):
    """The engine's tasks in flight, noting (perf_counter) when each token came and went.

    `add`: the engine dispatches the task, right after committing the step that scheduled it.
    `remove`: the engine retired it, right after committing the step that closed it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dispatched: dict[str, float] = {}
        self.committed: dict[str, float] = {}

    def add(self, execution_arn: str, command: InvokeTask) -> None:
        self.dispatched.setdefault(command.task_token, time.perf_counter())
        super().add(execution_arn, command)

    def remove(self, token: str) -> None:
        super().remove(token)
        self.committed.setdefault(token, time.perf_counter())


# --- the saga: the demo's pieces, with the engine's registry timed and the handlers timed ---


@dataclass
class Batch:
    window: int
    runs: list[Any]  # podium.demo.batch.Started
    seconds: float
    commits: tuple[int, int] = (0, 0)  # (transactions, writes) of the store during the batch


class Saga:
    """One transport's saga, up: the server in this process, the services as processes."""

    def __init__(self, kind: str, faults: str, run_dir: Path) -> None:
        self.kind = kind
        self.faults = faults
        self.run_dir = run_dir
        self.run_id = uuid.uuid4().hex[:8]
        self.db = str(run_dir / "podium.db")
        self.timings = run_dir / "handler-timings.log"
        self.registry = TimedRegistry()
        self.batches: list[Batch] = []
        self.restarts: dict[str, int] = {}
        self.server: Any = None
        self.machine = ""
        self._batch_count = 0

    @contextmanager
    def running(self) -> Iterator[Saga]:
        from podium.arns import ArnFactory
        from podium.demo import brokers, example
        from podium.demo.run import READY_SECONDS
        from podium.demo.services import SupervisedServices
        from podium.supervisor.output import Console
        from podium.supervisor.server import EmbeddedServer
        from podium.supervisor.supervisor import Supervisor
        from podium.supervisor.up import service_environment
        from podium.worker import timings

        where = example.find()
        faults = "none" if self.faults == "none" else str(where / "faults.yaml")
        example.check_faults(where, faults)
        spec = brokers.namespaced(self.kind, BROKER_URLS.get(self.kind), self.run_id)
        config = example.for_run(
            example.load_config(where),
            run_dir=self.run_dir,
            db=self.db,
            transport=spec.kind,
            broker_url=spec.url,
            faults=faults,
        )
        # Every replica appends its handlers' times to one file (podium.worker.timings).
        services_specs = tuple(
            replace(s, environment={**s.environment, timings.ENV: str(self.timings)}) for s in config.services
        )
        config = replace(config, services=services_specs)
        self.machine = ArnFactory(config.server.region, config.server.account).state_machine(
            example.STATE_MACHINE
        )
        with open(self.run_dir / "saga-bench.log", "w", encoding="utf-8") as output:
            console = Console(output, colour=False)
            server = EmbeddedServer(config.server, console)
            services: SupervisedServices | None = None
            try:
                server.start()
                server.register(config.state_machines, config.activities)
                # Before any execution starts: every task the engine dispatches is timed.
                server.assembly.service.engine.tasks = self.registry
                self.server = server
                supervisor = Supervisor(
                    config.services,
                    console,
                    environment=service_environment(config, server.endpoint, server.worker_transport),
                    hooks=server.task_hooks(),
                )
                services = SupervisedServices(supervisor)
                services.start()
                services.wait_ready(READY_SECONDS)
                yield self
            finally:
                if services is not None:
                    services.stop()
                    self.restarts = services.restarts()
                opened = server.assembly is not None
                server.stop()
                if opened:
                    brokers.remove_namespace(spec, example.SERVICES)

    def batch(self, count: int, window: int, what: str) -> Batch:
        from podium.demo.batch import ServiceExecutions, run_batch
        from podium.demo.options import BASE_SECONDS, SECONDS_PER_PAYMENT
        from podium.demo.payments import generate
        from podium.demo.progress import ProgressBar

        self._batch_count += 1
        payments = generate(count, f"pay-{self.run_id}-{self._batch_count}", self._batch_count)
        log(f"{self.kind}: {what}: {count} payments, {window} in flight")
        bar = ProgressBar(count, sys.stderr)
        before = self._commit_counts()
        result = run_batch(
            ServiceExecutions(self.server.assembly.service),
            self.machine,
            payments,
            window=window,
            deadline=time.monotonic() + BASE_SECONDS + SECONDS_PER_PAYMENT * count,
            progress=bar.update,
        )
        ended = ("FAILED", "TIMED_OUT", "ABORTED")
        bar.close(result.count("SUCCEEDED", *ended), result.count("SUCCEEDED"), result.count(*ended))
        after = self._commit_counts()
        commits = (after[0] - before[0], after[1] - before[1])
        batch = Batch(window, result.executions, result.seconds, commits)
        self.batches.append(batch)
        return batch

    def _commit_counts(self) -> tuple[int, int]:
        store = self.server.assembly.service.engine.store
        counts = getattr(store, "commit_counts", None)
        return counts if isinstance(counts, tuple) else (0, 0)

    def round_trips(self, count: int) -> tuple[list[float], str]:
        """The floor on this saga's transport: (samples in ms, what was measured)."""
        log(f"{self.kind}: the transport's own round trip, {count} times")
        if self.kind == "local":
            from podium.connectors.queue import QueueConnector

            engine = self.server.assembly.service.engine
            transport = next(c.transport for c in engine.connectors if isinstance(c, QueueConnector))
            samples = activity_round_trips(transport, self.server.endpoint, count)
            return samples, "activity task: put, GetActivityTask + SendTaskSuccess over HTTP"
        broker = Broker(self.kind)
        try:
            samples = command_reply_round_trips(broker, count)
        finally:
            broker.close()
        return samples, "command published, taken, acked and answered; reply received and acked"

    def rows(self, batches: Sequence[Batch], floor: tuple[list[float], str] | None) -> list[Row]:
        """After the saga stopped: each batch's steps, from the histories, the registry and the
        handlers' times, and the demo's audit of every payment of the saga."""
        from podium.demo.record import RunRecord
        from podium.demo.run import analyse
        from podium.service.assembly import sqlite_path
        from podium.store.sqlite import SQLiteStore

        try:
            handlers = parse_timings(self.timings.read_text(encoding="utf-8").splitlines())
        except FileNotFoundError:
            handlers = {}
        store = SQLiteStore(sqlite_path(self.db))
        rows: list[Row] = []
        try:
            for batch in batches:
                answered: dict[str, tuple[str, str]] = {}
                for run in batch.runs:
                    if run.arn:
                        answered.update(answered_tasks(store.history(run.arn)))
                steps, left_out = steps_of(
                    answered, self.registry.dispatched, self.registry.committed, handlers
                )
                rows.append(
                    Row(
                        transport=self.kind,
                        faults=self.faults,
                        window=batch.window,
                        payments=len(batch.runs),
                        seconds=batch.seconds,
                        steps=steps,
                        left_out=left_out,
                        floor_ms=floor[0] if floor else [],
                        floor_what=floor[1] if floor else "",
                        not_terminal=sum(1 for r in batch.runs if r.status not in _TERMINAL),
                        commits=batch.commits,
                    )
                )
        finally:
            store.close()
        record = RunRecord(
            run_dir=self.run_dir,
            db=self.db,
            transport=self.kind,
            seconds=sum(b.seconds for b in self.batches),
            executions=[run for b in self.batches for run in b.runs],
            restarts=self.restarts,
        )
        record.save()  # `podium demo --verify DIR` can judge it again (with --keep)
        audit = analyse(record).audit
        for row in rows:
            row.audit_ok = audit.ok
            row.audit_problems = audit.problems[:10]
        return rows


_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def activity_round_trips(transport: Any, endpoint: str, count: int, warmup: int = 50) -> list[float]:
    """The local transport's floor: a command put on an activity queue of the server, taken by
    a trivial consumer with GetActivityTask over HTTP and answered with SendTaskSuccess (ms each).

    The token is not one of the engine's, so SendTaskSuccess makes its whole way through the
    API and is refused (InvalidToken) where a real answer would be handed to the engine.
    """
    from botocore.exceptions import ClientError

    from podium.transports.base import Command
    from podium.worker.activities import http_client

    client = http_client(endpoint)
    arn = transport.activity_for(FLOOR_QUEUE)
    answered: queue.Queue[tuple[str, float]] = queue.Queue()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                task = client.get_activity_task(activityArn=arn, workerName="saga-bench-floor")
            except Exception:  # the server stopping under a pending poll
                return
            token = task.get("taskToken")
            if not token:
                continue
            with contextlib.suppress(ClientError):  # InvalidToken: expected, answered all the same
                client.send_task_success(taskToken=token, output="1")
            answered.put((token, time.perf_counter()))

    thread = threading.Thread(target=serve, name="saga-bench-floor", daemon=True)
    thread.start()
    samples: list[float] = []
    try:
        for i in range(count + warmup):
            token = f"saga-bench-{uuid.uuid4().hex}"
            command = Command(token, FLOOR_QUEUE, {"amount": 12.5}, "podium", "arn:x", "Floor")
            started = time.perf_counter()
            transport.send_command(command)
            got, ended = answered.get(timeout=10)
            assert got == token, "the floor's consumer answered another command"
            transport.discard(token)
            if i >= warmup:
                samples.append((ended - started) * 1000)
    finally:
        stop.set()  # the pending poll ends when the server stops (it answers long polls then)
    return samples


def bench_transport(kind: str, sizes: Sizes, *, faults: bool, keep: bool) -> list[Row]:
    rows: list[Row] = []
    for fault_set in ("none", "example") if faults else ("none",):
        run_dir = Path(tempfile.mkdtemp(prefix=f"podium-saga-bench-{kind}-"))
        saga = Saga(kind, fault_set, run_dir)
        measured: list[Batch] = []
        floor = None
        label = "faults off" if fault_set == "none" else "the example's faults"
        log(f"{kind}: starting the saga ({label}): the server here, the services as processes; in {run_dir}")
        with saga.running():
            saga.batch(sizes.warmup, sizes.warmup, "warm-up (not counted)")
            if fault_set == "none" and sizes.sequential:
                measured.append(saga.batch(sizes.sequential, 1, "one at a time"))
            measured.append(saga.batch(sizes.payments, sizes.window, "throughput"))
            if fault_set == "none":
                floor = saga.round_trips(sizes.round_trips)
        if floor is None and rows:
            floor = (rows[0].floor_ms, rows[0].floor_what)
        these = saga.rows(measured, floor)
        rows.extend(these)
        if keep or not all(row.audit_ok for row in these):
            log(f"{kind}: run directory kept: {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    return rows


def notes(rows: Sequence[Row], sizes: Sizes) -> list[str]:
    out = [
        "faults OFF (--faults none) unless the faults column says otherwise: the handlers do their real"
        " work (SQLite ledgers) but inject no latency, so the figures are the orchestrator's and the"
        " transport's, not the example's injected latency.",
        "step overhead = the engine's time for a task (dispatched -> its answer's step committed) minus"
        " the handler's own time (timed in the service, $PODIUM_WORKER_TIMINGS).",
        "writes per commit = the store's writes (execution starts, steps) per transaction during the batch:"
        " each transaction is one fsync; above 1, steps waiting together shared one.",
        "round trip = the transport alone: command out and answer back (Redis, RabbitMQ: trivial consumer"
        " on the same transports; local: an activity task taken and answered over podium's HTTP API).",
        "the 1-in-flight row's payments/s is latency-bound (one payment at a time, each started as the"
        f" last one ended); payments/s is the {sizes.window}-in-flight row's, whose step overhead also"
        " holds the waits behind the other payments' steps (the engine's thread, its commits, the cores).",
        f"noisy: {os.cpu_count()} cores shared by the orchestrator, 8 service processes and the broker"
        f" (load average {_load()} at the end).",
    ]
    for row in rows:
        if row.left_out:
            out.append(
                f"{row.transport} ({row.in_flight} in flight, faults {row.faults}): {row.left_out} answered"
                " step(s) left out (no single handler time, or not seen by the registry)"
            )
        if row.not_terminal:
            out.append(f"{row.transport}: {row.not_terminal} payment(s) did not end within the deadline")
        if row.audit_ok is False:
            out.append(f"{row.transport}: the demo's audit FAILED: {'; '.join(row.audit_problems) or '?'}")
    return out


def _load() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small batches: a check that it works")
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    parser.add_argument("--payments", type=int, help="payments of the throughput batch")
    parser.add_argument("--sequential", type=int, help="payments run one at a time (0: none)")
    parser.add_argument("--window", type=int, help="payments in flight in the throughput batch")
    parser.add_argument("--round-trips", type=int, help="round trips of the floor")
    parser.add_argument("--faults", action="store_true", help="also a row with the example's faults")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    sizes = Sizes(
        warmup=base.warmup,
        sequential=base.sequential if args.sequential is None else args.sequential,
        payments=args.payments or base.payments,
        window=args.window or base.window,
        round_trips=args.round_trips or base.round_trips,
    )
    kinds = [kind.strip() for kind in args.transports.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in TRANSPORTS]
    if unknown or sizes.payments < 1 or sizes.window < 1 or sizes.sequential < 0:
        parser.error(f"transports are {', '.join(TRANSPORTS)}; sizes must be positive")
    rows: list[Row] = []
    failures: dict[str, str] = {}
    started = time.monotonic()
    for kind in kinds:
        try:
            rows.extend(bench_transport(kind, sizes, faults=args.faults, keep=args.keep))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            log(f"{kind}: not measured: {type(exc).__name__}: {exc}")
            failures[kind] = f"{type(exc).__name__}: {exc}"
    log(f"done in {time.monotonic() - started:.0f} s")
    passed, verdict = floor_check(rows)
    print("payment saga benchmark (examples/payment-saga, `podium demo`'s pieces)")
    print()
    print(render(rows))
    print()
    print(verdict)
    print()
    print("notes:")
    for note in notes(rows, sizes):
        print(f"  - {note}")
    for kind, why in failures.items():
        print(f"  - {kind}: not measured: {why}")
    if args.json is not None:
        document = {
            "sizes": sizes.__dict__,
            "cpus": os.cpu_count(),
            "rows": [row.summary() for row in rows],
            "floor": {"bound_ms": FLOOR_MS, "transport": FLOOR_TRANSPORT, "passed": passed, "line": verdict},
            "not_measured": failures,
        }
        args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
