"""The conformance corpus: loading cases, choosing them, and the rules for skipping one.

A case (shared/conformance/README.md) is one execution AWS ran, with what it returned. Some
cannot be reproduced in-process: they need an outside service, a value the recording test
computed (`${...}`), client calls while the execution ran, or they were recorded mid-flight.
Those are skipped with a reason, exactly where the official judge skips them, so that both
count the same cases as attempted. The one thing this runner adds is Lambda: a
`${LambdaFunctionArn:NAME}` resolves to the ARN of the Python function registered as NAME.

`test_state` cases (the TestState API), which the judge does not drive, follow the same rules,
but for services: a test needs one only when the state under test calls it for real, that is a
Task without a mock (a Map or Parallel always has one) whose resource no registered function
answers. The case's `test_state_request` holds the request's other fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.conformance.matcher import JSON, TOKEN_RE, UNRESOLVED_RE

KINDS = ("execution", "io_case", "express_sync", "test_state")
DEFAULT_KINDS = KINDS
TERMINAL_EVENTS = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}
)

LAMBDA_TOKEN_RE = re.compile(r"\$\{LambdaFunctionArn:([^}]{1,100})\}")
LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:{name}"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


class CorpusError(Exception):
    """The corpus could not be read (a missing folder, a file that is not JSON)."""


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    file: Path
    definition: JSON
    input: JSON
    expected: dict[str, Any]
    flags: dict[str, Any] = field(default_factory=dict)
    classification: dict[str, Any] = field(default_factory=dict)
    requirements: dict[str, Any] = field(default_factory=dict)
    test_state_request: dict[str, Any] = field(default_factory=dict)

    @property
    def pure(self) -> bool:
        """No outside service needed: the judge's default selection."""
        return bool(self.classification.get("pure_asl"))

    @property
    def services(self) -> list[str]:
        return [str(s) for s in self.classification.get("services") or []]

    @property
    def reverse_history(self) -> bool:
        """Recorded with GetExecutionHistory(reverseOrder=True): terminal event first."""
        types = self.expected.get("event_types") or []
        return bool(types) and types[0] in TERMINAL_EVENTS and types[-1] == "ExecutionStarted"

    @property
    def concurrent(self) -> bool:
        """Has a Parallel or Map state, whose branches' events may interleave in any order."""
        return bool({"Map", "Parallel"} & state_types(self.definition))

    @property
    def bare_tokens(self) -> frozenset[str]:
        """The snapshot's replacement values that are not `<...>` tokens (`"date"`, `"start-time"`)."""
        found: set[str] = set()
        for key in ("input_placeholders", "expected_placeholders", "event_placeholders"):
            for token in self.flags.get(key) or []:
                if isinstance(token, str) and not TOKEN_RE.fullmatch(token):
                    found.add(token)
        return frozenset(found)

    def lambda_names(self) -> set[str]:
        """The NAMEs of every `${LambdaFunctionArn:NAME}` in the definition, input and request."""
        text = json.dumps([self.definition, self.input, self.test_state_request])
        return set(LAMBDA_TOKEN_RE.findall(text))


# --- loading and selection --------------------------------------------------------------------


def case_files(spec: str | Path) -> list[Path]:
    """A case file, a folder of cases, or a corpus root holding `cases/`."""
    path = Path(spec)
    if path.is_file():
        return [path]
    if path.is_dir():
        if (path / "cases").is_dir():
            path = path / "cases"
        return sorted(path.glob("*.json"))
    raise CorpusError(f"no such case file or folder: {spec}")


def load_case(path: Path) -> Case | None:
    """One case, or None for a JSON file that is not a case (an index, a manifest)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}") from exc
    if not isinstance(doc, dict) or "definition" not in doc or "kind" not in doc:
        return None
    return Case(
        name=str(doc.get("name") or path.stem),
        kind=str(doc["kind"]),
        file=path,
        definition=doc["definition"],
        input=doc.get("input"),
        expected=dict(doc.get("expected") or {}),
        flags=dict(doc.get("flags") or {}),
        classification=dict(doc.get("classification") or {}),
        requirements=dict(doc.get("requirements") or {}),
        test_state_request=dict(doc.get("test_state_request") or {}),
    )


def load_cases(specs: Iterable[str | Path]) -> list[Case]:
    cases: list[Case] = []
    for spec in specs:
        for path in case_files(spec):
            case = load_case(path)
            if case is not None:
                cases.append(case)
    return cases


def select(
    cases: Iterable[Case],
    kinds: Collection[str] = DEFAULT_KINDS,
    name_contains: str | None = None,
    pure_only: bool = False,
) -> list[Case]:
    return [
        c
        for c in cases
        if c.kind in kinds and (not pure_only or c.pure) and (not name_contains or name_contains in c.name)
    ]


# --- skipping and resolving ---------------------------------------------------------------------


def skip_reason(case: Case, functions: Collection[str] = ()) -> str | None:
    """Why `case` cannot be attempted with these registered functions, or None.

    The order of the checks is the judge's, so a case skipped for two reasons is counted under
    the same one.
    """
    missing = sorted(case.lambda_names() - set(functions))
    if missing and functions:
        # With no functions at all the judge's wording follows; with some, say which is missing.
        return f"needs Lambda function {', '.join(missing)} (not registered)"
    definition, input_value = resolve(case, functions)
    if UNRESOLVED_RE.search(json.dumps(definition)):
        return "unresolved ${...} in definition"
    if UNRESOLVED_RE.search(json.dumps(case.test_state_request)):
        return "unresolved ${...} in the TestState request"
    input_text = json.dumps(input_value)
    if UNRESOLVED_RE.search(input_text):
        return "unresolved ${...} in input"
    declared = [
        t for t in case.flags.get("input_placeholders") or [] if not LAMBDA_TOKEN_RE.fullmatch(str(t))
    ]
    if declared or TOKEN_RE.search(input_text):
        tokens = declared or TOKEN_RE.findall(input_text)
        return f"placeholder in input ({','.join(sorted(set(map(str, tokens)))[:3])})"
    calls = case.flags.get("api_interactions_during_execution")
    if calls:
        return f"needs API calls during execution ({','.join(map(str, calls))})"
    services = case.services
    if case.kind == "test_state":
        resource = unmocked_resource(case, definition)
        # A Lambda function podium stands in for is registered: resolved to its ARN above.
        if resource is not None and not _registered(resource, functions):
            return f"needs services ({','.join(services) or resource})"
    # Lambda is the one service podium can stand in for, with the registered functions.
    elif [s for s in services if s != "lambda" or not functions]:
        return f"needs services ({','.join(services)})"
    if case.expected.get("status") == "RUNNING":
        return "recorded status RUNNING (history captured before termination)"
    return None


def unmocked_resource(case: Case, definition: JSON) -> str | None:
    """The Resource a test_state case's state calls for real (a Task without a mock), if any."""
    if "mock" in case.test_state_request or not isinstance(definition, dict):
        return None
    state: Any = definition
    name = case.test_state_request.get("stateName")
    if name is not None:
        state = next((s for n, s in iter_named_states(definition) if n == name), None)
    if isinstance(state, dict) and state.get("Type") == "Task" and isinstance(state.get("Resource"), str):
        return str(state["Resource"])
    return None


def _registered(resource: str, functions: Collection[str]) -> bool:
    from podium.connectors.functions import function_name

    name = function_name(resource, None)
    return name is not None and not resource.startswith(LAMBDA_INVOKE) and name in set(functions)


def resolve(case: Case, functions: Collection[str]) -> tuple[JSON, JSON]:
    """The definition and input with every registered `${LambdaFunctionArn:NAME}` replaced."""
    names = set(functions)

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return LAMBDA_ARN.format(name=name) if name in names else match.group(0)

    def walk(value: JSON) -> JSON:
        if isinstance(value, str):
            return LAMBDA_TOKEN_RE.sub(substitute, value) if "${" in value else value
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(case.definition), walk(case.input)


# --- the shape of a definition --------------------------------------------------------------------


def iter_states(definition: JSON) -> Iterator[dict[str, Any]]:
    """Every state of a definition, those of Parallel branches and Map processors included."""
    for _, state in iter_named_states(definition):
        yield state


def iter_named_states(definition: JSON) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, state) of every state of a definition, nested ones included."""
    pending = [definition.get("States")] if isinstance(definition, dict) else []
    while pending:
        states = pending.pop()
        if not isinstance(states, dict):
            continue
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            yield str(name), state
            for branch in state.get("Branches") or []:
                if isinstance(branch, dict):
                    pending.append(branch.get("States"))
            for key in ("Iterator", "ItemProcessor"):
                if isinstance(state.get(key), dict):
                    pending.append(state[key].get("States"))


def state_types(definition: JSON) -> set[str]:
    return {s["Type"] for s in iter_states(definition) if isinstance(s.get("Type"), str)}
