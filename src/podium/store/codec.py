"""How values become the JSON text a store keeps, and back.

Compact separators because payloads reach 256 KiB and are written on every step;
`allow_nan=False` because NaN is not JSON and PostgreSQL's jsonb would refuse it later.
"""

from __future__ import annotations

import json
from typing import Any

from podium.core.history import HistoryEvent
from podium.core.messages import (
    Command,
    Signal,
    command_from_json,
    command_to_json,
    signal_from_json,
    signal_to_json,
)

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


def loads(text: str) -> Any:
    return json.loads(text)


def signal_text(signal: Signal) -> str:
    return dumps(signal_to_json(signal))


def signal_of(text: str) -> Signal:
    return signal_from_json(loads(text))


def command_text(command: Command) -> str:
    return dumps(command_to_json(command))


def command_of(text: str) -> Command:
    return command_from_json(loads(text))


def details_text(event: HistoryEvent) -> str | None:
    return None if event.details is None else dumps(event.details)


def event_of(
    event_id: int, previous_id: int, timestamp: float, type_: str, details: str | None
) -> HistoryEvent:
    return HistoryEvent(
        id=event_id,
        previous_event_id=previous_id,
        timestamp=timestamp,
        type=type_,
        details=None if details is None else loads(details),
    )


def routing_text(routing: tuple[tuple[str, int], ...]) -> str:
    return dumps([[version_arn, weight] for version_arn, weight in routing])


def routing_of(text: str) -> tuple[tuple[str, int], ...]:
    return tuple((version_arn, weight) for version_arn, weight in loads(text))
