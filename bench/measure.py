"""What one measured run yields, and the instruments: percentiles, peak RSS, a clock."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import psutil

MB = 1024 * 1024


@dataclass
class RunResult:
    """One engine running one workload in one mode (sequential, or N executions in flight)."""

    engine: str  # "podium" | "moto"
    workload: str  # "a" | "b" | "c"
    mode: str  # "sequential" | "inflight"
    executions: int
    elapsed_s: float
    latencies_s: list[float] = field(repr=False)
    transitions: int  # StateEntered events over all executions
    peak_rss_bytes: int
    commits: int | None = None  # SQLite transactions committed in the window (podium only)
    failed: int = 0  # executions that did not end SUCCEEDED
    note: str = ""
    round_rates: list[float] = field(default_factory=list)  # executions/s of every round, this one's included

    @property
    def executions_per_s(self) -> float:
        return self.executions / self.elapsed_s if self.elapsed_s > 0 else math.nan

    @property
    def transitions_per_s(self) -> float:
        return self.transitions / self.elapsed_s if self.elapsed_s > 0 else math.nan

    @property
    def p50_s(self) -> float:
        return percentile(self.latencies_s, 50)

    @property
    def p99_s(self) -> float:
        return percentile(self.latencies_s, 99)

    @property
    def max_s(self) -> float:
        return max(self.latencies_s) if self.latencies_s else math.nan

    @property
    def commits_per_execution(self) -> float | None:
        return None if self.commits is None else self.commits / self.executions

    def summary(self) -> dict[str, object]:
        """The JSON form: derived figures spelled out, raw latencies kept for re-analysis."""
        return {
            "engine": self.engine,
            "workload": self.workload,
            "mode": self.mode,
            "executions": self.executions,
            "failed": self.failed,
            "elapsed_s": self.elapsed_s,
            "executions_per_s": self.executions_per_s,
            "transitions": self.transitions,
            "transitions_per_s": self.transitions_per_s,
            "p50_ms": self.p50_s * 1000,
            "p99_ms": self.p99_s * 1000,
            "max_ms": self.max_s * 1000,
            "peak_rss_mb": self.peak_rss_bytes / MB,
            "commits": self.commits,
            "commits_per_execution": self.commits_per_execution,
            "note": self.note,
            "round_executions_per_s": self.round_rates,
            "latencies_ms": [round(value * 1000, 3) for value in self.latencies_s],
        }

    @staticmethod
    def from_summary(data: dict[str, object]) -> RunResult:
        """Back from the JSON a child process printed (a (c) run in its own process)."""
        latencies = data["latencies_ms"]
        assert isinstance(latencies, list)
        commits = data["commits"]
        return RunResult(
            engine=str(data["engine"]),
            workload=str(data["workload"]),
            mode=str(data["mode"]),
            executions=int(str(data["executions"])),
            elapsed_s=float(str(data["elapsed_s"])),
            latencies_s=[float(value) / 1000 for value in latencies],
            transitions=int(str(data["transitions"])),
            peak_rss_bytes=int(float(str(data["peak_rss_mb"])) * MB),
            commits=None if commits is None else int(str(commits)),
            failed=int(str(data["failed"])),
            note=str(data["note"]),
        )

    def add_note(self, note: str) -> None:
        self.note = f"{self.note}; {note}" if self.note else note


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: an observed value, never an interpolation between two."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def process_peak_rss() -> int:
    """The kernel's high-water mark of this process's RSS, in bytes (what no sampler can miss)."""
    if sys.platform.startswith("win"):
        return int(getattr(psutil.Process().memory_info(), "peak_wset", 0))
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB, macOS bytes


class RssSampler:
    """The peak RSS seen during a `with` block, sampled by psutil.

    The process-wide high-water mark cannot be reset between workloads that share a process,
    so within one process each window is sampled instead. 20 ms is fine-grained enough for
    runs lasting a second or more and too coarse to steal the GIL from what is measured.
    """

    def __init__(self, interval_s: float = 0.02) -> None:
        self._process = psutil.Process(os.getpid())
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-rss", daemon=True)
        self.peak_bytes = 0

    def _sample(self) -> None:
        self.peak_bytes = max(self.peak_bytes, int(self._process.memory_info().rss))

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def now() -> float:
    return time.perf_counter()


def log(message: str) -> None:
    """Progress goes to stderr, so that stdout stays the report (or a child's JSON)."""
    print(message, file=sys.stderr, flush=True)
