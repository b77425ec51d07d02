"""The printed report: podium | moto | ratio, podium against the commit floor, the issue's floors."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.measure import MB, RunResult
from bench.sqlite_floor import CommitFloor

MODES = ("sequential", "inflight")


@dataclass(frozen=True)
class FloorCheck:
    name: str
    measured: str
    limit: str
    passed: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return "n/a" if self.passed is None else ("PASS" if self.passed else "FAIL")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """A plain text table; the first `left` columns are labels (left-aligned), the rest figures."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell).ljust(width) if index < left else str(cell).rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def figure(value: float | None, digits: int = 1) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def ratio(podium: float | None, moto: float | None, *, lower_is_better: bool = False) -> str:
    """How many times better podium is (>1 = podium ahead), whichever way "better" points."""
    if podium is None or moto is None or math.isnan(podium) or math.isnan(moto) or podium <= 0 or moto <= 0:
        return "n/a"
    value = moto / podium if lower_is_better else podium / moto
    return f"{value:,.1f}x"


def mode_label(result: RunResult) -> str:
    return "sequential" if result.mode == "sequential" else f"{result.executions} in flight"


_Metric = tuple[str, Callable[[RunResult], float], int, bool]
METRICS: list[_Metric] = [
    ("executions/s", lambda r: r.executions_per_s, 1, False),
    ("transitions/s", lambda r: r.transitions_per_s, 0, False),
    ("p50 latency ms", lambda r: r.p50_s * 1000, 2, True),
    ("p99 latency ms", lambda r: r.p99_s * 1000, 2, True),
    ("peak RSS MB", lambda r: r.peak_rss_bytes / MB, 0, True),
]


def comparison(results: list[RunResult], titles: dict[str, str], notes: list[str]) -> str:
    rows: list[list[str]] = []
    notes = list(notes)
    for key in sorted(titles):
        for mode in MODES:
            podium = _find(results, "podium", key, mode)
            moto = _find(results, "moto", key, mode)
            if podium is None and moto is None:
                continue
            shown = podium or moto
            assert shown is not None
            label = f"({key}) {mode_label(shown)}"
            for index, (name, get, digits, lower) in enumerate(METRICS):
                p = get(podium) if podium is not None else None
                m = get(moto) if moto is not None else None
                rows.append(
                    [
                        label if index == 0 else "",
                        name,
                        figure(p, digits),
                        figure(m, digits),
                        ratio(p, m, lower_is_better=lower),
                    ]
                )
            for result in (podium, moto):
                if result is not None and result.note:
                    notes.append(f"({key}) {mode_label(result)}, {result.engine}: {result.note}")
                if result is not None and result.failed:
                    notes.append(
                        f"({key}) {mode_label(result)}, {result.engine}: "
                        f"{result.failed} of {result.executions} executions did not succeed"
                    )
    out = table(["workload / mode", "metric", "podium", "moto", "podium better by"], rows, left=2)
    legend = "\n".join(f"  ({key}) {title}" for key, title in sorted(titles.items()))
    wrapped = [
        textwrap.fill(note, width=100, initial_indent="  - ", subsequent_indent="    ") for note in notes
    ]
    return "\n".join([legend, "", out, *(["", "notes:", *wrapped] if wrapped else [])])


def against_floor(results: list[RunResult], floor: CommitFloor | None) -> str:
    rows: list[list[str]] = []
    for result in results:
        if result.engine != "podium":
            continue
        per_execution = result.commits_per_execution
        ceiling = None
        share = None
        if floor is not None and per_execution:
            ceiling = floor.commits_per_s / per_execution
            share = result.executions_per_s / ceiling * 100
        rows.append(
            [
                f"({result.workload}) {mode_label(result)}",
                figure(per_execution, 2),
                figure(ceiling, 0),
                figure(result.executions_per_s, 1),
                "n/a" if share is None else f"{share:.0f}%",
            ]
        )
    if floor is None:
        head = "raw SQLite floor: n/a (not measured)"
    else:
        drift = " / ".join(f"{rate:,.0f}" for rate in floor.rates)
        head = (
            f"raw SQLite floor: {floor.commits_per_s:,.0f} commits/s ({floor.commit_us:,.0f} us per commit;"
            f" measured {drift} before / after the runs)\n"
            "one small INSERT per transaction, WAL, synchronous=FULL, in the same directory as podium's files"
        )
    body = table(
        ["workload / mode", "commits/execution", "ceiling exec/s", "podium exec/s", "of ceiling"], rows
    )
    return "\n".join(
        [
            head,
            "ceiling = floor commits/s / podium's commits per execution: the executions/s an engine",
            "that spends nothing but its fsyncs would reach with podium's commit count.",
            "",
            body,
        ]
    )


def floors(results: list[RunResult]) -> list[FloorCheck]:
    checks: list[FloorCheck] = []
    saga = _find(results, "podium", "b", "sequential")
    checks.append(
        FloorCheck(
            "(b) sequential p50 latency",
            "not run" if saga is None else f"{saga.p50_s * 1000:.2f} ms",
            "<= 3 ms",
            None if saga is None else saga.p50_s <= 0.003,
        )
    )
    for mode in MODES:
        podium = _find(results, "podium", "a", mode)
        moto = _find(results, "moto", "a", mode)
        known = podium is not None and moto is not None
        times = podium.executions_per_s / moto.executions_per_s if podium and moto else math.nan
        checks.append(
            FloorCheck(
                f"(a) {mode} executions/s vs moto",
                f"{times:.2f}x" if known else "not run",
                ">= 10x",
                times >= 10 if known else None,
            )
        )
    big = _find(results, "podium", "c", "sequential")
    checks.append(
        FloorCheck(
            "(c) slowest execution, sequential",
            "not run" if big is None else f"{big.max_s:.2f} s",
            "< 10 s",
            None if big is None else big.max_s < 10 and not big.failed,
        )
    )
    checks.append(
        FloorCheck(
            "(c) peak RSS of its process",
            "not run" if big is None else f"{big.peak_rss_bytes / MB:.0f} MB",
            "< 400 MB",
            None if big is None else big.peak_rss_bytes < 400 * MB,
        )
    )
    return checks


def floors_table(checks: list[FloorCheck]) -> str:
    return table(
        ["floor", "measured", "bound", "verdict"],
        [[check.name, check.measured, check.limit, check.verdict] for check in checks],
    )


def _find(results: list[RunResult], engine: str, workload: str, mode: str) -> RunResult | None:
    for result in results:
        if (result.engine, result.workload, result.mode) == (engine, workload, mode):
            return result
    return None
