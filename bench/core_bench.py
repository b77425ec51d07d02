"""podium's core benchmark: the durable engine against moto's interpreter and raw SQLite.

    python -m bench.core_bench [--quick] [--only a,b,c] [--json FILE] [--dir DIR] [--profile DIR]

Workloads, each run sequentially (one execution after another) and with executions in flight
(all started, then all awaited):
  (a) a 10-state Pass/Choice chain,
  (b) a saga of 5 Lambda-ARN Tasks calling trivial Python functions,
  (c) an inline Map over 10,000 items with a Pass processor, in a process of its own.
podium runs durable: SQLiteStore(synchronous="full") on a fresh temporary file per run. moto
runs the same definitions through boto3 (CreateStateMachine, StartExecution, DescribeExecution
polled until terminal). The floor is raw SQLite: one small INSERT per committed transaction.
(a) and (b) run in rounds and each engine is reported by its best round (see Plan.rounds).
moto cannot run Python Lambdas without Docker, so its saga calls echoing stubs (moto_side.py).

Figures: executions/s, state transitions/s (StateEntered events), p50/p99 latency from start
to terminal, peak RSS; podium's commits per execution against the raw floor; and PASS/FAIL
against the issue's floors. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path

from bench import report
from bench.measure import MB, RunResult, log, now
from bench.sqlite_floor import CommitFloor, measure_commit_floor
from bench.workloads import (
    CHAIN,
    MAP_ITEMS,
    SAGA,
    JSONValue,
    Workload,
    chain_definition,
    map_workload,
    podium_lambda_arn,
    saga_definition,
)

ROOT = Path(__file__).resolve().parent.parent  # where `python -m bench...` finds the package
CHILD_TIMEOUT_S = 900


@dataclass(frozen=True)
class Plan:
    """How many executions each measurement runs; sized to keep the default run near 2 minutes."""

    # (a) and (b) run in rounds, each engine reported by its best round: other tenants of a
    # machine (other test runs, a noisy virtual disk) slow single rounds of either engine by up
    # to half, and the best round is the figure least disturbed by them. Counts are per round.
    rounds: int = 3
    podium_sequential: int = 100
    moto_sequential: int = 20  # moto manages ~10-80 executions/s here
    inflight: int = 100  # the "100 executions in flight", for (a) and (b)
    podium_warmup: int = 20
    moto_warmup: int = 3
    map_items: int = MAP_ITEMS
    map_sequential: int = 3
    # 100 Maps of 10,000 items in flight is a million iterations (about a minute for podium and
    # far longer for moto): the default keeps it to 10, --map-inflight 100 runs the full figure.
    map_inflight: int = 10
    moto_map_sequential: int = 1  # moto needs about 10 s and a thread per item for one
    floor_seconds: float = 2.0


QUICK = Plan(
    rounds=2,
    podium_sequential=50,
    moto_sequential=10,
    podium_warmup=10,
    moto_warmup=2,
    map_sequential=1,
    map_inflight=3,
    floor_seconds=0.5,
)


@dataclass
class Step:
    """One measurement, to be announced, timed and (if it fails) reported without stopping the rest."""

    label: str
    run: Callable[[], RunResult]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    plan = QUICK if args.quick else Plan()
    if args.map_inflight is not None:
        plan = replace(plan, map_inflight=args.map_inflight)
    if args.map_items is not None:
        plan = replace(plan, map_items=args.map_items)
    only = set(args.only.split(",")) if args.only else {"a", "b", "c"}
    unknown = only - {"a", "b", "c"}
    if unknown:
        raise SystemExit(f"--only takes a, b, c; not {', '.join(sorted(unknown))}")
    profile_dir = Path(args.profile) if args.profile else None
    began = now()

    print(_environment(args.dir), flush=True)
    # The floor is measured before and after the runs and pooled: on shared or virtual disks
    # fsync costs drift by tens of percent over a minute, and the two figures show by how much.
    floor = _floor(args.dir, plan.floor_seconds, "before the runs")

    notes: list[str] = [
        "latency: sequential runs time each execution as its caller sees it (start call to terminal"
        " seen); with executions in flight, from each engine's own start and stop stamps (podium's"
        " in whole milliseconds), since awaiting them in turn would add the wait for the others.",
        "peak RSS: (a) and (b) share the bench's process, so each figure is that process's RSS during"
        " the run; moto's includes boto3 and moto themselves and what podium's runs left behind."
        " Each (c) run has a process of its own, and its figure is the kernel's high-water mark.",
    ]
    if profile_dir is not None:
        notes.append("--profile: podium ran under cProfile, so its figures here are not comparable.")
    steps = _steps(plan, only, args, profile_dir, notes)
    results: list[RunResult] = []
    for index, step in enumerate(steps, 1):
        log(f"[{index}/{len(steps)}] {step.label} ...")
        started = now()
        try:
            result = step.run()
        except Exception as exc:  # one broken measurement must not cost the others
            log(f"        failed: {type(exc).__name__}: {exc}")
            notes.append(f"{step.label}: not measured ({type(exc).__name__}: {exc})")
            continue
        results.append(result)
        if len(result.round_rates) > 1:
            log(f"        best round: {_figures(result)}  ({now() - started:.1f} s)")
        else:
            log(f"        {_figures(result)}  ({now() - started:.1f} s)")

    floor = floor + _floor(args.dir, plan.floor_seconds, "after the runs")
    titles = {
        key: title
        for key, title in (("a", CHAIN.title), ("b", SAGA.title), ("c", map_workload(plan.map_items).title))
        if key in only
    }
    checks = report.floors(results)
    print()
    print("podium against moto (same definitions, same machine, same process but (c))")
    print(report.comparison(results, titles, notes))
    print()
    print(report.against_floor(results, floor))
    print()
    print("the issue's floors")
    print(report.floors_table(checks))
    print(f"\ntotal bench time {now() - began:.0f} s")

    if args.json:
        document = {
            "environment": _environment_data(args.dir),
            "plan": asdict(plan),
            "sqlite_floor": {
                "commits_per_s": floor.commits_per_s,
                "commit_us": floor.commit_us,
                "commits": floor.commits,
                "measurements_commits_per_s": list(floor.rates),
            },
            "results": [result.summary() for result in results],
            "floors": [{**asdict(check), "verdict": check.verdict} for check in checks],
            "notes": notes,
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        log(f"results saved to {args.json}")
    broken = any(result.failed for result in results)
    return 2 if broken else 0  # executions that failed make every figure suspect


def _figures(result: RunResult) -> str:
    return (
        f"{result.executions_per_s:,.1f} exec/s, {result.transitions_per_s:,.0f} transitions/s,"
        f" p50 {result.p50_s * 1000:,.2f} ms, p99 {result.p99_s * 1000:,.2f} ms,"
        f" peak RSS {result.peak_rss_bytes / MB:,.0f} MB"
        + ("" if result.commits is None else f", {result.commits_per_execution:.2f} commits/exec")
        + (f", {result.failed} FAILED" if result.failed else "")
    )


def _best_of(rounds: int, run_round: Callable[[int], RunResult]) -> RunResult:
    """Run `rounds` rounds; the best by executions/s stands for all (see Plan.rounds)."""
    results: list[RunResult] = []
    for index in range(rounds):
        result = run_round(index)
        if rounds > 1:
            log(f"        round {index + 1}/{rounds}: {_figures(result)}")
        results.append(result)
    best = max(results, key=lambda result: result.executions_per_s)
    best.round_rates = [result.executions_per_s for result in results]
    best.failed = sum(result.failed for result in results)  # a failure in any round must show
    if rounds > 1:
        rates = ", ".join(f"{rate:,.1f}" for rate in best.round_rates)
        best.add_note(f"best of {rounds} rounds by executions/s ({rates})")
    return best


def _floor(directory: str | None, seconds: float, when: str) -> CommitFloor:
    log(f"[floor] raw SQLite commits, WAL + synchronous=FULL, {seconds:g} s {when} ...")
    floor = measure_commit_floor(directory, seconds)
    log(f"        {floor.commits_per_s:,.0f} commits/s ({floor.commit_us:,.0f} us each)")
    return floor


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.core_bench",
        description="podium's durable engine against moto's Step Functions and raw SQLite commits.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer executions and rounds (about a minute in all, half of it moto's (c))",
    )
    parser.add_argument("--only", help="comma-separated workloads among a, b, c (default: all)")
    parser.add_argument("--json", metavar="FILE", help="also save every figure (and raw latencies) as JSON")
    parser.add_argument("--dir", metavar="DIR", help="where the temporary databases go (default: $TMPDIR)")
    parser.add_argument("--no-moto", action="store_true", help="podium and the SQLite floor only")
    parser.add_argument(
        "--map-inflight",
        type=int,
        metavar="N",
        help="(c) executions in flight (default 10; 100 takes minutes)",
    )
    parser.add_argument("--map-items", type=int, metavar="N", help=argparse.SUPPRESS)  # experiments only
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="cProfile podium's runs (all threads) into DIR/*.prof and print their top functions; "
        "slows podium down, so its figures are then not comparable",
    )
    return parser.parse_args(argv)


def _steps(
    plan: Plan, only: set[str], args: argparse.Namespace, profile_dir: Path | None, notes: list[str]
) -> list[Step]:
    steps: list[Step] = []
    definitions: dict[str, tuple[Workload, dict[str, JSONValue]]] = {
        "a": (CHAIN, chain_definition()),
        "b": (SAGA, saga_definition(podium_lambda_arn)),
    }
    for key in ("a", "b"):
        if key not in only:
            continue
        workload, definition = definitions[key]
        for mode, count in (("sequential", plan.podium_sequential), ("inflight", plan.inflight)):
            steps.append(
                Step(
                    f"podium ({key}) {workload.title}, {_mode(mode, count, plan.rounds)}",
                    _podium_step(workload, definition, mode, count, plan, args, profile_dir),
                )
            )
    if "c" in only:
        big = map_workload(plan.map_items)
        for mode, count in (("sequential", plan.map_sequential), ("inflight", plan.map_inflight)):
            steps.append(
                Step(
                    f"podium ({big.key}) {big.title}, {_mode(mode, count)}, own process",
                    _child_step("podium", mode, count, plan, args, profile_dir),
                )
            )
    if args.no_moto:
        notes.append("moto: not run (--no-moto)")
        return steps
    for key in ("a", "b"):
        if key not in only:
            continue
        workload = definitions[key][0]
        for mode, count in (("sequential", plan.moto_sequential), ("inflight", plan.inflight)):
            steps.append(
                Step(
                    f"moto   ({key}) {workload.title}, {_mode(mode, count, plan.rounds)}",
                    _moto_step(key, mode, count, plan),
                )
            )
    if "c" in only:
        big = map_workload(plan.map_items)
        mode = _mode("sequential", plan.moto_map_sequential)
        steps.append(
            Step(
                f"moto   ({big.key}) {big.title}, {mode}, own process",
                _child_step("moto", "sequential", plan.moto_map_sequential, plan, args, None),
            )
        )
        notes.append(
            f"(c) in flight, moto: not run. moto runs a Map with a thread per item (about 10 s and"
            f" 10,000 threads for one execution here); {plan.map_inflight} at once would take minutes."
        )
    return steps


def _mode(mode: str, count: int, rounds: int = 1) -> str:
    shown = f"sequential x {count}" if mode == "sequential" else f"{count} in flight"
    return shown if rounds == 1 else f"{shown}, {rounds} rounds"


def _podium_step(
    workload: Workload,
    definition: dict[str, JSONValue],
    mode: str,
    count: int,
    plan: Plan,
    args: argparse.Namespace,
    profile_dir: Path | None,
) -> Callable[[], RunResult]:
    def run_round(index: int) -> RunResult:
        from bench.podium_side import run_podium
        from bench.profiling import ThreadProfiles

        profiles = ThreadProfiles() if profile_dir is not None else None
        result = run_podium(
            workload,
            definition,
            mode=mode,
            count=count,
            warmup=plan.podium_warmup,
            directory=args.dir,
            profiles=profiles,
        )
        if profiles is not None and profile_dir is not None:
            log(profiles.save(profile_dir / f"podium-{workload.key}-{mode}-round{index + 1}.prof"))
        return result

    return lambda: _best_of(plan.rounds, run_round)


def _moto_step(key: str, mode: str, count: int, plan: Plan) -> Callable[[], RunResult]:
    def run_round(index: int) -> RunResult:
        from bench.moto_side import SAGA_NOTE, moto_session, run_moto

        saga = key == "b"
        # A fresh mock account per measurement: moto keeps every execution in memory, and the
        # next run should not pay for the last one's.
        with moto_session(lambdas=saga) as session:
            if saga:
                definition = saga_definition(lambda name: session.function_arns[name])
                workload = SAGA
            else:
                definition = chain_definition()
                workload = CHAIN
            return run_moto(
                session,
                workload,
                definition,
                mode=mode,
                count=count,
                warmup=plan.moto_warmup,
                note=SAGA_NOTE if saga else "",
            )

    return lambda: _best_of(plan.rounds, run_round)


def _child_step(
    engine: str, mode: str, count: int, plan: Plan, args: argparse.Namespace, profile_dir: Path | None
) -> Callable[[], RunResult]:
    def run() -> RunResult:
        command = [
            sys.executable,
            "-m",
            "bench.map_child",
            f"--engine={engine}",
            f"--mode={mode}",
            f"--count={count}",
            f"--items={plan.map_items}",
        ]
        if args.dir:
            command.append(f"--dir={args.dir}")
        if profile_dir is not None:
            command.append(f"--profile={profile_dir / f'{engine}-c-{mode}.prof'}")
        completed = subprocess.run(
            command, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=CHILD_TIMEOUT_S, check=False
        )
        lines = completed.stdout.strip().splitlines()
        if completed.returncode != 0 or not lines:
            raise RuntimeError(f"{' '.join(command[1:])} exited with {completed.returncode}")
        return RunResult.from_summary(json.loads(lines[-1]))

    return run


def _environment_data(directory: str | None) -> dict[str, object]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "podium": version("podium"),
        "moto": version("moto"),
        "boto3": version("boto3"),
        "database_dir": directory or tempfile.gettempdir(),
    }


def _environment(directory: str | None) -> str:
    data = _environment_data(directory)
    return (
        f"podium core bench: podium {data['podium']}, moto {data['moto']}, Python {data['python']},"
        f" SQLite {data['sqlite']}\n"
        f"machine: {data['platform']}, {data['cpus']} CPUs; databases in {data['database_dir']}"
    )


if __name__ == "__main__":
    sys.exit(main())
