"""The report: pass rates by kind and level, skip reasons, the most frequent failures.

Two tables when some attempted cases need Lambda: every attempted case, then the pure ones
alone, which is the judge's default selection, so that the second table can be checked
against `sfn_conformance.py --observed` on the --json file. The closing line is always
`N passed, M failed` for the outcome level over every attempted case.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from podium.conformance.cases import KINDS
from podium.conformance.judge import LEVELS
from podium.conformance.runner import CaseResult, RunResults

COLUMN_TITLES = {
    "outcome": "outcome",
    "event_types": "event types",
    "event_types_unordered": "types unordered",
    "events": "events",
    "events_unordered": "events unordered",
}
REASON_LEVELS = ("outcome", "event_types", "events")


@dataclass
class Tally:
    passed: int = 0
    attempted: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.attempted if self.attempted else 0.0

    def __str__(self) -> str:
        return f"{self.passed}/{self.attempted} {100.0 * self.rate:.1f}%" if self.attempted else "-"


def tally(results: Iterable[CaseResult], *, pure_only: bool = False) -> dict[tuple[str, str], Tally]:
    """(kind, level) -> passed/attempted, with the kind "ALL" summing the kinds."""
    table: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for r in results:
        if not r.attempted or (pure_only and not r.case.pure):
            continue
        for level, verdict in r.verdicts.items():
            for kind in (r.case.kind, "ALL"):
                cell = table[(kind, level)]
                cell.attempted += 1
                cell.passed += verdict.passed
    return dict(table)


def failure_reasons(results: Iterable[CaseResult], level: str) -> list[tuple[str, list[str]]]:
    """(reason, names of the cases failing for it), most frequent first."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for r in results:
        verdict = r.verdicts.get(level)
        if verdict is not None and not verdict.passed:
            by_reason[verdict.reason].append(r.case.name)
    return sorted(by_reason.items(), key=lambda item: -len(item[1]))


def render_table(table: dict[tuple[str, str], Tally], title: str) -> list[str]:
    width = 18
    lines = [f"{title:<16}" + "".join(f"{COLUMN_TITLES[lv]:>{width}}" for lv in LEVELS)]
    for kind in [k for k in KINDS if any(key[0] == k for key in table)] + ["ALL"]:
        if not any(key[0] == kind for key in table):
            continue
        cells = "".join(
            f"{table[(kind, lv)]!s:>{width}}" if (kind, lv) in table else f"{'':>{width}}" for lv in LEVELS
        )
        lines.append(f"  {kind:<14}{cells}")
    return lines


def render(run: RunResults, *, verbose: bool = False, top: int = 10) -> str:
    results = run.results
    attempted = [r for r in results if r.attempted]
    skipped = [r for r in results if not r.attempted]
    lines: list[str] = []
    if verbose:
        for r in attempted:
            for level, verdict in r.verdicts.items():
                if not verdict.passed:
                    lines.append(f"FAIL {r.case.kind} {level}: {r.case.name}\n     {verdict.detail}")
        lines.append("")
    lines.append(
        f"podium conformance: {len(results)} cases selected, {len(attempted)} attempted, "
        f"{len(skipped)} skipped; seed {run.seed}; {run.wall_s:.1f} s"
    )
    lines += render_table(tally(results), "attempted")
    if any(not r.case.pure for r in attempted):
        lines += render_table(tally(results, pure_only=True), "pure_asl only")
    if skipped:
        lines.append("Skipped:")
        for reason, n in Counter(r.skipped for r in skipped).most_common():
            lines.append(f"  {n:>5}  {reason}")
    if top:
        for level in REASON_LEVELS:
            reasons = failure_reasons(attempted, level)
            if reasons:
                lines.append(f"Top failure reasons ({level}):")
                lines += [f"  {len(names):>5}  {reason}   e.g. {names[0]}" for reason, names in reasons[:top]]
    n_pass = sum(1 for r in attempted if r.passed("outcome"))
    lines.append(f"{n_pass} passed, {len(attempted) - n_pass} failed")
    return "\n".join(lines)
