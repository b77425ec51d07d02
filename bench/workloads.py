"""The three workloads, as ASL definitions both podium and moto run unchanged.

Only the Task resources of the saga differ between the two: podium resolves a Lambda ARN to a
registered Python function by name, moto to a Lambda function created in its own mock
account, so the caller says how a step's function is addressed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSONValue = Any  # what json.loads returns; the ASL model's JSON alias lives in src/, kept apart

CHAIN_STATES = 10
SAGA_STEPS = 5
MAP_ITEMS = 10_000

PODIUM_ACCOUNT = "000000000000"  # podium's default ArnFactory account
REGION = "us-east-1"


@dataclass(frozen=True)
class Workload:
    key: str  # "a", "b", "c": the names
    title: str
    input: JSONValue


CHAIN = Workload("a", f"{CHAIN_STATES}-state Pass/Choice chain", {"n": 1, "order": "A-1"})
SAGA = Workload("b", f"saga of {SAGA_STEPS} Lambda Tasks (trivial functions)", {"n": 1, "order": "A-1"})
WORKLOADS = {"a": CHAIN, "b": SAGA}


def map_workload(items: int = MAP_ITEMS) -> Workload:
    return Workload("c", f"inline Map over {items:,} items (Pass processor)", map_input(items))


def map_input(items: int) -> list[JSONValue]:
    return [{"id": index} for index in range(items)]


def chain_definition() -> dict[str, JSONValue]:
    """Pass and Choice alternating; every Choice has one rule that matches and a Default."""
    states: dict[str, JSONValue] = {}
    for index in range(CHAIN_STATES):
        name = f"S{index}"
        last = index == CHAIN_STATES - 1
        following = f"S{index + 1}"
        if last:
            states[name] = {"Type": "Pass", "End": True}
        elif index % 2 == 1:
            states[name] = {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 0, "Next": following}],
                "Default": following,
            }
        else:
            states[name] = {"Type": "Pass", "Next": following}
    return {"Comment": "bench (a)", "StartAt": "S0", "States": states}


def step_name(index: int) -> str:
    return f"bench_step{index}"


def podium_lambda_arn(function: str) -> str:
    return f"arn:aws:lambda:{REGION}:{PODIUM_ACCOUNT}:function:{function}"


def saga_definition(resource: Callable[[str], str]) -> dict[str, JSONValue]:
    """Five Tasks in a row; `resource(function_name)` gives each Task's Resource."""
    states: dict[str, JSONValue] = {}
    for index in range(SAGA_STEPS):
        state: dict[str, JSONValue] = {"Type": "Task", "Resource": resource(step_name(index))}
        if index == SAGA_STEPS - 1:
            state["End"] = True
        else:
            state["Next"] = f"T{index + 1}"
        states[f"T{index}"] = state
    return {"Comment": "bench (b)", "StartAt": "T0", "States": states}


def map_definition() -> dict[str, JSONValue]:
    """No MaxConcurrency: every iteration may run at once, in podium and in moto alike."""
    return {
        "Comment": "bench (c)",
        "StartAt": "Items",
        "States": {
            "Items": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Touch",
                    "States": {"Touch": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }


def identity(value: JSONValue) -> JSONValue:
    """The saga's trivial function. moto's Docker-less Lambda echoes its payload too."""
    return value
