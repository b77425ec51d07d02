"""The services' calls, read out of the executions' histories.

A call is one TaskScheduled and what ended it (TaskSucceeded, TaskFailed, TaskTimedOut),
paired through previousEventId, which chains each task's events back to its scheduling
(TaskScheduled <- TaskStarted <- TaskSubmitted <- outcome), also when the branches of a
Parallel interleave. Its service and command come from the scheduled parameters: the
QueueUrl's last segment and MessageBody.command. Its latency is the time from scheduling to
the outcome, as the orchestrator saw it: queueing, the service's work, and the answer's way
back. A call scheduled right after a failed attempt is a retry (a Retry's new attempt
follows its predecessor's TaskFailed / TaskTimedOut).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from podium.core.history import HistoryEvent

OUTCOMES = {"TaskSucceeded": "ok", "TaskFailed": "failed", "TaskTimedOut": "timeout"}
COMPENSATIONS = frozenset({("payment-auth", "void"), ("transaction", "reverse")})
ORDER = (
    ("payment-auth", "authorize"),
    ("risk", "score"),
    ("pci-compliance", "check"),
    ("transaction", "capture"),
    ("transaction", "reverse"),
    ("payment-auth", "void"),
)


@dataclass(frozen=True)
class Call:
    service: str
    command: str
    retry: bool
    outcome: str  # ok | business (a Payment.* error) | fault | timeout | open (no outcome: cancelled)
    error: str | None
    seconds: float | None


def calls_of(events: Sequence[HistoryEvent]) -> list[Call]:
    by_id = {event.id: event for event in events}
    scheduled: dict[int, tuple[str, str, bool]] = {}
    ended: dict[int, tuple[str, str | None, float]] = {}
    for event in events:
        if event.type == "TaskScheduled":
            previous = by_id.get(event.previous_event_id)
            retry = previous is not None and previous.type in ("TaskFailed", "TaskTimedOut")
            service, command = _target(event.details or {})
            scheduled[event.id] = (service, command, retry)
        elif event.type in OUTCOMES:
            origin = _scheduling(event, by_id)
            if origin is not None:
                error = (event.details or {}).get("error")
                ended[origin.id] = (_outcome(event.type, error), error, event.timestamp - origin.timestamp)
    calls = []
    for event_id, (service, command, retry) in scheduled.items():
        outcome, error, seconds = ended.get(event_id, ("open", None, math.nan))
        calls.append(Call(service, command, retry, outcome, error, None if outcome == "open" else seconds))
    return calls


def _target(details: dict[str, Any]) -> tuple[str, str]:
    try:
        parameters = json.loads(details.get("parameters") or "{}")
    except ValueError:
        parameters = {}
    url = str(parameters.get("QueueUrl") or "?")
    body = parameters.get("MessageBody")
    if isinstance(body, str):  # a MessageBody given as text
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    command = body.get("command") if isinstance(body, dict) else None
    return url.rstrip("/").rsplit("/", 1)[-1], str(command or "?")


def _scheduling(event: HistoryEvent, by_id: dict[int, HistoryEvent]) -> HistoryEvent | None:
    current = by_id.get(event.previous_event_id)
    for _ in range(8):  # a task's chain is at most Scheduled <- Started <- Submitted <- outcome
        if current is None or current.type == "TaskScheduled":
            return current
        current = by_id.get(current.previous_event_id)
    return None


def _outcome(event_type: str, error: str | None) -> str:
    if event_type == "TaskSucceeded":
        return "ok"
    if event_type == "TaskTimedOut" or error == "States.Timeout":
        return "timeout"
    return "business" if error and error.startswith("Payment.") else "fault"


@dataclass
class CallStats:
    """The calls of one service command across the batch."""

    service: str
    command: str
    calls: int = 0
    retries: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def add(self, call: Call) -> None:
        self.calls += 1
        self.retries += call.retry
        self.outcomes[call.outcome] = self.outcomes.get(call.outcome, 0) + 1
        if call.seconds is not None:
            self.latencies.append(call.seconds)

    def percentile_ms(self, q: float) -> float | None:
        return percentile(self.latencies, q) * 1000 if self.latencies else None

    @property
    def compensation(self) -> bool:
        return (self.service, self.command) in COMPENSATIONS


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..1): a value that was observed, not an interpolation."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def aggregate(calls: Iterable[Call]) -> list[CallStats]:
    """Per service command, in the saga's order (then any other, by name)."""
    stats: dict[tuple[str, str], CallStats] = {key: CallStats(*key) for key in ORDER}
    for call in calls:
        key = (call.service, call.command)
        if key not in stats:
            stats[key] = CallStats(*key)
        stats[key].add(call)
    return [s for key, s in stats.items() if s.calls or key in ORDER]
