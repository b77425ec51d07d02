"""Validation of a state machine definition, as Step Functions validates it.

`validate_definition` answers every problem found (not just the first), each a `Diagnostic` with
AWS's code and a JSON pointer; an empty list means the definition is valid. It serves
`podium validate`, ValidateStateMachineDefinition and, through `parse_definition`, CreateStateMachine.

Codes used (AWS's, from the ValidateStateMachineDefinitionDiagnostic reference):
    INVALID_JSON_DESCRIPTION   the text is neither JSON nor YAML
    SCHEMA_VALIDATION_FAILED   a field is missing, unknown, of the wrong type or out of range
    MISSING_TRANSITION_TARGET  a Next/Default/StartAt names no state of its program, or a state is
                               unreachable ('State "X" is not reachable.')
    MISSING_END_STATE          the top-level program has no terminal state
    DUPLICATE_STATE_NAME       a state name is used twice anywhere in the machine
    INVALID_STATE_NAME         a state name is empty or longer than 80 characters
    DUPLICATE_LABEL_NAME / INVALID_LABEL_NAME   the Label of a (distributed) Map
    INVALID_JSONATA_EXPRESSION a `{% %}` expression does not parse

Query language: a state without `QueryLanguage` takes the machine's top-level language, also
inside Parallel branches and Map processors (those cannot declare one); this is what Step
Functions does, and not the language of the enclosing Map or Parallel state.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml

from podium.asl.errors import Diagnostic
from podium.asl.model import JSON
from podium.asl.schema import (
    MAX_SECONDS,
    MAX_STATE_NAME_LENGTH,
    SCHEMA,
    Report,
    at,
    check_integer,
    escape,
    expected_type,
    label_problem,
    not_supported,
    one_of,
    required,
)
from podium.asl.state_schema import check_state

INVALID_JSON: Final = "INVALID_JSON_DESCRIPTION"
MISSING_TARGET: Final = "MISSING_TRANSITION_TARGET"
MISSING_END: Final = "MISSING_END_STATE"
DUPLICATE_STATE: Final = "DUPLICATE_STATE_NAME"
INVALID_STATE_NAME: Final = "INVALID_STATE_NAME"
DUPLICATE_LABEL: Final = "DUPLICATE_LABEL_NAME"
INVALID_LABEL: Final = "INVALID_LABEL_NAME"
TOO_DEEP: Final = "TOO_DEEPLY_NESTED"

NOT_AN_OBJECT: Final = "Definition must be a valid JSON object"

_TOP_FIELDS = frozenset({"Comment", "QueryLanguage", "StartAt", "TimeoutSeconds", "Version", "States"})
_BRANCH_FIELDS = frozenset({"Comment", "StartAt", "States"})
_PROCESSOR_FIELDS = _BRANCH_FIELDS | {"ProcessorConfig"}
_TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
_NO_NEXT_TYPES = frozenset({"Choice", "Succeed", "Fail"})
_CATCHING_TYPES = frozenset({"Task", "Parallel", "Map"})


def validate_definition(source: str | bytes | Mapping[str, Any]) -> list[Diagnostic]:
    """Every problem of the definition (JSON or YAML text, or a decoded object); [] when valid."""
    decoded = decode_definition(source)
    if decoded.definition is None:
        return decoded.diagnostics
    return check_definition(decoded.definition, decoded.duplicates)


# --- decoding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """The definition as JSON data, or None with the diagnostics saying why it is not."""

    definition: dict[str, JSON] | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # id() of a decoded object -> the keys it was given more than once. Python keeps the last
    # value of a repeated key, so this is the only trace of a state name written twice.
    duplicates: Mapping[int, list[str]] = field(default_factory=dict)


def decode_definition(source: str | bytes | Mapping[str, Any]) -> Decoded:
    """JSON text, else YAML text, else an already-decoded mapping, as plain JSON data.

    Text that starts like JSON (`{` or `[`) is judged as JSON only: YAML would accept many JSON
    mistakes (a trailing comma, say) that Step Functions rejects as INVALID_JSON_DESCRIPTION.
    """
    if isinstance(source, Mapping):
        try:
            # A fresh copy: the model keeps parts of it, and must not change if the caller's does.
            copy = json.loads(json.dumps(source, allow_nan=False, default=_mapping_to_dict))
        except (TypeError, ValueError) as e:
            return Decoded(None, [Diagnostic(INVALID_JSON, f"The definition is not JSON data: {e}")])
        except RecursionError:
            return Decoded(None, [too_deep()])
        return Decoded(copy)
    if isinstance(source, bytes | bytearray):
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            return Decoded(None, [Diagnostic(INVALID_JSON, f"The definition is not UTF-8 text: {e}")])
    if not isinstance(source, str):
        return Decoded(None, [Diagnostic(SCHEMA, NOT_AN_OBJECT)])
    if not source.strip():
        return Decoded(None, [Diagnostic(SCHEMA, NOT_AN_OBJECT)])
    duplicates: dict[int, list[str]] = {}
    try:
        value = json.loads(source, object_pairs_hook=_pairs_hook(duplicates), parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        if source.lstrip()[:1] in ("{", "["):
            return Decoded(None, [Diagnostic(INVALID_JSON, str(e))])
        return _decode_yaml(source, str(e))
    except ValueError as e:  # NaN / Infinity, which JSON does not have
        return Decoded(None, [Diagnostic(INVALID_JSON, str(e))])
    except RecursionError:
        return Decoded(None, [too_deep()])
    if not isinstance(value, dict):
        return Decoded(None, [Diagnostic(SCHEMA, NOT_AN_OBJECT)])
    return Decoded(value, duplicates=duplicates)


def too_deep() -> Diagnostic:
    """Nesting beyond what the (recursive) decoder and checks can follow."""
    return Diagnostic(TOO_DEEP, "The definition is too deeply nested")


def _mapping_to_dict(value: object) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _pairs_hook(duplicates: dict[int, list[str]]) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            repeated: list[str] = []
            for key, _ in pairs:
                if key in seen:
                    repeated.append(key)
                seen.add(key)
            duplicates[id(obj)] = repeated
        return obj

    return hook


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader that yields JSON data: string keys as written, no timestamps, YAML 1.2 booleans.

    ASL timestamps are strings ("2016-03-14T01:59:00Z"), and `No:` or `On:` name states.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: dict[int, list[str]] = {}


_YamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_yaml_map(loader: _YamlLoader, node: yaml.MappingNode) -> Iterator[dict[str, Any]]:
    data: dict[str, Any] = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "found a mapping key that is not a string", key_node.start_mark
            )
        key = key_node.value
        if key in data:
            loader.duplicates.setdefault(id(data), []).append(key)
        data[key] = loader.construct_object(value_node, deep=True)


_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_yaml_map)


def _decode_yaml(text: str, json_error: str) -> Decoded:
    loader: _YamlLoader | None = None
    try:
        loader = _YamlLoader(text)  # the reader already refuses control characters here
        value = loader.get_single_data()
    except yaml.YAMLError as e:
        return Decoded(
            None, [Diagnostic(INVALID_JSON, f"The definition is neither JSON ({json_error}) nor YAML ({e})")]
        )
    finally:
        if loader is not None:
            loader.dispose()
    if isinstance(value, str | int | float | bool) or value is None:
        # Plain text is a YAML scalar; report it the way AWS reports text that is not JSON.
        return Decoded(None, [Diagnostic(INVALID_JSON, json_error)])
    if not isinstance(value, dict):
        return Decoded(None, [Diagnostic(SCHEMA, NOT_AN_OBJECT)])
    problem = _non_json(value, "")
    if problem is not None:
        return Decoded(None, [Diagnostic(INVALID_JSON, problem[0], problem[1])])
    return Decoded(value, duplicates=loader.duplicates)


def _non_json(value: Any, loc: str) -> tuple[str, str] | None:
    """A YAML value JSON cannot hold (a set, binary, a date, NaN), with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_json(item, at(loc, key))
            if found:
                return found
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _non_json(item, at(loc, i))
            if found:
                return found
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a JSON number", loc
    if value is None or isinstance(value, str | int | float | bool):
        return None
    return f"A YAML value of type {type(value).__name__} is not a JSON value", loc


# --- the definition ------------------------------------------------------------------------------


def check_definition(
    definition: Mapping[str, JSON], duplicates: Mapping[int, list[str]] | None = None
) -> list[Diagnostic]:
    """Every problem of a decoded definition."""
    rep = Report()
    try:
        _check_definition(rep, definition, duplicates or {})
    except RecursionError:
        rep.diagnostics.append(too_deep())
    return rep.diagnostics


def _check_definition(
    rep: Report, definition: Mapping[str, JSON], duplicates: Mapping[int, list[str]]
) -> None:
    top_language = definition.get("QueryLanguage")
    if "QueryLanguage" in definition:
        _check_language_value(rep, top_language, "/QueryLanguage")
    if "TimeoutSeconds" in definition:
        # Measured: 0 is accepted for the machine's timeout.
        check_integer(rep, definition["TimeoutSeconds"], "/TimeoutSeconds", 0, MAX_SECONDS)
    if "Version" in definition:
        version = definition["Version"]
        if not isinstance(version, str):
            rep.schema(expected_type("STRING"), "/Version")
        elif version != "1.0":
            rep.schema(one_of("1.0"), "/Version")
    walk = _Walk(rep, duplicates, "QueryLanguage" in definition and top_language != "JSONPath")
    walk.program(definition, "", _TOP_FIELDS)


def _check_language_value(rep: Report, value: JSON, loc: str) -> None:
    if not isinstance(value, str):
        rep.schema(expected_type("STRING"), loc)
    elif value not in ("JSONPath", "JSONata"):
        rep.schema(one_of("JSONPath", "JSONata"), loc)


class _Walk:
    """One pass over all programs; state names and labels are unique across the whole machine."""

    def __init__(self, rep: Report, duplicates: Mapping[int, list[str]], top_jsonata: bool) -> None:
        self.rep = rep
        self.duplicates = duplicates
        self.top_jsonata = top_jsonata
        self.names: set[str] = set()
        self.labels: set[str] = set()

    def program(self, program: Mapping[str, JSON], loc: str, allowed: frozenset[str]) -> None:
        rep = self.rep
        where = loc or "/"
        for key in program:
            if key not in allowed:
                rep.schema(not_supported(key), where)
        missing = [f for f in ("States", "StartAt") if f not in program]
        if missing:
            rep.schema(required(*missing), where)
        if "Comment" in program and not isinstance(program["Comment"], str):
            rep.schema(expected_type("STRING"), at(loc, "Comment"))
        start = program.get("StartAt")
        if "StartAt" in program and not isinstance(start, str):
            rep.schema(expected_type("STRING"), at(loc, "StartAt"))
        states = program.get("States")
        if "States" not in program:
            return
        if not isinstance(states, dict):
            rep.schema(expected_type("OBJECT"), at(loc, "States"))
            return
        if not states:
            rep.schema("Value cannot be empty", at(loc, "States"))
            return
        for name in self.duplicates.get(id(states), ()):
            rep.add(DUPLICATE_STATE, f"Duplicate State name: {name}", at(loc, "States", name))
        for name, state in states.items():
            self._state(name, state, f"{loc}/States/{escape(name)}")
        self._graph(states, start if isinstance(start, str) else None, loc, top=not loc)

    def _state(self, name: str, state: JSON, loc: str) -> None:
        rep = self.rep
        if not name or len(name) > MAX_STATE_NAME_LENGTH:
            rep.add(
                INVALID_STATE_NAME, f"State name must be 1 to {MAX_STATE_NAME_LENGTH} characters long", loc
            )
        if name in self.names:
            rep.add(DUPLICATE_STATE, f"Duplicate State name: {name}", loc)
        self.names.add(name)
        if not isinstance(state, dict):
            rep.schema(expected_type("OBJECT"), loc)
            return
        jsonata, downgraded = self.top_jsonata, False
        if "QueryLanguage" in state:
            declared = state["QueryLanguage"]
            _check_language_value(rep, declared, at(loc, "QueryLanguage"))
            # Measured: only the exact string "JSONPath" asks for JSONPath; anything else is JSONata.
            jsonata = declared != "JSONPath"
            if self.top_jsonata and not jsonata:
                downgraded = True
                rep.schema(
                    "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", loc
                )
        kind = check_state(rep, state, loc, jsonata, downgraded)
        if kind == "Parallel" and isinstance(state.get("Branches"), list):
            for i, branch in enumerate(state["Branches"]):
                if isinstance(branch, dict):
                    self.program(branch, at(loc, "Branches", i), _BRANCH_FIELDS)
        elif kind == "Map":
            # the processor (with both written, already an error, only the first is walked)
            key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
            if isinstance(state.get(key), dict):
                self.program(state[key], at(loc, key), _PROCESSOR_FIELDS)
            label = state.get("Label")
            if isinstance(label, str):
                problem = label_problem(label)
                if problem:
                    rep.add(INVALID_LABEL, problem, at(loc, "Label"))
                elif label in self.labels:
                    rep.add(DUPLICATE_LABEL, f"Duplicate Label name: {label}", at(loc, "Label"))
                self.labels.add(label)

    def _graph(self, states: Mapping[str, JSON], start: str | None, loc: str, top: bool) -> None:
        """Transition targets exist in this program; every state is reachable from StartAt."""
        rep = self.rep
        edges: dict[str, list[str]] = {}
        terminal = False
        for name, state in states.items():
            targets: list[str] = []
            edges[name] = targets
            if not isinstance(state, dict):
                continue
            kind = state.get("Type")
            if not isinstance(kind, str):  # already reported; and a list or object is not hashable
                kind = None
            terminal = terminal or kind in _TERMINAL_TYPES or state.get("End") is True
            for field_name, target, where in _transitions(state, kind, f"{loc}/States/{escape(name)}"):
                if target in states:
                    targets.append(target)
                else:
                    rep.add(MISSING_TARGET, f"Missing '{field_name}' target: {target}", where)
        if start is not None and start not in states:
            rep.add(MISSING_TARGET, f"Missing 'StartAt' target: {start}", at(loc, "StartAt"))
            return
        # Measured: a top-level program with no terminal state at all gets MISSING_END_STATE alone,
        # without the unreachable states on top of it; branches and processors are always walked.
        if top and not terminal:
            rep.add(MISSING_END, "Workflow has no terminal state", "")
            return
        if start is None:
            return
        reached = {start}
        pending = [start]
        while pending:
            for target in edges[pending.pop()]:
                if target not in reached:
                    reached.add(target)
                    pending.append(target)
        for name in states:
            if name not in reached:
                rep.add(MISSING_TARGET, f'State "{name}" is not reachable.', f"{loc}/States/{escape(name)}")


def _transitions(state: Mapping[str, JSON], kind: str | None, loc: str) -> Iterator[tuple[str, str, str]]:
    """(field, target, pointer) of every transition the state declares."""
    nxt = state.get("Next")
    if isinstance(nxt, str) and kind not in _NO_NEXT_TYPES:
        yield "Next", nxt, f"{loc}/Next"
    if kind == "Choice":
        default = state.get("Default")
        if isinstance(default, str):
            yield "Default", default, f"{loc}/Default"
        choices = state.get("Choices")
        if isinstance(choices, list):
            for i, rule in enumerate(choices):
                if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                    yield "Next", rule["Next"], f"{loc}/Choices/{i}/Next"
    if kind in _CATCHING_TYPES:
        catchers = state.get("Catch")
        if isinstance(catchers, list):
            for i, catcher in enumerate(catchers):
                if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
                    yield "Next", catcher["Next"], f"{loc}/Catch/{i}/Next"
