"""History events, in the shape of AWS's GetExecutionHistory.

An event's `details` holds the one `*EventDetails` member AWS puts on an event of its type,
already in AWS's wire form (payloads such as `input`/`output`/`parameters` as JSON text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DETAILS_KEY: dict[str, str] = {}
"""Event type -> the name of its details member (filled below from AWS's naming)."""

_DETAIL_PREFIX = {
    "ActivityFailed": "activityFailed",
    "ActivityScheduleFailed": "activityScheduleFailed",
    "ActivityScheduled": "activityScheduled",
    "ActivityStarted": "activityStarted",
    "ActivitySucceeded": "activitySucceeded",
    "ActivityTimedOut": "activityTimedOut",
    "ExecutionAborted": "executionAborted",
    "ExecutionFailed": "executionFailed",
    "ExecutionStarted": "executionStarted",
    "ExecutionSucceeded": "executionSucceeded",
    "ExecutionTimedOut": "executionTimedOut",
    "ExecutionRedriven": "executionRedriven",
    "LambdaFunctionFailed": "lambdaFunctionFailed",
    "LambdaFunctionScheduleFailed": "lambdaFunctionScheduleFailed",
    "LambdaFunctionScheduled": "lambdaFunctionScheduled",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailed",
    "LambdaFunctionSucceeded": "lambdaFunctionSucceeded",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOut",
    "MapIterationStarted": "mapIterationStarted",
    "MapIterationSucceeded": "mapIterationSucceeded",
    "MapIterationFailed": "mapIterationFailed",
    "MapIterationAborted": "mapIterationAborted",
    "MapStateStarted": "mapStateStarted",
    "MapRunStarted": "mapRunStarted",
    "MapRunFailed": "mapRunFailed",
    "MapRunRedriven": "mapRunRedriven",
    "TaskFailed": "taskFailed",
    "TaskScheduled": "taskScheduled",
    "TaskStartFailed": "taskStartFailed",
    "TaskStarted": "taskStarted",
    "TaskSubmitFailed": "taskSubmitFailed",
    "TaskSubmitted": "taskSubmitted",
    "TaskSucceeded": "taskSucceeded",
    "TaskTimedOut": "taskTimedOut",
    "EvaluationFailed": "evaluationFailed",
}
for _type, _prefix in _DETAIL_PREFIX.items():
    DETAILS_KEY[_type] = _prefix + "EventDetails"
del _type, _prefix


def details_key(event_type: str) -> str | None:
    """The details member of an event type: `stateEnteredEventDetails` for every *StateEntered, ..."""
    if event_type in DETAILS_KEY:
        return DETAILS_KEY[event_type]
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return None


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of an execution's history; `timestamp` is seconds since the epoch."""

    id: int
    previous_event_id: int
    timestamp: float
    type: str
    details: dict[str, Any] | None = None

    def to_aws(self) -> dict[str, Any]:
        """The event as GetExecutionHistory returns it (timestamp as epoch seconds)."""
        out: dict[str, Any] = {
            "timestamp": self.timestamp,
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        key = details_key(self.type)
        if key is not None and self.details is not None:
            out[key] = self.details
        return out
