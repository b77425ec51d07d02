"""Faults injected into a service from configuration, so the saga can be watched under stress.

Per service (faults.yaml's `defaults`, then its `services.NAME`, then the environment), and
per handler where `services.NAME.handlers.HANDLER` says more (`capture: {lost_reply_rate: 1}`):

    error_rate    a call fails at once with ServiceUnavailable (a transient fault: retried)
    hang_rate     a call stalls past the task's deadline: the state sees States.Timeout
    lost_reply_rate  the step is done, but its answer never arrives (it stalls past the
                  deadline after the ledger write): States.Timeout, and a retry that must
                  find the work already done
    crash_rate    the process dies mid-task (os._exit): before or after its ledger write
    crash_once    N: the N-th task a process of this service takes kills it, once per run
                  directory (of all its replicas, the first to get there): a crash a test can
                  count on, whatever the rates (0: none)
    latency       {median_ms, p95_ms}: a log-normal draw before the work, the long tail
                  that real services have

The file is $PAYMENT_FAULTS (a path; `none` or unset: no file). Environment variables win
over the file: PAYMENT_FAULT_ERROR_RATE, PAYMENT_FAULT_HANG_RATE, PAYMENT_FAULT_LOST_REPLY_RATE,
PAYMENT_FAULT_CRASH_RATE, PAYMENT_FAULT_CRASH_ONCE (N), PAYMENT_FAULT_LATENCY_MS ("median,p95").

A crash after the ledger write is the interesting one: the step is done, the answer never
left, and the command comes back with the same token; the ledger answers it from its done
table instead of applying the step again.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from podium.worker import TaskContext, TaskError

FAULTS_ENV = "PAYMENT_FAULTS"
CRASH_EXIT_CODE = 86  # what the supervisor reports for an injected crash
HANG_WITHOUT_DEADLINE = 30.0  # seconds a hang lasts when the task says no deadline
_Z95 = 1.6448536269514722  # the standard normal's 95th percentile
_RATES = ("error_rate", "hang_rate", "lost_reply_rate", "crash_rate")


@dataclass(frozen=True)
class Latency:
    median_ms: float = 0.0
    p95_ms: float = 0.0

    def draw(self, rng: random.Random) -> float:
        """Seconds, log-normal with this median and 95th percentile."""
        if self.median_ms <= 0:
            return 0.0
        sigma = max(0.0, math.log(max(self.p95_ms, self.median_ms) / self.median_ms) / _Z95)
        return rng.lognormvariate(math.log(self.median_ms), sigma) / 1000


@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.0
    hang_rate: float = 0.0
    lost_reply_rate: float = 0.0
    crash_rate: float = 0.0
    crash_once: int = 0
    latency: Latency = field(default_factory=Latency)
    handlers: dict[str, Faults] = field(default_factory=dict)  # where a handler differs

    def of(self, handler: str) -> Faults:
        return self.handlers.get(handler, self)


def load(service: str, environ: dict[str, str] | None = None) -> Faults:
    """The faults configured for `service` (see the module's docstring)."""
    env = dict(os.environ if environ is None else environ)
    faults = Faults()
    handlers: dict[str, Any] = {}
    path = env.get(FAULTS_ENV, "")
    if path and path.lower() != "none":
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        faults = _merge(faults, document.get("defaults") or {})
        own = dict((document.get("services") or {}).get(service) or {})
        handlers = own.pop("handlers", None) or {}
        faults = _merge(faults, own)
    overrides = _environment(env)
    per_handler = {name: _merge(_merge(faults, values or {}), overrides) for name, values in handlers.items()}
    return replace(_merge(faults, overrides), handlers=per_handler)


def _environment(env: dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for key in _RATES:
        value = env.get(f"PAYMENT_FAULT_{key.upper()}")
        if value:
            overrides[key] = float(value)
    if env.get("PAYMENT_FAULT_CRASH_ONCE"):
        overrides["crash_once"] = int(env["PAYMENT_FAULT_CRASH_ONCE"])
    if env.get("PAYMENT_FAULT_LATENCY_MS"):
        median, _, p95 = env["PAYMENT_FAULT_LATENCY_MS"].partition(",")
        overrides["latency"] = {"median_ms": float(median), "p95_ms": float(p95 or median)}
    return overrides


def _merge(faults: Faults, values: dict[str, Any]) -> Faults:
    unknown = set(values) - {*_RATES, "crash_once", "latency"}
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    changes = {k: v for k, v in values.items() if k != "latency"}
    for key in _RATES:
        if key in changes and not 0.0 <= float(changes[key]) <= 1.0:
            raise ValueError(f"{key} must be between 0 and 1, not {changes[key]}")
    if "crash_once" in changes:
        changes["crash_once"] = int(changes["crash_once"])  # YAML's `true` counts as the first task
    if "latency" in values:
        changes["latency"] = replace(faults.latency, **values["latency"])
    return replace(faults, **changes)


class Injector:
    """Where a handler lets faults in: `before(ctx)` ahead of its ledger write, `after(ctx)`
    between the write and the answer."""

    def __init__(self, service: str, faults: Faults, run_dir: Path, seed: int | None = None) -> None:
        self.service = service
        self.faults = faults
        self.run_dir = run_dir
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._crash_after: set[str] = set()  # tokens whose task dies after its write
        self._lose_reply: set[str] = set()  # tokens whose answer is lost after the write
        self._taken = 0  # tasks this process took, for crash_once

    def before(self, ctx: TaskContext) -> None:
        faults = self.faults.of(ctx.handler)
        with self._lock:  # random.Random is not to be shared between threads unguarded
            delay = faults.latency.draw(self._rng)
            error = self._rng.random() < faults.error_rate
            hang = self._rng.random() < faults.hang_rate
            self._taken += 1
            crash = self._rng.random() < faults.crash_rate or self._claim_crash_once(ctx, faults.crash_once)
            crash_after = crash and self._rng.random() < 0.5
            if crash_after:
                self._crash_after.add(ctx.token)
            elif not error and not hang and self._rng.random() < faults.lost_reply_rate:
                self._lose_reply.add(ctx.token)
        if crash and not crash_after:
            time.sleep(delay / 2)
            self._crash(ctx, "before")
        time.sleep(delay)
        if crash_after:
            return  # it dies after its write: no other fault before that
        if error:
            raise TaskError("ServiceUnavailable", f"{self.service} is unavailable (injected fault)")
        if hang:
            self._hang(ctx)

    def after(self, ctx: TaskContext) -> None:
        with self._lock:
            crash = ctx.token in self._crash_after
            lost = ctx.token in self._lose_reply
            self._crash_after.discard(ctx.token)
            self._lose_reply.discard(ctx.token)
        if crash:
            self._crash(ctx, "after")
        if lost:
            self._stall(ctx)
            raise TaskError("ServiceUnavailable", f"{self.service}'s answer was lost (injected fault)")

    def _hang(self, ctx: TaskContext) -> None:
        self._stall(ctx)
        # The orchestrator gave up on this task: doing its work now would only race the
        # compensation that is already under way.
        raise TaskError("ServiceUnavailable", f"{self.service} stalled past the deadline (injected fault)")

    @staticmethod
    def _stall(ctx: TaskContext) -> None:
        """Sleep until the orchestrator has stopped waiting (heartbeats go on meanwhile, so it is
        TimeoutSeconds, not HeartbeatSeconds, that runs out)."""
        remaining = ctx.remaining()
        time.sleep(HANG_WITHOUT_DEADLINE if remaining is None else max(0.0, remaining) + 1.0)

    def _claim_crash_once(self, ctx: TaskContext, at: int) -> bool:
        if not at or self._taken != at:
            return False
        marker = self.run_dir / "faults" / f"crashed-{self.service}"
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: of all the replicas and threads, exactly one claims the crash.
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as out:
            out.write(f"pid {os.getpid()} {ctx.handler} task {ctx.tag}\n")
        return True

    def _crash(self, ctx: TaskContext, point: str) -> None:
        """Die now; `point` is "before" or "after" the ledger write."""
        when = "before its ledger write" if point == "before" else "after its ledger write, before answering"
        ctx.logger.error("injected crash of %s (pid %d) %s", self.service, os.getpid(), when)
        # One line per crash, for whoever reports on the run (podium demo counts them).
        log_file = self.run_dir / "faults" / "crashes.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "a", encoding="utf-8") as out:
            out.write(f"{self.service} {ctx.handler} {ctx.tag} {point}\n")
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(CRASH_EXIT_CODE)  # no cleanup, no answer, no ack: as a kill -9 would leave it
