"""One (c) run in a process of its own, so that the peak RSS it reports is that run's alone.

`python -m bench.map_child --engine podium --mode sequential --count 3 --items 10000`
prints one JSON line (a RunResult summary) on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.measure import RunResult, process_peak_rss
from bench.workloads import Workload, map_definition, map_workload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.map_child")
    parser.add_argument("--engine", choices=("podium", "moto"), required=True)
    parser.add_argument("--mode", choices=("sequential", "inflight"), required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--profile", default=None, help="write the run's merged cProfile stats here")
    args = parser.parse_args(argv)

    workload = map_workload(args.items)
    if args.engine == "podium":
        result = _podium(workload, args)
    else:
        from bench.moto_side import moto_session, run_moto

        with moto_session(lambdas=False) as session:
            result = run_moto(session, workload, map_definition(), mode=args.mode, count=args.count, warmup=0)
    # The kernel's high-water mark covers the whole process, imports included: that is the
    # figure the 400 MB bound is about. The sampler can only be lower; keep the larger.
    result.peak_rss_bytes = max(result.peak_rss_bytes, process_peak_rss())
    print(json.dumps(result.summary()), flush=True)
    return 0


def _podium(workload: Workload, args: argparse.Namespace) -> RunResult:
    from bench.podium_side import run_podium
    from bench.profiling import ThreadProfiles

    profiles = ThreadProfiles() if args.profile else None
    # No warm-up: a 10,000-item execution is its own warm-up, and the first one pays the
    # one-off costs a real first execution pays too.
    result = run_podium(
        workload,
        map_definition(),
        mode=args.mode,
        count=args.count,
        warmup=0,
        directory=args.dir,
        profiles=profiles,
    )
    if profiles is not None:
        print(profiles.save(Path(args.profile)), file=sys.stderr, flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
