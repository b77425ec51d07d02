"""The executions the crash test runs: every kind of state, tasks, retries and timers."""

from __future__ import annotations

import json
import time
from typing import Any

from podium import TaskError


def work(payload: dict[str, Any]) -> dict[str, Any]:
    """A task that takes a little while, so that kills land while tasks are in flight."""
    time.sleep(float(payload.get("sleep", 0.05)))
    return {"done": payload.get("step"), "value": payload.get("value")}


def flaky(payload: dict[str, Any]) -> dict[str, Any]:
    """Fails its first attempt. The attempt number comes from the interpreter ($$.State.RetryCount),
    so the outcome is the same whether or not the process was killed in between."""
    if payload["retry"] == 0:
        raise TaskError("Transient.Fault", "first attempt fails")
    return {"ok": True, "attempt": payload["retry"]}


def declined(payload: dict[str, Any]) -> dict[str, Any]:
    raise TaskError("Business.Declined", f"declined {payload.get('value')}")


FUNCTIONS = {"work": work, "flaky": flaky, "declined": declined}

SAGA = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {
            "Type": "Task",
            "Resource": "podium:function:work",
            "Parameters": {"step": "reserve", "value.$": "$.value"},
            "ResultPath": "$.reserve",
            "Next": "Charge",
        },
        "Charge": {
            "Type": "Task",
            "Resource": "podium:function:flaky",
            "Parameters": {"retry.$": "$$.State.RetryCount"},
            "Retry": [{"ErrorEquals": ["Transient.Fault"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "ResultPath": "$.charge",
            "Next": "Ship",
        },
        "Ship": {
            "Type": "Task",
            "Resource": "podium:function:work",
            "Parameters": {"step": "ship", "value.$": "$.value"},
            "ResultPath": "$.ship",
            "Next": "Decide",
        },
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.value", "NumericGreaterThan": 100, "Next": "Decline"}],
            "Default": "Notify",
        },
        "Decline": {
            "Type": "Task",
            "Resource": "podium:function:declined",
            "Parameters": {"value.$": "$.value"},
            "Catch": [{"ErrorEquals": ["Business.Declined"], "ResultPath": "$.error", "Next": "Refund"}],
            "End": True,
        },
        "Refund": {
            "Type": "Task",
            "Resource": "podium:function:work",
            "Parameters": {"step": "refund", "value.$": "$.value"},
            "ResultPath": "$.refund",
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "Error": "Order.Declined", "CausePath": "$.error.Cause"},
        "Notify": {
            "Type": "Task",
            "Resource": "podium:function:work",
            "Parameters": {"step": "notify", "value.$": "$.value"},
            "ResultPath": "$.notify",
            "End": True,
        },
    },
}

FAN_OUT = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Assign": {"batch.$": "$.value"}, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Items",
                    "States": {
                        "Items": {
                            "Type": "Map",
                            "ItemsPath": "$.items",
                            "MaxConcurrency": 3,
                            "ItemSelector": {"step.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value"},
                            "ItemProcessor": {
                                "StartAt": "Each",
                                "States": {
                                    "Each": {"Type": "Task", "Resource": "podium:function:work", "End": True}
                                },
                            },
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "Pause",
                    "States": {
                        "Pause": {"Type": "Wait", "Seconds": 2, "Next": "After"},
                        "After": {"Type": "Pass", "Parameters": {"batch.$": "$batch"}, "End": True},
                    },
                },
            ],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}

CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "Wait"},
        "Wait": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "B"},
        "B": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "C"}],
            "Default": "A",
        },
        "C": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.value)"}, "End": True},
    },
}

MACHINES = {"saga": SAGA, "fanout": FAN_OUT, "chain": CHAIN}


def executions() -> list[tuple[str, str, dict[str, Any]]]:
    """(machine, execution name, input) for every execution of the test."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    for i in range(6):
        out.append(("saga", f"saga-{i}", {"value": 50 + i * 30}))
        out.append(("fanout", f"fanout-{i}", {"value": i, "items": list(range(8 + 2 * i))}))
        out.append(("chain", f"chain-{i}", {"value": i, "wait": 1 + i % 3}))
    return out


def definition(name: str) -> str:
    return json.dumps(MACHINES[name])
