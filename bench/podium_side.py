"""podium's side: the durable engine on a fresh SQLite file (WAL, synchronous=FULL) per run."""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from bench.measure import RssSampler, RunResult, now
from bench.profiling import ThreadProfiles
from bench.workloads import SAGA_STEPS, JSONValue, Workload, identity, step_name
from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.runtime.engine import Engine
from podium.store.sqlite import SQLiteStore

WAIT_TIMEOUT_S = 300.0  # a hung execution fails the run instead of hanging the bench


class CommitCounter:
    """Counts the SQLite transactions the store really commits (statements `COMMIT`).

    The store exposes no metric, so this hooks the trace callback of its connection. Counting
    COMMIT statements rather than calls to `Store.commit` keeps the figure honest if the store
    ever groups several steps into one transaction. `available` is False when the store's
    internals no longer look like this (then commits per execution are reported as n/a).
    """

    def __init__(self, store: object) -> None:
        self.count = 0
        conn = getattr(store, "_conn", None)
        self.available = isinstance(conn, sqlite3.Connection)
        if isinstance(conn, sqlite3.Connection):
            conn.set_trace_callback(self._trace)

    def _trace(self, statement: str) -> None:
        # Called under the store's lock, so the threads that commit never race on the count.
        if statement.startswith("COMMIT"):
            self.count += 1


def run_podium(
    workload: Workload,
    definition: dict[str, JSONValue],
    *,
    mode: str,
    count: int,
    warmup: int,
    directory: str | None,
    profiles: ThreadProfiles | None = None,
) -> RunResult:
    """Run `count` executions, one after another (sequential) or all started then all awaited."""
    with tempfile.TemporaryDirectory(prefix="podium-bench-", dir=directory) as folder:
        store = SQLiteStore(Path(folder) / "bench.db", synchronous="full")
        counter = CommitCounter(store)
        registry = FunctionRegistry({step_name(index): identity for index in range(SAGA_STEPS)})
        # executor=None: the functions run inline on the engine thread, so the figures are the
        # engine's own cost and not a thread pool's hand-offs.
        engine = Engine(store, connectors=[FunctionConnector(registry)])
        try:
            if profiles is not None:
                profiles.start()  # before engine.start(), so that the engine thread is profiled
            engine.start()
            machine = engine.create_state_machine(f"bench-{workload.key}", json.dumps(definition))
            for _ in range(warmup):  # parse caches, first-touch of the file, imports
                engine.wait(engine.start_execution(machine.arn, workload.input).arn, WAIT_TIMEOUT_S)
            commits_before = counter.count
            with RssSampler() as rss:
                if mode == "sequential":
                    arns, latencies, elapsed = _sequential(engine, machine.arn, workload.input, count)
                else:
                    start = now()
                    arns = [engine.start_execution(machine.arn, workload.input).arn for _ in range(count)]
                    waited = [engine.wait(arn, WAIT_TIMEOUT_S) for arn in arns]
                    elapsed = now() - start
                    # The engine's own start and stop stamps: waiting for the executions in
                    # order would charge each with the time spent waiting for the ones before.
                    latencies = [
                        math.nan if record.stop_ms is None else (record.stop_ms - record.start_ms) / 1000
                        for record in waited
                    ]
            commits = counter.count - commits_before if counter.available else None
            engine.stop()  # its threads must have ended before their profiles are read
            if profiles is not None:
                profiles.stop()
            records = [engine.store.get_execution(arn) for arn in arns]
            failed = sum(1 for record in records if record is None or record.status != "SUCCEEDED")
            transitions = sum(_states_entered(engine, arn) for arn in arns)
        finally:
            engine.stop()
            store.close()
    return RunResult(
        engine="podium",
        workload=workload.key,
        mode=mode,
        executions=count,
        elapsed_s=elapsed,
        latencies_s=latencies,
        transitions=transitions,
        peak_rss_bytes=rss.peak_bytes,
        commits=commits,
        failed=failed,
    )


def _sequential(
    engine: Engine, machine_arn: str, value: Any, count: int
) -> tuple[list[str], list[float], float]:
    arns: list[str] = []
    latencies: list[float] = []
    start = now()
    for _ in range(count):
        began = now()
        arn = engine.start_execution(machine_arn, value).arn
        engine.wait(arn, WAIT_TIMEOUT_S)
        latencies.append(now() - began)
        arns.append(arn)
    return arns, latencies, now() - start


def _states_entered(engine: Engine, arn: str) -> int:
    return sum(1 for event in engine.store.history(arn) if event.type.endswith("StateEntered"))
