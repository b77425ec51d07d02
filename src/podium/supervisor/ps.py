"""`podium ps`: the replicas `podium up` runs, as a table or as JSON, from its state file."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from podium.supervisor.process import exit_label
from podium.supervisor.state import ReplicaStatus, Snapshot

_COLUMNS = ("SERVICE", "NAME", "PID", "STATE", "RESTARTS", "LAST EXIT", "UPTIME", "IN-FLIGHT", "HEALTH")
_HEALTH_WIDTH = 70


def duration(seconds: float) -> str:
    """Like kubectl's AGE: 45s, 3m12s, 2h05m, 3d04h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _state(replica: ReplicaStatus, now: float) -> str:
    if replica.state == "backoff" and replica.restart_at is not None:
        return f"backoff ({duration(replica.restart_at - now)})"
    return replica.state


def _row(replica: ReplicaStatus, now: float) -> tuple[str, ...]:
    health = (
        replica.health
        if len(replica.health) <= _HEALTH_WIDTH
        else replica.health[: _HEALTH_WIDTH - 3] + "..."
    )
    return (
        replica.service,
        replica.name,
        str(replica.pid) if replica.pid is not None else "-",
        _state(replica, now),
        str(replica.restarts),
        exit_label(replica.last_exit),
        duration(now - replica.started_at) if replica.started_at is not None else "-",
        str(replica.in_flight) if replica.in_flight is not None else "-",
        health,
    )


def render(snapshot: Snapshot, now: float | None = None) -> str:
    now = time.time() if now is None else now
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(snapshot.started_at))
    status = "stopping" if snapshot.stopping else "running"
    lines = [
        f"podium up (pid {snapshot.pid}) {status} since {when} ({duration(now - snapshot.started_at)}):"
        f" {snapshot.config}",
        f"  server {snapshot.endpoint or '-'}, database {snapshot.database or '-'}",
        "",
    ]
    if not snapshot.replicas:
        lines.append("no services declared")
        return "\n".join(lines)
    rows = [_COLUMNS, *(_row(r, now) for r in snapshot.replicas)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def as_json(snapshot: Snapshot | None, *, running: bool, now: float | None = None) -> dict[str, Any]:
    """The snapshot, with what `render` computes (uptime, running) spelled out for scripts."""
    now = time.time() if now is None else now
    if snapshot is None:
        return {"running": False, "replicas": []}
    replicas = []
    for replica in snapshot.replicas:
        item = asdict(replica)
        item["uptime_seconds"] = (
            round(now - replica.started_at, 3) if replica.started_at is not None else None
        )
        item["last_exit_label"] = exit_label(replica.last_exit)
        replicas.append(item)
    return {**snapshot.to_json(), "running": running, "replicas": replicas}
