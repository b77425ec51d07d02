"""The table `podium demo` prints at the end of a run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from podium.demo.audit import AuditResult, Totals
from podium.demo.calls import CallStats
from podium.demo.kills import Kill

SHOWN_PROBLEMS = 25


@dataclass
class Summary:
    transport: str
    payments: int
    seconds: float
    outcomes: Counter[str]  # "SUCCEEDED", "FAILED Payment.Declined", "RUNNING", ...
    calls: list[CallStats]
    compensated: Counter[str]  # payments that ran each compensation: "void", "reverse"
    audit: AuditResult
    run_dir: Path
    restarts: dict[str, int] = field(default_factory=dict)  # service -> restarts of its replicas
    crashes: list[tuple[str, str]] = field(default_factory=list)  # (service, before | after its write)
    kills_asked: int = 0  # --kill-orchestrator
    kills: list[Kill] = field(default_factory=list)
    running_at_kills: list[int] = field(default_factory=list)  # executions each kill cut short
    start_retries: int = 0  # starts tried again while the orchestrator was away


def render(summary: Summary) -> str:
    rate = summary.payments / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"payment saga: {summary.payments} payments over the {summary.transport} transport in"
        f" {summary.seconds:.1f} s ({rate:.1f} payments/s)",
        "",
    ]
    lines += _outcomes(summary.outcomes)
    lines.append("")
    lines += _calls(summary.calls)
    lines.append("")
    totals = summary.audit.totals
    lines.append(_row("retries", _retries(summary.calls)))
    lines.append(_row("compensations", _compensations(summary.compensated, totals)))
    lines.append(_row("services", _services(summary.restarts, summary.crashes)))
    if summary.kills_asked or summary.kills:
        lines.append(_row("orchestrator", _kills(summary)))
    lines.append(_row("ledgers", _ledgers(totals)))
    lines += _checks(summary.audit, summary.payments)
    where = f"{summary.run_dir} (database, ledgers/, demo.log: the server's and the services' output)"
    lines.append(_row("run directory", where))
    return "\n".join(lines)


def _outcomes(outcomes: Counter[str]) -> list[str]:
    order = sorted(outcomes, key=lambda k: (k != "SUCCEEDED", not k.startswith("FAILED"), -outcomes[k], k))
    width = max([len("outcome"), *(len(k) for k in order)])
    lines = [f"  {'outcome':<{width}}  payments"]
    lines += [f"  {key:<{width}}  {outcomes[key]:>8}" for key in order]
    return lines


_CALL_COLUMNS = (
    ("calls", 6),
    ("retries", 8),
    ("ok", 6),
    ("declined", 9),
    ("faults", 7),
    ("timeouts", 9),
    ("cancelled", 10),
    ("p50 ms", 8),
    ("p95 ms", 8),
)


def _calls(stats: list[CallStats]) -> list[str]:
    names = [f"{s.service}.{s.command}" for s in stats]
    width = max([len("service call"), *(len(n) for n in names)])
    header = f"  {'service call':<{width}}" + "".join(f"{title:>{w}}" for title, w in _CALL_COLUMNS)
    lines = [header]
    for name, s in zip(names, stats, strict=True):
        values = [
            s.calls,
            s.retries,
            s.outcomes.get("ok", 0),
            s.outcomes.get("business", 0),
            s.outcomes.get("fault", 0),
            s.outcomes.get("timeout", 0),
            s.outcomes.get("open", 0),
        ]
        cells = [f"{v:>{w}}" for v, (_, w) in zip(values, _CALL_COLUMNS, strict=False)]
        for q, (_, w) in zip((0.5, 0.95), _CALL_COLUMNS[-2:], strict=True):
            ms = s.percentile_ms(q)
            cells.append(f"{'-' if ms is None else f'{ms:.0f}':>{w}}")
        lines.append(f"  {name:<{width}}" + "".join(cells))
    return lines


def _retries(stats: list[CallStats]) -> str:
    total = sum(s.retries for s in stats)
    if not total:
        return "none"
    parts = [f"{s.service}.{s.command} {s.retries}" for s in stats if s.retries]
    return f"{total} ({', '.join(parts)}), on ServiceUnavailable and States.Timeout only"


def _compensations(compensated: Counter[str], totals: Totals) -> str:
    voids, reverses = compensated.get("void", 0), compensated.get("reverse", 0)
    if not voids and not reverses:
        return "none"
    return (
        f"VoidAuthorization for {voids} payments ({totals.holds_voided} holds released,"
        f" {_money(totals.amount_voided)}); ReverseCapture for {reverses} ({totals.reversals}"
        f" captures undone, {_money(totals.amount_reversed)})"
    )


def _services(restarts: dict[str, int], crashes: list[tuple[str, str]]) -> str:
    after = sum(1 for _, point in crashes if point == "after")
    crashed = f"{len(crashes)} injected crash{'es' if len(crashes) != 1 else ''} mid-task"
    if crashes:
        crashed += f" ({len(crashes) - after} before the ledger write, {after} after it, before answering)"
    restarted = ", ".join(f"{name} {n}" for name, n in restarts.items() if n) or "none"
    return f"{crashed}; restarts: {restarted}"


def _kills(summary: Summary) -> str:
    kills, asked = summary.kills, summary.kills_asked
    count = f"{len(kills)} time{'s' if len(kills) != 1 else ''}"
    if len(kills) < asked:
        count = f"{len(kills)} of the {asked} times asked"
    moments = []
    for kill, running in zip(kills, summary.running_at_kills, strict=True):
        back = (
            f"back in {kill.down_seconds:.1f} s"
            if kill.restarted_pid is not None and kill.down_seconds is not None
            else f"did NOT come back: {kill.error}"
        )
        moments.append(f"after {kill.ended} payments ended, {running} running ({back})")
    text = f"killed {count} with SIGKILL mid-run, restarted on the same database"
    if moments:
        text += ": " + ", ".join(moments)
    retried = summary.start_retries
    return text + f"; {retried} start{'s' if retried != 1 else ''} retried while it was away"


def _ledgers(totals: Totals) -> str:
    verdict = "balanced" if totals.balanced else "NOT BALANCED"
    return (
        f"held {_money(totals.held)} = captured net {_money(totals.captured_net)}"
        f" = succeeded payments {_money(totals.succeeded)}: {verdict}"
    )


def _checks(audit: AuditResult, payments: int) -> list[str]:
    if audit.ok:
        return [
            _row(
                "checks",
                f"passed: all {payments} payments terminal, every failed one compensated, ledgers"
                " balanced, no step applied twice for a task token",
            )
        ]
    count = len(audit.problems)
    lines = [_row("checks", f"FAILED: {count} problem{'s' if count != 1 else ''}")]
    lines += [f"    {problem}" for problem in audit.problems[:SHOWN_PROBLEMS]]
    if count > SHOWN_PROBLEMS:
        lines.append(f"    ... and {count - SHOWN_PROBLEMS} more")
    return lines


def _row(title: str, text: str) -> str:
    return f"  {title:<14} {text}"


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"
