"""The load of the throughput measurement: StartExecution from many boto3 client threads.

One Python process's boto3 spends about 0.9 ms of CPU per call (signing, serializing, HTTP,
parsing), so a single process tops out near 1,100 calls/s whatever the server does. The
client threads are therefore spread over several processes (`processes` x `threads`), so
that the server is what is measured. Every thread has its own client and connection, makes a
few calls to warm up, then all start together (a barrier) and call StartExecution back to
back for `duration_s`.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from typing import Any

from bench.api_servers import sfn_client

WARMUP_CALLS = 20
INPUT = '{"order": 1, "items": [1, 2, 3]}'


@dataclass
class LoadResult:
    calls: int
    errors: int
    seconds: float
    latencies_s: list[float] = field(repr=False)
    client_cpu_s: float  # CPU of the client processes during the window, every thread included
    first_error: str | None = None

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0


def _thread(endpoint: str, arn: str, duration_s: float, barrier: Barrier, out: list[dict[str, Any]]) -> None:
    record: dict[str, Any] = {
        "calls": 0,
        "errors": 0,
        "latencies": [],
        "error": None,
        "start": 0.0,
        "end": 0.0,
    }
    out.append(record)
    sfn = sfn_client(endpoint, pool=1)
    try:
        for _ in range(WARMUP_CALLS):
            sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()), input=INPUT)
    except Exception:
        record["error"] = traceback.format_exc(limit=2)
    barrier.wait()
    record["cpu_start"] = time.process_time()  # the whole process's CPU, every thread's
    start = time.perf_counter()
    end = start + duration_s
    latencies = record["latencies"]
    now = start
    while now < end:
        try:
            # Named by the client, as most callers do (moto's server mode needs it, too).
            sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()), input=INPUT)
            record["calls"] += 1
        except Exception:
            record["errors"] += 1
            if record["error"] is None:
                record["error"] = traceback.format_exc(limit=2)
        after = time.perf_counter()
        latencies.append(after - now)
        now = after
    record["start"], record["end"] = start, now
    record["cpu_end"] = time.process_time()


def _process(
    endpoint: str, arn: str, threads: int, duration_s: float, barrier: Barrier, results: Any
) -> None:
    records: list[dict[str, Any]] = []
    workers = [
        threading.Thread(target=_thread, args=(endpoint, arn, duration_s, barrier, records))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # The process's CPU from the moment its threads were all ready (the barrier) to the end.
    cpu = max(r.get("cpu_end", 0.0) for r in records) - min(r.get("cpu_start", 0.0) for r in records)
    results.put({"records": records, "cpu": cpu})


def start_executions(
    endpoint: str, arn: str, *, processes: int, threads: int, duration_s: float
) -> LoadResult:
    """StartExecution of `arn` from processes x threads clients for duration_s; what they got done."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes * threads)
    results = context.Queue()
    children = [
        context.Process(target=_process, args=(endpoint, arn, threads, duration_s, barrier, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    collected = [results.get(timeout=duration_s + 300) for _ in children]
    for child in children:
        child.join(timeout=30)
    records = [r for c in collected for r in c["records"]]
    start = min(r["start"] for r in records)
    end = max(r["end"] for r in records)
    return LoadResult(
        calls=sum(r["calls"] for r in records),
        errors=sum(r["errors"] for r in records),
        seconds=end - start,
        latencies_s=[x for r in records for x in r["latencies"]],
        client_cpu_s=sum(c["cpu"] for c in collected),
        first_error=next((r["error"] for r in records if r["error"]), None),
    )
