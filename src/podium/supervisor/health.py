"""Health: is a replica alive and well, by a heartbeat file and/or an HTTP probe.

- heartbeat: the service touches (or writes) a file at least every `max_age` seconds; the
  file's mtime says when it last did. It works for any program in any language, needs no
  port, and catches the failure an exit code cannot: a process that is alive but stuck. The
  supervisor removes the file before each start, so that a previous run's heartbeat never
  counts for the new one.
- http: GET the URL; a 2xx within `timeout` passes (Kubernetes' httpGet probe).

`HealthTracker` turns check results into a verdict as Docker's HEALTHCHECK does: failures
during `start_period` do not count until the replica has passed once; after that,
`failure_threshold` consecutive failures make it unhealthy, and the supervisor restarts it.
The tracker is plain arithmetic over the times it is given, so tests need no clock.
"""

from __future__ import annotations

import enum
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from podium.supervisor.config import HealthSpec

# Probes go straight to the replica: an http_proxy in the environment must not intercept them.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str  # "ok", "HTTP 503", "heartbeat 12s old (max 10s)", ...


def probe_http(url: str, timeout: float) -> CheckResult:
    try:
        with _OPENER.open(urllib.request.Request(url, method="GET"), timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:  # a non-2xx answer
        return CheckResult(False, f"HTTP {exc.code} from {url}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return CheckResult(False, f"GET {url}: {reason}")
    if 200 <= status < 300:
        return CheckResult(True, "ok")
    return CheckResult(False, f"HTTP {status} from {url}")


def check_heartbeat(file: str, max_age: float, now: float | None = None) -> CheckResult:
    try:
        mtime = os.stat(file).st_mtime
    except FileNotFoundError:
        return CheckResult(False, f"no heartbeat yet ({file})")
    except OSError as exc:
        return CheckResult(False, f"cannot read heartbeat {file}: {exc.strerror}")
    age = (time.time() if now is None else now) - mtime
    if age > max_age:
        return CheckResult(False, f"heartbeat {age:.1f}s old (max {max_age:g}s)")
    return CheckResult(True, "ok")


def run_checks(spec: HealthSpec, url: str | None, heartbeat_file: str | None) -> CheckResult:
    """Every configured check, for one replica (URL and file already expanded); all must pass."""
    results = []
    if spec.heartbeat is not None and heartbeat_file is not None:
        results.append(check_heartbeat(heartbeat_file, spec.heartbeat.max_age))
    if spec.http is not None and url is not None:
        results.append(probe_http(url, spec.http.timeout))
    failed = [r for r in results if not r.ok]
    if failed:
        return CheckResult(False, "; ".join(r.detail for r in failed))
    return CheckResult(True, "ok")


class Verdict(enum.Enum):
    PASSED = "passed"
    STARTING = "starting"  # failing inside the start period, never passed yet: not counted
    FAILING = "failing"  # failing, under the threshold
    UNHEALTHY = "unhealthy"  # the threshold reached: restart it


class HealthTracker:
    """The health of one run of one replica, from the results of its checks."""

    def __init__(self, spec: HealthSpec, started_at: float) -> None:
        self.spec = spec
        self.started_at = started_at
        self.next_check = started_at  # the first check right away: a quick service is running sooner
        self.failures = 0
        self.passed_once = False
        self.detail = "not checked yet"
        self.verdict = Verdict.STARTING

    def due(self, now: float) -> bool:
        return now >= self.next_check

    def record(self, result: CheckResult, now: float) -> Verdict:
        self.next_check = now + self.spec.period
        self.detail = result.detail
        if result.ok:
            self.failures = 0
            self.passed_once = True
            self.verdict = Verdict.PASSED
        elif not self.passed_once and now - self.started_at < self.spec.start_period:
            self.verdict = Verdict.STARTING
        else:
            self.failures += 1
            threshold = self.spec.failure_threshold
            self.verdict = Verdict.UNHEALTHY if self.failures >= threshold else Verdict.FAILING
        return self.verdict

    def summary(self) -> str:
        """What `ps` shows in its HEALTH column."""
        if self.verdict is Verdict.PASSED:
            return "ok"
        if self.verdict is Verdict.STARTING:
            return "starting" if self.detail == "not checked yet" else f"starting: {self.detail}"
        return f"failing {self.failures}/{self.spec.failure_threshold}: {self.detail}"
