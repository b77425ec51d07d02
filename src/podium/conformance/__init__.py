"""Conformance: podium against what AWS Step Functions recorded (shared/conformance).

`run_conformance` loads the cases, runs each in-process in virtual time, judges it at the
three levels of agreement (outcome, event types, events) exactly as the official judge
(shared/tools/sfn_conformance.py) would, prints the report and optionally writes one
record per case, in the judge's `--observed` format.

Modules: cases (loading, skip rules), matcher (placeholder-aware comparison), judge (the
verdicts by level), runner (running a case), report (the tables).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from podium.conformance.cases import DEFAULT_KINDS, KINDS, CorpusError, load_cases, select
from podium.conformance.report import render, tally
from podium.conformance.runner import CaseResult, RunResults, run_cases

if TYPE_CHECKING:
    from podium.connectors.functions import FunctionRegistry

__all__ = ["CaseResult", "RunResults", "run_cases", "run_conformance", "tally", "write_json"]


def run_conformance(
    dirs: Iterable[str | Path],
    *,
    json_out: str | Path | None = None,
    kinds: str | Iterable[str] | None = None,
    name_contains: str | None = None,
    verbose: bool = False,
    functions: FunctionRegistry | Mapping[str, Callable[[Any], Any]] | None = None,
    pure_only: bool = False,
    seed: int | None = None,
    top: int = 10,
    out: TextIO | None = None,
) -> int:
    """Run the cases under `dirs` and print the report. 0 whatever the pass rate; 2 when the
    cases cannot be read or the options are wrong (as the judge exits)."""
    out = out or sys.stdout
    wanted = _kinds(kinds)
    unknown = sorted(set(wanted) - set(KINDS))
    if unknown:
        print(
            f"podium conformance: unknown kind(s): {', '.join(unknown)} (known: {', '.join(KINDS)})",
            file=sys.stderr,
        )
        return 2
    try:
        cases = select(load_cases(dirs), wanted, name_contains, pure_only)
    except CorpusError as exc:
        print(f"podium conformance: {exc}", file=sys.stderr)
        return 2
    run = run_cases(cases, functions, seed)
    print(render(run, verbose=verbose, top=top), file=out)
    if json_out is not None:
        write_json(run, json_out)
    return 0


def write_json(run: RunResults, path: str | Path) -> None:
    """The records, as `sfn_conformance.py --observed FILE` reads them (the key "cases")."""
    doc = {
        "runner": "podium.conformance",
        "seed": run.seed,
        "wall_s": round(run.wall_s, 3),
        "summary": {
            f"{kind}/{level}": vars(cell) for (kind, level), cell in sorted(tally(run.results).items())
        },
        "cases": [r.as_record() for r in run.results],
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)


def _kinds(kinds: str | Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return DEFAULT_KINDS
    items = kinds.split(",") if isinstance(kinds, str) else kinds
    return tuple(k.strip() for k in items if k.strip())
