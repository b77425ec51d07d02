"""The schema of the Amazon States Language: field tables, messages, and checks of single values.

`podium.asl.validation` walks the programs and the transition graph, `podium.asl.state_schema`
judges one state at a time; both write what they find into a `Report` with the helpers here
(paths, payload templates, JSONata strings, Assign, integers in range).

The codes and messages follow what Step Functions answers (ValidateStateMachineDefinition and
CreateStateMachine's InvalidDefinition). Where AWS's wording is known it is used verbatim, e.g.
"Field 'Resource' is not supported", "These fields are required: [Next]", "There should only be
one of the following fields: [Next, End]", "Value should be one of the following: [NONE, FULL]",
"The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath'
QueryLanguage". Locations are RFC 6901 JSON pointers into the definition.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from podium.asl.errors import Diagnostic
from podium.asl.model import JSON

SCHEMA: Final = "SCHEMA_VALIDATION_FAILED"
INVALID_JSONATA: Final = "INVALID_JSONATA_EXPRESSION"

MAX_STATE_NAME_LENGTH: Final = 80
MAX_VARIABLE_NAME_LENGTH: Final = 80
MAX_LABEL_LENGTH: Final = 40
MAX_SECONDS: Final = 99_999_999  # AWS's ceiling for TimeoutSeconds, HeartbeatSeconds, Seconds, MaxAttempts
MAX_DELAY_SECONDS: Final = 31_622_400  # one leap year, AWS's ceiling for Retry MaxDelaySeconds

STATE_TYPES: Final = ("Choice", "Fail", "Map", "Parallel", "Pass", "Succeed", "Task", "Wait")


class Report:
    """Collects diagnostics; every check appends here instead of raising, so all problems are found."""

    __slots__ = ("diagnostics",)

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def add(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(Diagnostic(code, message, location))

    def schema(self, message: str, location: str) -> None:
        self.diagnostics.append(Diagnostic(SCHEMA, message, location))


def escape(token: str) -> str:
    """One reference token of a JSON pointer (RFC 6901: `~` -> `~0`, `/` -> `~1`)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def at(base: str, *tokens: str | int) -> str:
    """The pointer `base` extended by `tokens` (a loop, not a join: this runs for every field)."""
    for token in tokens:
        if isinstance(token, int):
            base = f"{base}/{token}"
        elif "~" in token or "/" in token:
            base = f"{base}/{escape(token)}"
        else:
            base = f"{base}/{token}"
    return base


# --- field tables ------------------------------------------------------------------------------

# Which fields each state type accepts (measured against ValidateStateMachineDefinition by others:
# e.g. Succeed takes no Assign, Fail takes no InputPath/OutputPath, only Task takes TimeoutSeconds).
_COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
ALLOWED_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "Pass": _COMMON
    | {"InputPath", "OutputPath", "Result", "ResultPath", "Parameters", "Output", "Assign", "Next", "End"},
    "Task": _COMMON
    | {
        "InputPath",
        "OutputPath",
        "ResultPath",
        "Parameters",
        "Arguments",
        "Output",
        "Assign",
        "Resource",
        "Credentials",
        "ResultSelector",
        "Retry",
        "Catch",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        "Next",
        "End",
    },
    "Wait": _COMMON
    | {"InputPath", "OutputPath", "Output", "Assign", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"}
    | {"Next", "End"},
    "Parallel": _COMMON
    | {"InputPath", "OutputPath", "ResultPath", "Parameters", "Arguments", "Output", "Assign"}
    | {"ResultSelector", "Retry", "Catch", "Branches", "Next", "End"},
    "Map": _COMMON
    | {"InputPath", "OutputPath", "ResultPath", "Parameters", "Output", "Assign", "ResultSelector"}
    | {"Retry", "Catch", "ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector", "ItemReader"}
    | {"ItemBatcher", "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage"}
    | {"ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"}
    | {"Next", "End"},
    "Choice": _COMMON | {"InputPath", "OutputPath", "Output", "Assign", "Choices", "Default"},
    "Succeed": _COMMON | {"InputPath", "OutputPath", "Output"},
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
}

# Fields of one query language that the other refuses (AWS reports these at the state).
JSONPATH_ONLY: Final = frozenset(
    {
        "InputPath",
        "OutputPath",
        "ResultPath",
        "Parameters",
        "ResultSelector",
        "Result",
        "ItemsPath",
        "TimeoutSecondsPath",
        "HeartbeatSecondsPath",
        "SecondsPath",
        "TimestampPath",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCountPath",
        "ErrorPath",
        "CausePath",
    }
)
JSONATA_ONLY: Final = frozenset({"Arguments", "Output", "Items"})

# Choice comparison operators: name -> (base name, whether the operand is a path).
_COMPARED = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
OPERATORS: Final[Mapping[str, tuple[str, bool]]] = {
    **{
        f"{kind}{op}": (f"{kind}{op}", False)
        for kind in ("String", "Numeric", "Timestamp")
        for op in _COMPARED
    },
    **{
        f"{kind}{op}Path": (f"{kind}{op}", True)
        for kind in ("String", "Numeric", "Timestamp")
        for op in _COMPARED
    },
    "StringMatches": ("StringMatches", False),
    "BooleanEquals": ("BooleanEquals", False),
    "BooleanEqualsPath": ("BooleanEquals", True),
    **{f"Is{t}": (f"Is{t}", False) for t in ("Null", "Present", "Numeric", "String", "Boolean", "Timestamp")},
}

_LABEL_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


# --- messages ----------------------------------------------------------------------------------


def not_supported(field: str) -> str:
    return f"Field '{field}' is not supported"


def required(*fields: str) -> str:
    return f"These fields are required: [{', '.join(fields)}]"


def only_one(*fields: str) -> str:
    return f"There should only be one of the following fields: [{', '.join(fields)}]"


def exactly_one(*fields: str) -> str:
    return f"This object should have only one of the following fields: [{', '.join(fields)}]"


def one_of(*values: str) -> str:
    return f"Value should be one of the following: [{', '.join(values)}]"


def expected_type(kind: str) -> str:
    return f"Expected value of type [{kind}]"


def wrong_language(language: str, field: str) -> str:
    other = "JSONPath" if language == "JSONata" else "JSONata"
    return (
        f"The QueryLanguage is set to '{language}', but field '{field}' is only supported "
        f"for the '{other}' QueryLanguage"
    )


# --- value checks ------------------------------------------------------------------------------


def is_jsonata(value: JSON) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}") and len(value) >= 4


def _integer(value: JSON) -> bool:
    # JSON Schema counts 10.0 as an integer; bool is an int subclass in Python but not in JSON.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def is_number(value: JSON) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_timestamp(value: str) -> bool:
    """RFC 3339 as the spec profiles it: uppercase T, and Z or a numeric offset."""
    if not _TIMESTAMP.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # a well-formed but impossible date, e.g. month 13
        return False
    return True


def valid_variable_name(name: str) -> bool:
    """Unicode identifier (ID_Start then ID_Continue), at most 80 characters, as AWS documents.

    Python's `isidentifier` implements XID_Start/XID_Continue but also lets `_` start a name, which
    ID_Start does not; hence the extra test on the first character.
    """
    return 0 < len(name) <= MAX_VARIABLE_NAME_LENGTH and name.isidentifier() and name[0] != "_"


def label_problem(label: str) -> str | None:
    if not label or len(label) > MAX_LABEL_LENGTH:
        return f"The label must be between 1 and {MAX_LABEL_LENGTH} characters long"
    if _LABEL_FORBIDDEN.search(label):
        return "The label contains characters that are not allowed"
    return None


def _load(module: str, name: str) -> Any:
    """`podium.asl.<module>.<name>`, or None while that module (written alongside) lacks it."""
    try:
        return getattr(importlib.import_module(f"podium.asl.{module}"), name, None)
    except ImportError:
        return None


# --- JSONPath syntax ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def path_problem(path: str, reference: bool = False, context: bool = True, variables: bool = True) -> bool:
    """True if `path` is NOT a valid Path (or Reference Path when `reference`).

    `context`: may start with `$$` (the context object); `variables`: may start with `$name`.
    The judge is the runtime's own parser (`podium.asl.paths.compile_path`), so that whatever is
    accepted here can be evaluated later.
    """
    compile_path: Callable[[str], object] | None = _load("paths", "compile_path")
    if compile_path is None:  # only while that module is being written: judge the root alone
        return not path.startswith("$")
    try:
        compiled = compile_path(path)
    except Exception:  # the parser's syntax error; anything it cannot parse is not a path
        return True
    root = getattr(compiled, "root", "input")
    if (root == "context" and not context) or (root == "variable" and not variables):
        return True
    # a reference path names one node: the parser leaves `steps` unset for anything else
    return reference and getattr(compiled, "steps", None) is None


# --- intrinsic functions and JSONata: delegated to their modules, imported lazily ------------------


@lru_cache(maxsize=4096)
def intrinsic_problem(text: str) -> str | None:
    """None if `text` is a well-formed intrinsic function call, else why not."""
    parse: Callable[[str], object] | None = _load("intrinsics", "parse_intrinsic")
    if parse is None:  # only while that module is being written: judge the shape alone
        return None if text.endswith(")") and "(" in text else "not a function call"
    try:
        call = parse(text)
    except Exception as e:  # the parser's own error type; any failure means "not a valid call"
        return str(e) or type(e).__name__
    iter_paths: Callable[[object], Iterable[str]] | None = _load("intrinsics", "iter_paths")
    for path in iter_paths(call) if iter_paths is not None else ():
        if path_problem(path):
            return f"The argument {path} is not a valid JSONPath"
    return None


_JSONATA_CODE = re.compile(r"^[A-Z]\d{4}: ")


@lru_cache(maxsize=4096)
def jsonata_problem(text: str) -> str | None:
    """None if the `{% ... %}` string holds a JSONata expression that parses, else the error."""
    if not text[2:-2].strip():
        return "Unexpected end of expression"
    check: Callable[[str], str | None] | None = _load("jsonata", "check_jsonata_syntax")
    return None if check is None else check(text)


# --- checks of values ------------------------------------------------------------------------


def check_path(
    rep: Report, value: JSON, field: str, loc: str, *, reference: bool = False, intrinsic: bool = False
) -> None:
    if isinstance(value, str):
        if intrinsic and value.startswith("States.") and intrinsic_problem(value) is None:
            return
        if not path_problem(value, reference):
            return
    kind = "ReferencePath" if reference else "JSONPath"
    suffix = " or a valid intrinsic function call" if intrinsic else ""
    rep.schema(f"The value for the field '{field}' must be a valid {kind}{suffix}", loc)


def check_integer(
    rep: Report, value: JSON, loc: str, minimum: int | None, maximum: int | None, *, jsonata: bool = False
) -> None:
    if jsonata and isinstance(value, str) and value.startswith("{%"):
        check_jsonata_string(rep, value, loc)
        return
    if not _integer(value):
        rep.schema("Expected value of type Integer", loc)
    elif minimum is not None and value < minimum:
        rep.schema(f"Minimum value is {minimum}", loc)
    elif maximum is not None and value > maximum:
        rep.schema(f"Maximum value is {maximum}", loc)


def check_jsonata_string(rep: Report, value: str, loc: str) -> None:
    if not is_jsonata(value):
        rep.schema("JSONata string must start with {% and end with %}", loc)
        return
    problem = jsonata_problem(value)
    if problem is not None:
        # AWS quotes the parser's message without JSONata's own code ("S0202: ...")
        rep.add(INVALID_JSONATA, _JSONATA_CODE.sub("", problem, count=1), loc)


def check_jsonata_template(rep: Report, value: JSON, loc: str) -> None:
    """Every `{% %}` string in a JSONata field (Arguments, Output, Assign, ...) must parse."""
    if isinstance(value, str):
        if value.startswith("{%"):
            check_jsonata_string(rep, value, loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str | dict | list):
                check_jsonata_template(rep, item, at(loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str | dict | list):
                check_jsonata_template(rep, item, at(loc, i))


def check_path_template(rep: Report, value: JSON, loc: str) -> None:
    """A JSONPath payload template: a key ending in `.$` holds a path or an intrinsic call."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith(".$"):
                if not _dollar_value_ok(item):
                    rep.schema(_dollar_message(key), at(loc, key))
            elif isinstance(item, dict | list):
                check_path_template(rep, item, at(loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict | list):
                check_path_template(rep, item, at(loc, i))


def _dollar_message(key: str) -> str:
    return f"The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"


def _dollar_value_ok(value: JSON) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith("States."):
        return intrinsic_problem(value) is None
    return not path_problem(value)


def check_assign(rep: Report, value: JSON, loc: str, jsonata: bool) -> None:
    if not isinstance(value, dict):
        rep.schema(expected_type("OBJECT"), loc)
        return
    for key, item in value.items():
        name = key[:-2] if not jsonata and key.endswith(".$") else key
        where = at(loc, key)
        if name == "states":
            # `$states` is the JSONata binding AWS reserves (input, result, context, errorOutput)
            rep.schema("Cannot assign to reserved variable '$states'", where)
        elif not valid_variable_name(name):
            rep.schema(
                f"Invalid variable name '{name}': a name is a letter followed by letters, digits or '_', "
                f"at most {MAX_VARIABLE_NAME_LENGTH} characters",
                where,
            )
        if jsonata:
            check_jsonata_template(rep, item, where)
        elif key.endswith(".$"):
            if not _dollar_value_ok(item):
                rep.schema(_dollar_message(key), where)
        else:
            check_path_template(rep, item, where)


# --- the checks of one state --------------------------------------------------------------------


class StateCheck:
    """The checks of one state. `jsonata` is the state's effective query language."""

    __slots__ = ("jsonata", "language", "loc", "rep", "state")

    def __init__(self, rep: Report, state: Mapping[str, JSON], loc: str, jsonata: bool) -> None:
        self.rep = rep
        self.state = state
        self.loc = loc
        self.jsonata = jsonata
        self.language = "JSONata" if jsonata else "JSONPath"

    # fields of the state itself

    def string(self, field: str, loc: str | None = None) -> bool:
        value = self.state.get(field)
        if isinstance(value, str):
            return True
        self.rep.schema(expected_type("STRING"), loc or at(self.loc, field))
        return False

    def path(
        self, field: str, *, reference: bool = False, nullable: bool = False, intrinsic: bool = False
    ) -> None:
        value = self.state[field]
        if value is None and nullable:
            return
        check_path(self.rep, value, field, at(self.loc, field), reference=reference, intrinsic=intrinsic)

    def result_path(self, container: Mapping[str, JSON], loc: str) -> None:
        value = container["ResultPath"]
        # ResultPath writes into the state's input: no context object, no variables.
        if value is not None and (
            not isinstance(value, str) or path_problem(value, reference=True, context=False, variables=False)
        ):
            self.rep.schema("The value for the field 'ResultPath' must be a valid ReferencePath", loc)

    def integer(self, field: str, minimum: int | None = None, maximum: int | None = None) -> None:
        check_integer(
            self.rep, self.state[field], at(self.loc, field), minimum, maximum, jsonata=self.jsonata
        )

    def exclusive(self, *fields: str) -> bool:
        present = [f for f in fields if f in self.state]
        if len(present) > 1:
            self.rep.schema(only_one(*fields), self.loc)
            return False
        return True

    def template(self, value: JSON, loc: str) -> None:
        if self.jsonata:
            check_jsonata_template(self.rep, value, loc)
        else:
            check_path_template(self.rep, value, loc)
