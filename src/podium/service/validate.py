"""ValidateStateMachineDefinition, and the definition check that CreateStateMachine and
UpdateStateMachine share with it.

A definition is checked as `podium.asl.validation` checks any definition, plus what an EXPRESS
state machine cannot run: activities and the `.sync` / `.waitForTaskToken` integration patterns
(AWS's diagnostic: "Express state machine does not support '.waitForTaskToken' service
integration ", trailing space included).

CreateStateMachine refuses a bad definition with InvalidDefinition, each diagnostic written as
`CODE: message at /pointer`: "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED:
These fields are required: [States] at /'"; with several, each is quoted and they are joined
by ", " inside the outer quotes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from podium.api.errors import InvalidDefinition
from podium.asl.errors import Diagnostic
from podium.asl.schema import at
from podium.asl.validation import decode_definition, validate_definition
from podium.service.registry import Params, Response, Service, action
from podium.store.records import StateMachineType

MAX_DIAGNOSTICS = 100
SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"


def diagnose(definition: str, type: StateMachineType = "STANDARD") -> list[Diagnostic]:
    """Every problem that stops `definition` from being a state machine of that type."""
    diagnostics = validate_definition(definition)
    if type == "EXPRESS" and not diagnostics:
        decoded = decode_definition(definition).definition
        if decoded is not None:
            diagnostics = list(_express_problems(decoded, ""))
    return diagnostics


def check_definition(definition: str, type: StateMachineType = "STANDARD") -> None:
    """Raise InvalidDefinition, in AWS's words, unless `definition` is valid for `type`."""
    diagnostics = diagnose(definition, type)
    if diagnostics:
        raise InvalidDefinition(invalid_definition_message(diagnostics))


def invalid_definition_message(diagnostics: list[Diagnostic]) -> str:
    if len(diagnostics) == 1:
        return f"Invalid State Machine Definition: '{diagnostics[0]}'"
    return "Invalid State Machine Definition: '" + ", ".join(f"'{d}'" for d in diagnostics) + "'"


def _express_problems(program: Mapping[str, Any], loc: str) -> Iterator[Diagnostic]:
    states = program.get("States")
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        here = at(loc, "States", name)
        kind = state.get("Type")
        resource = state.get("Resource")
        if kind == "Task" and isinstance(resource, str):
            problem = _express_resource_problem(resource)
            if problem:
                yield Diagnostic(SCHEMA_VALIDATION_FAILED, problem, at(here, "Resource"))
        if kind == "Parallel" and isinstance(state.get("Branches"), list):
            for i, branch in enumerate(state["Branches"]):
                if isinstance(branch, Mapping):
                    yield from _express_problems(branch, at(here, "Branches", i))
        if kind == "Map":
            key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
            processor = state.get(key)
            if isinstance(processor, Mapping):
                yield from _express_problems(processor, at(here, key))


def _express_resource_problem(resource: str) -> str | None:
    parts = resource.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "states" and parts[5] == "activity":
        return "Express state machine does not support Activity ARN"
    for pattern in (".waitForTaskToken", ".sync"):
        if resource.endswith(pattern) or f"{pattern}:" in resource:
            return f"Express state machine does not support '{pattern}' service integration "
    return None


@action("ValidateStateMachineDefinition")
def validate_state_machine_definition(service: Service, params: Params) -> Response:
    type_: StateMachineType = params.get("type") or "STANDARD"
    # Every podium diagnostic is an ERROR: WARNING (params["severity"]) adds nothing yet.
    diagnostics = diagnose(params["definition"], type_)
    limit = params.get("maxResults") or MAX_DIAGNOSTICS
    shown = []
    for diagnostic in diagnostics[:limit]:
        item = {"severity": "ERROR", "code": diagnostic.code, "message": diagnostic.message}
        if diagnostic.location:
            item["location"] = diagnostic.location
        shown.append(item)
    return {
        "result": "FAIL" if diagnostics else "OK",
        "diagnostics": shown,
        "truncated": len(diagnostics) > limit,
    }
