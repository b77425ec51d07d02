"""podium server's API benchmark: what boto3 gets from one `podium server` process, against
moto's server mode on the same workloads (issue 3, item 7).

    python -m bench.api_bench [--quick] [--no-moto] [--rounds N] [--duration S]
                              [--json FILE] [--profile DIR]

Workloads, each through boto3 over HTTP against a server process started here:
  (a) StartExecution calls/s of a 5-state STANDARD machine from 8 client threads, spread over
      4 client processes x 2 threads (one Python process's boto3 tops out near 1,100 calls/s
      of client CPU; spread out, the server is what is measured). Best of --rounds windows.
  (b) end-to-end latency of a 5-state EXPRESS execution: StartSyncExecution, one at a time.
  (c) end-to-end latency of a 5-state STANDARD execution: StartExecution, then
      DescribeExecution polled until it has ended.
podium runs on a fresh SQLite file with the store's defaults (WAL, synchronous=FULL: every
committed step is fsynced). Floors (the issue's): 1,000 StartExecution/s from 8 client threads;
EXPRESS 5-state p50 under 5 ms. The report prints every figure with moto's and the ratio, the
floors with PASS/FAIL, and the CPU each side used. With --profile DIR, py-spy (if installed)
samples the podium server during one more throughput window and the report names where its
time goes. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.api_load import LoadResult, start_executions
from bench.api_servers import (
    ROLE,
    Server,
    ServerUnavailableError,
    moto_server,
    null_server,
    podium_server,
    sfn_client,
)

STATES = 5
CLIENT_PROCESSES, CLIENT_THREADS = 4, 2
THROUGHPUT_FLOOR = 1000.0  # StartExecution/s from 8 client threads
EXPRESS_P50_FLOOR_S = 0.005
POLL_MIN_S, POLL_MAX_S, POLL_FRACTION = 0.0005, 0.02, 1 / 50
END_TIMEOUT_S = 60.0
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Plan:
    rounds: int = 3
    duration_s: float = 5.0
    express_runs: int = 1000
    standard_runs: int = 500
    warmup: int = 50
    moto_rounds: int = 1
    moto_express_runs: int = 200
    moto_standard_runs: int = 100
    moto_warmup: int = 5


QUICK = Plan(
    rounds=2,
    duration_s=3.0,
    express_runs=300,
    standard_runs=150,
    warmup=20,
    moto_standard_runs=30,
    moto_express_runs=30,
    moto_warmup=3,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def five_states(kind: str) -> str:
    """5 Pass states in a row, each adding a field: the same document for podium and moto."""
    states = {
        f"S{i}": {
            "Type": "Pass",
            "Result": {"step": i, "kind": kind},
            "ResultPath": f"$.s{i}",
            **({"Next": f"S{i + 1}"} if i < STATES - 1 else {"End": True}),
        }
        for i in range(STATES)
    }
    return json.dumps({"Comment": f"{STATES}-state {kind}", "StartAt": "S0", "States": states})


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[rank]


# --- results ---------------------------------------------------------------------------------


@dataclass
class Throughput:
    rounds: list[float]  # calls/s of each round
    best: LoadResult | None
    server_cpu_s: float  # server CPU during the best round
    backlog_at_end: int | None  # executions still unfinished when the best round ended (podium)
    drained_after_s: float | None  # then, seconds until none was left (podium)
    error: str | None = None

    @property
    def calls_per_s(self) -> float:
        return max(self.rounds) if self.rounds else math.nan


@dataclass
class Latency:
    runs: int
    latencies_s: list[float] = field(repr=False)
    polls: int = 0  # DescribeExecution calls (STANDARD)
    server_s: list[float] = field(default_factory=list, repr=False)  # stopDate - startDate
    failed: int = 0
    error: str | None = None

    @property
    def p50_s(self) -> float:
        return percentile(self.latencies_s, 50)

    @property
    def p99_s(self) -> float:
        return percentile(self.latencies_s, 99)


@dataclass
class Side:
    name: str
    throughput: Throughput | None = None
    express: Latency | None = None
    standard: Latency | None = None


# --- the workloads ---------------------------------------------------------------------------


def measure_throughput(server: Server, arn: str, rounds: int, duration_s: float) -> Throughput:
    rates: list[float] = []
    best: LoadResult | None = None
    best_cpu = 0.0
    backlog: int | None = None
    drained: float | None = None
    for index in range(rounds):
        cpu_before = server.cpu_seconds()
        result = start_executions(
            server.endpoint, arn, processes=CLIENT_PROCESSES, threads=CLIENT_THREADS, duration_s=duration_s
        )
        cpu = server.cpu_seconds() - cpu_before  # the warm-up calls included: a little high
        if result.calls == 0:
            return Throughput(rates, best, best_cpu, backlog, drained, error=result.first_error or "no call")
        running = server.running_executions()
        rates.append(result.calls_per_s)
        unfinished = "?" if running is None else str(running)
        log(
            f"  {server.name} round {index + 1}: {result.calls_per_s:,.0f} StartExecution/s"
            f" ({result.calls} calls, {result.errors} errors), {unfinished} unfinished"
        )
        if best is None or result.calls_per_s > best.calls_per_s:
            best, best_cpu, backlog = result, cpu, running
            drained = _drain(server) if running else (0.0 if running == 0 else None)
        else:
            _drain(server)
    error = best.first_error if best is not None and best.errors else None
    return Throughput(rates, best, best_cpu, backlog, drained, error)


def _drain(server: Server) -> float | None:
    """Seconds until podium has no unfinished execution left (None for moto: it cannot say)."""
    started = time.perf_counter()
    while True:
        running = server.running_executions()
        if running is None:
            return None
        if running == 0:
            return time.perf_counter() - started
        if time.perf_counter() - started > END_TIMEOUT_S:
            return math.inf
        time.sleep(0.05)


def measure_express(server: Server, arn: str, runs: int, warmup: int) -> Latency:
    sfn = sfn_client(server.endpoint, pool=1)
    latencies: list[float] = []
    on_server: list[float] = []
    failed = 0
    try:
        for index in range(warmup + runs):
            started = time.perf_counter()
            result = sfn.start_sync_execution(stateMachineArn=arn, input='{"order": 1}')
            elapsed = time.perf_counter() - started
            if index < warmup:
                continue
            latencies.append(elapsed)
            on_server.append((result["stopDate"] - result["startDate"]).total_seconds())
            failed += result["status"] != "SUCCEEDED"
    except Exception as exc:  # moto has no StartSyncExecution: say so, measure the rest
        return Latency(0, [], error=_short(exc))
    return Latency(runs, latencies, server_s=on_server, failed=failed)


def measure_standard(server: Server, arn: str, runs: int, warmup: int) -> Latency:
    sfn = sfn_client(server.endpoint, pool=1)
    latencies: list[float] = []
    on_server: list[float] = []
    polls = failed = 0
    try:
        for index in range(warmup + runs):
            started = time.perf_counter()
            execution = sfn.start_execution(
                stateMachineArn=arn, name=str(uuid.uuid4()), input='{"order": 1}'
            )["executionArn"]
            count = 0
            while True:
                described = sfn.describe_execution(executionArn=execution)
                count += 1
                waited = time.perf_counter() - started
                if described["status"] in TERMINAL:
                    break
                if waited > END_TIMEOUT_S:
                    raise TimeoutError(f"{execution} still RUNNING after {END_TIMEOUT_S} s")
                # The pause grows with the time already waited (1/50 of it): polling adds at most
                # ~2% to the latency it observes, without spinning on the server.
                time.sleep(min(max(waited * POLL_FRACTION, POLL_MIN_S), POLL_MAX_S))
            if index < warmup:
                continue
            latencies.append(waited)
            polls += count
            failed += described["status"] != "SUCCEEDED"
            if described.get("stopDate") is not None:
                on_server.append((described["stopDate"] - described["startDate"]).total_seconds())
    except Exception as exc:
        return Latency(len(latencies), latencies, polls, on_server, failed, error=_short(exc))
    return Latency(runs, latencies, polls, on_server, failed)


def _short(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Code", "").isdigit():
        status = response["Error"]["Code"]  # an HTML error page: moto has no such action
        operation = getattr(exc, "operation_name", "the call")
        return f"{operation} answered HTTP {status} (not implemented by this server)"
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 160 else text[:157] + "..."


def run_side(server: Server, plan: Plan, *, moto: bool) -> Side:
    side = Side(server.name)
    sfn = sfn_client(server.endpoint)
    standard = sfn.create_state_machine(
        name="bench-standard", definition=five_states("STANDARD"), roleArn=ROLE
    )["stateMachineArn"]
    express = sfn.create_state_machine(
        name="bench-express", definition=five_states("EXPRESS"), roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    runs = (
        (plan.moto_express_runs, plan.moto_standard_runs) if moto else (plan.express_runs, plan.standard_runs)
    )
    warmup = plan.moto_warmup if moto else plan.warmup
    log(f"{server.name}: (b) {runs[0]} StartSyncExecution of a {STATES}-state EXPRESS machine")
    side.express = measure_express(server, express, runs[0], warmup)
    log(f"{server.name}: (c) {runs[1]} StartExecution + DescribeExecution polling, {STATES}-state STANDARD")
    side.standard = measure_standard(server, standard, runs[1], warmup)
    rounds = plan.moto_rounds if moto else plan.rounds
    log(
        f"{server.name}: (a) StartExecution from {CLIENT_PROCESSES} processes x {CLIENT_THREADS} threads, "
        f"{rounds} round(s) of {plan.duration_s:g} s"
    )
    side.throughput = measure_throughput(server, standard, rounds, plan.duration_s)
    return side


# --- profiling -------------------------------------------------------------------------------


def profile_podium(server: Server, directory: Path, duration_s: float) -> list[str]:
    """py-spy on the server (GIL-holding samples only) during one more throughput window."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        return ["py-spy is not installed (pip install py-spy): no profile taken"]
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / "podium-start-execution.txt"
    arn = "arn:aws:states:us-east-1:000000000000:stateMachine:bench-standard"  # made by run_side
    spy_process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(server.pid),
            "--duration",
            str(int(duration_s) + 4),
            "--rate",
            "250",
            "--gil",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # py-spy attaches
    start_executions(
        server.endpoint, arn, processes=CLIENT_PROCESSES, threads=CLIENT_THREADS, duration_s=duration_s
    )
    spy_process.wait(timeout=duration_s + 60)
    if not output.is_file():
        return [f"py-spy wrote no profile (exit {spy_process.returncode}; it may need ptrace rights)"]
    return [f"profile (py-spy, GIL-holding samples): {output}", *summarize_profile(output)]


def summarize_profile(path: Path, top: int = 12) -> list[str]:
    """Where the server's GIL-holding samples went: by part of the server, then by podium frame."""
    total = 0
    parts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    skip = ("podium/cli.py", "podium/api/server.py")  # the roots of the event loop's stacks
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        joined = stack
        if "Engine._loop" in joined:
            part = "engine thread (timers, task answers)"
        elif "_WorkItem.run" in joined:
            if "podium/core/" in joined:
                part = "API handler thread: the interpreter (podium.core)"
            elif "podium/store/" in joined:
                part = "API handler thread: the store (podium.store, SQLite)"
            else:
                part = "API handler thread: service and runtime"
        elif any(name in joined for name in ("uvicorn", "starlette", "asyncio", "podium/api/")):
            part = "event loop: HTTP (uvicorn, Starlette, podium.api, thread hand-offs)"
        else:
            part = "other"
        parts[part] += samples
        for frame in {f.rsplit(":", 1)[0] + ")" if ":" in f else f for f in frames}:
            if "podium/" in frame and not any(root in frame for root in skip):
                inclusive[frame] += samples
    if not total:
        return ["  (no samples)"]
    lines = [f"  {100 * n / total:5.1f}%  {part}" for part, n in parts.most_common()]
    lines.append("  heaviest podium functions (inclusive share of the samples):")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return lines


# --- the report ------------------------------------------------------------------------------

Row = tuple[str, str, str, str]


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{1000 * seconds:.2f} ms"


def _rate(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.0f}"


def _ratio(podium: float, moto: float, higher_is_better: bool) -> str:
    """How many times better podium is (a ratio > 1 is podium's advantage)."""
    if any(math.isnan(x) or x <= 0 for x in (podium, moto)):
        return "-"
    return f"{(podium / moto if higher_is_better else moto / podium):,.1f}x"


def _table(rows: list[Row]) -> list[str]:
    headers = ("", "podium", "moto", "podium vs moto")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(4)]

    def line(cells: Row) -> str:
        return "  " + "  ".join(
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)
        )

    return [line(headers), "  " + "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def _throughput_figures(t: Throughput | None) -> dict[str, float]:
    nan = math.nan
    if t is None or t.best is None or not t.best.calls:
        return dict.fromkeys(("rate", "p50", "p99", "server_cpu", "client_cpu", "capacity"), nan)
    best = t.best
    server_cpu = t.server_cpu_s / best.calls
    return {
        "rate": t.calls_per_s,
        "p50": percentile(best.latencies_s, 50),
        "p99": percentile(best.latencies_s, 99),
        "server_cpu": server_cpu,
        "client_cpu": best.client_cpu_s / best.calls,
        "capacity": 1 / server_cpu if server_cpu > 0 else nan,
    }


def _throughput_section(podium: Side, moto: Side | None, plan: Plan, null: Throughput | None) -> list[str]:
    t_p, t_m = podium.throughput, moto.throughput if moto else None
    p, m = _throughput_figures(t_p), _throughput_figures(t_m)
    threads = CLIENT_PROCESSES * CLIENT_THREADS
    lines = [
        f"(a) StartExecution of a {STATES}-state STANDARD machine from {threads} client threads ="
        f" {CLIENT_PROCESSES} processes x {CLIENT_THREADS} threads",
        "    (one Python process's boto3 tops out near 1,100 calls/s of client CPU: the threads are",
        "    spread over processes so that the server is what is measured); windows of"
        f" {plan.duration_s:g} s, best of {plan.rounds} (moto: best of {plan.moto_rounds})",
    ]
    rows: list[Row] = [
        ("calls/s", _rate(p["rate"]), _rate(m["rate"]), _ratio(p["rate"], m["rate"], True)),
        (
            "  every round",
            ", ".join(_rate(r) for r in (t_p.rounds if t_p else [])) or "-",
            ", ".join(_rate(r) for r in (t_m.rounds if t_m else [])) or "-",
            "",
        ),
        ("call latency p50", _ms(p["p50"]), _ms(m["p50"]), _ratio(p["p50"], m["p50"], False)),
        ("call latency p99", _ms(p["p99"]), _ms(m["p99"]), _ratio(p["p99"], m["p99"], False)),
        (
            "server CPU per call",
            _ms(p["server_cpu"]),
            _ms(m["server_cpu"]),
            _ratio(p["server_cpu"], m["server_cpu"], False),
        ),
        ("client CPU per call", _ms(p["client_cpu"]), _ms(m["client_cpu"]), ""),
        (
            "calls/s one server core sustains (1 / CPU per call)",
            _rate(p["capacity"]),
            _rate(m["capacity"]),
            "",
        ),
        (
            "errors",
            str(t_p.best.errors) if t_p and t_p.best else "-",
            str(t_m.best.errors) if t_m and t_m.best else "-",
            "",
        ),
    ]
    lines += _table(rows)
    n = _throughput_figures(null)
    if not math.isnan(n["rate"]):
        # The same clients against a server that answers at once (bench.api_null): what the
        # client side can produce here at all. A floor above it cannot be shown on this machine.
        lines.append(
            f"  the same clients against a server doing nothing (canned answers): {_rate(n['rate'])} calls/s,"
            f" client CPU {_ms(n['client_cpu'])}/call: the ceiling of this setup on this machine;"
            f" podium reached {p['rate'] / n['rate']:.0%} of it"
        )
    if t_p is not None and t_p.backlog_at_end is not None:
        drained = "-" if t_p.drained_after_s is None else f"{t_p.drained_after_s:.2f} s"
        backlog = t_p.backlog_at_end
        lines.append(
            f"  podium: {backlog} executions unfinished as the window closed; none left {drained} later"
        )
    for name, t in (("podium", t_p), ("moto", t_m)):
        if t is not None and t.error:
            lines.append(f"  {name} errors: {t.error.strip().splitlines()[-1]}")
    return lines


def _latency_section(title: str, p: Latency | None, m: Latency | None, *, polls: bool = False) -> list[str]:
    def figure(latency: Latency | None, name: str) -> float:
        if latency is None or not latency.latencies_s:
            return math.nan
        if name == "server":
            return percentile(latency.server_s, 50)
        return latency.p50_s if name == "p50" else latency.p99_s

    def cell(latency: Latency | None, name: str) -> str:
        if latency is not None and latency.error and not latency.latencies_s:
            return "n/a"
        return _ms(figure(latency, name))

    def runs(latency: Latency | None) -> str:
        return "-" if latency is None else f"{latency.runs} ({latency.failed})"

    rows: list[Row] = [
        ("p50", cell(p, "p50"), cell(m, "p50"), _ratio(figure(p, "p50"), figure(m, "p50"), False)),
        ("p99", cell(p, "p99"), cell(m, "p99"), _ratio(figure(p, "p99"), figure(m, "p99"), False)),
        ("on the server, p50 (stopDate - startDate)", cell(p, "server"), cell(m, "server"), ""),
        ("runs (not SUCCEEDED)", runs(p), runs(m), ""),
    ]
    if polls:
        per_run = [f"{x.polls / x.runs:.1f}" if x is not None and x.runs else "-" for x in (p, m)]
        rows.append(("DescribeExecution calls per run", per_run[0], per_run[1], ""))
    lines = [title, *_table(rows)]
    for name, latency in (("podium", p), ("moto", m)):
        if latency is not None and latency.error:
            lines.append(f"  {name}: {latency.error}")
    return lines


def _floor(name: str, measured: str, passed: bool | None) -> str:
    verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
    return f"  {name:<48} {measured:>12}   {verdict}"


def report(
    podium: Side, moto: Side | None, plan: Plan, context: dict[str, Any], null: Throughput | None = None
) -> str:
    lines = [
        f"podium API benchmark: podium server {context['podium']} against moto {context['moto']}"
        f" in server mode; boto3 {context['boto3']}, Python {context['python']}",
        f"machine: {context['cpus']} CPUs ({context['machine']}), load average {context['load']}"
        " at the start; the server and the client processes share these CPUs",
        "podium: one server process, SQLite in WAL mode with synchronous=FULL (every committed step fsynced)",
        "",
        *_throughput_section(podium, moto, plan, null),
        "",
        *_latency_section(
            f"(b) end to end, a {STATES}-state EXPRESS execution by StartSyncExecution"
            " (one client, one call at a time, boto3's own time included)",
            podium.express,
            moto.express if moto else None,
        ),
        "",
        *_latency_section(
            f"(c) end to end, a {STATES}-state STANDARD execution: StartExecution, then DescribeExecution"
            " polled until it has ended (pauses of 1/50 of the time waited, 0.5 to 20 ms)",
            podium.standard,
            moto.standard if moto else None,
            polls=True,
        ),
        "",
    ]
    rate = _throughput_figures(podium.throughput)["rate"]
    express = podium.express
    p50 = express.p50_s if express is not None and express.latencies_s else math.nan
    lines += [
        "Floors (issue 3):",
        _floor(
            f"StartExecution/s from 8 client threads >= {THROUGHPUT_FLOOR:,.0f}",
            f"{_rate(rate)}/s",
            None if math.isnan(rate) else rate >= THROUGHPUT_FLOOR,
        ),
        _floor(
            f"EXPRESS {STATES}-state p50 < {1000 * EXPRESS_P50_FLOOR_S:g} ms",
            _ms(p50),
            None if math.isnan(p50) else p50 < EXPRESS_P50_FLOOR_S,
        ),
    ]
    return "\n".join(lines)


def _context() -> dict[str, Any]:
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "podium": version("podium"),
        "moto": version("moto"),
        "boto3": version("boto3"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and runs (about a minute)")
    parser.add_argument("--no-moto", action="store_true", help="podium only")
    parser.add_argument("--rounds", type=int, help="throughput rounds for podium")
    parser.add_argument("--duration", type=float, help="seconds per throughput round")
    parser.add_argument("--json", help="write every figure (and raw latencies) to this file")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the podium server during one more window")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.rounds:
        plan = Plan(**{**asdict(plan), "rounds": args.rounds})
    if args.duration:
        plan = Plan(**{**asdict(plan), "duration_s": args.duration})
    context = _context()
    profile: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="podium-api-bench-") as directory,
        podium_server(Path(directory)) as server,
    ):
        log(f"podium server at {server.endpoint}")
        podium = run_side(server, plan, moto=False)
        if args.profile:
            log("podium: profiling one more throughput window")
            profile = profile_podium(server, Path(args.profile), plan.duration_s)
    log("null server (canned answers): (a) only, the ceiling of the client side on this machine")
    with null_server() as server:
        null = measure_throughput(
            server, "arn:aws:states:us-east-1:000000000000:stateMachine:null", 1, plan.duration_s
        )
    moto: Side | None = None
    moto_note = "moto: not run (--no-moto)" if args.no_moto else ""
    if not args.no_moto:
        try:
            with moto_server() as server:
                log(f"moto server at {server.endpoint}")
                moto = run_side(server, plan, moto=True)
        except ServerUnavailableError as exc:
            moto_note = f"moto: not measured: {exc}"
            log(moto_note)
    text = report(podium, moto, plan, context, null)
    if moto_note:
        text += "\n" + moto_note
    if profile:
        text += "\n\n" + "\n".join(profile)
    print(text)
    if args.json:
        document = {
            "context": context,
            "plan": asdict(plan),
            "podium": asdict(podium),
            "moto": asdict(moto) if moto else None,
            "null": asdict(null),
        }
        Path(args.json).write_text(json.dumps(document, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
