"""JSONata as Step Functions runs it: `{% ... %}` strings in the fields of JSONata states.

Built on the `jsonata-python` library (a port of jsonata-java). What Step Functions changes:

- The only names an expression sees are `$states` (input, context, and where defined result
  and errorOutput) and the workflow variables as `$name`. There is no input document: `$` at the
  top level is undefined.
- Step Functions adds `$partition`, `$range`, `$hash`, `$random([seed])`, `$uuid` and `$parse`,
  and removes `$eval`. Here `$now`, `$millis`, `$random` and `$uuid` read the execution's clock
  and random source (`Scope.now_ms`, `Scope.random`), never the machine's, so that a replay
  evaluates to the same values.
- A result must be JSON: `undefined` (no match) and functions are errors, reported as
  States.QueryEvaluationError with the texts AWS uses.

Thread safety: a parsed expression is shared between threads through a cache. The library keeps
its per-evaluation state (current input and frame) on a per-thread instance, but its
`Jsonata.evaluate()` reads the shared object's `environment`, which another thread may be
pointing at its own frame in the middle of an evaluation. So this module never calls
`evaluate()`: it builds its own frame (parent: a frame of constants built at import) and calls the
lower-level `eval()` directly.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from random import Random
from typing import Any, Final, Literal, TypeAlias

import jsonata as _jsonata
from jsonata.functions import Functions as _Functions
from jsonata.jexception import JException as _JException
from jsonata.signature import Signature as _Signature
from jsonata.utils import Utils as _Utils

from podium.asl.errors import ErrorName, EvaluationError
from podium.asl.jsontext import from_json_text, to_json_text
from podium.asl.model import JSON
from podium.asl.scope import Scope

__all__ = [
    "JsonTypeName",
    "check_jsonata_syntax",
    "evaluate_expression",
    "expression_body",
    "is_jsonata_expression",
    "json_type_name",
    "resolve_template",
]

JsonTypeName: TypeAlias = Literal["null", "boolean", "number", "integer", "string", "array", "object"]
"""A JSON type as AWS names it in "Expected 'array', but was 'string'" ('integer' only as expected)."""

_OPEN: Final = "{%"
_CLOSE: Final = "%}"

# The library's representation of JSON null; Python None is JSONata's `undefined`.
_NULL: Final[Any] = _Utils.NULL_VALUE


# --- recognising expressions -------------------------------------------------------------------


def is_jsonata_expression(value: object) -> bool:
    """True for a string that is a JSONata expression: starts with "{%" and ends with "%}".

    AWS does not trim: " {% $x %}" (leading space) is a literal string, as the recorded
    Arguments literals show. The inside may be padded with whitespace.
    """
    return isinstance(value, str) and len(value) >= 4 and value.startswith(_OPEN) and value.endswith(_CLOSE)


def expression_body(text: str) -> str:
    """The expression inside "{% ... %}", without the padding (as AWS quotes it in error texts).

    A text that is not in delimiters is taken to be an expression already.
    """
    if is_jsonata_expression(text):
        text = text[len(_OPEN) : -len(_CLOSE)]
    return text.strip()


# --- parsing (cached) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    program: Any  # a jsonata.Jsonata holding the AST, or None if the text does not parse
    error: str | None


@functools.lru_cache(maxsize=4096)
def _compile(body: str) -> _Compiled:
    """Parse once per distinct text; failures are cached too (they are deterministic)."""
    try:
        return _Compiled(_jsonata.Jsonata(body), None)
    except Exception as ex:  # the parser raises JException, and plain errors on some inputs
        return _Compiled(None, _describe_exception(ex))


def check_jsonata_syntax(text: str) -> str | None:
    """None if `text` (with or without "{% %}") parses as JSONata, else a message for the parser."""
    body = expression_body(text)
    if not body:
        return "S0207: Unexpected end of expression"
    return _compile(body).error


# --- error texts ---------------------------------------------------------------------------------


def _describe_exception(ex: BaseException) -> str:
    """A JSONata error as AWS quotes it: "T1006: Attempted to invoke a non-function"."""
    if isinstance(ex, _JException):
        return f"{ex.error}: {_jexception_message(ex)}"
    # Python's own failures where jsonata-js would produce the catalogued error.
    if isinstance(ex, RecursionError):
        return f"D1011: {_JException.error_codes['D1011']}"
    if isinstance(ex, ZeroDivisionError):
        return "D1001: Number out of range: Infinity"
    return str(ex) or type(ex).__name__


def _jexception_message(ex: Any) -> str:
    """The library's message for a JException, with its port's wording repaired.

    jsonata-python's catalogue says "Object" where jsonata-js and jsonata-java say "function"
    ("Argument 1 of function sum must be ..."). The template is fixed before the inserts are
    substituted, so that user text ($error('...')) is never rewritten.
    """
    template = _JException.error_codes.get(ex.error)
    if template is None:
        return str(ex)
    args = (ex.current, ex.expected) if ex.extra is None else (ex.current, ex.expected, ex.extra)
    if template == "{{{message}}}":
        return str(args[0])
    template = re.sub(r"\bObject\b", "function", template)
    try:
        return re.sub(r"\{\{\w+\}\}", "{}", template).format(*args)
    except (IndexError, KeyError, ValueError):
        return str(ex)


def _fail(body: str, field: str, what: str) -> EvaluationError:
    return EvaluationError(
        ErrorName.QUERY_EVALUATION_ERROR.value,
        f"The JSONata expression '{body}' specified for the field '{field}' {what}",
        location=field,
    )


def json_type_name(value: JSON) -> JsonTypeName:
    """The JSON type of a value, as AWS names it in its error texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _has_type(value: JSON, expected: JsonTypeName) -> bool:
    if expected == "integer":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and float(value).is_integer()
        )
    return json_type_name(value) == expected


# --- values in and out of the library ------------------------------------------------------------


def _to_jsonata(value: JSON) -> Any:
    """JSON as the library expects it: null is its NULL_VALUE (None would mean `undefined`).

    Converting whole documents (not only the top level) matters inside arrays: with None
    items `$map($states.input.list, ...)` would silently drop the nulls. The copy also keeps the
    library away from the caller's objects.
    """
    if value is None:
        return _NULL
    if isinstance(value, dict):
        return {k: _to_jsonata(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_jsonata(v) for v in value]
    return value


class _UnsupportedResultError(Exception):
    """The result holds something that is not JSON (a function, a regex, ...)."""


def _from_jsonata(value: Any) -> JSON:
    """A library result as JSON; raises _UnsupportedResultError for functions and other non-JSON values."""
    if value is _NULL:
        return None
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _UnsupportedResultError
        return value
    if isinstance(value, dict):
        # An undefined member is left out, as JSON.stringify does in jsonata-js.
        return {str(k): _from_jsonata(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_from_jsonata(v) for v in value]
    raise _UnsupportedResultError


# --- the functions Step Functions adds -------------------------------------------------------------


class _Native(_jsonata.Jsonata.JFunctionCallable):  # type: ignore[misc]
    """Adapts a Python callable to the library's function protocol (call(input, args))."""

    def __init__(self, impl: Callable[..., Any]) -> None:
        self._impl = impl

    def call(self, input: Any, args: Any) -> Any:
        return self._impl(*(args or ()))


def _function(impl: Callable[..., Any], signature: _Signature) -> Any:
    """A JSONata function value; the signature (parsed once, immutable) validates the arguments."""
    fn = _jsonata.Jsonata.JFunction(_Native(impl), None)
    fn.signature = signature
    return fn


def _sig(text: str, name: str) -> _Signature:
    return _Signature(text, name)


def _error(message: str) -> _JException:
    # D3137 is the library's code for a message chosen by the function ($error uses it).
    return _JException("D3137", -1, message)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()


def _partition(array: Any, size: Any) -> Any:
    if array is None or size is None:
        return None
    if not _is_integer(size) or size <= 0:
        raise _error("The size argument of $partition must be a positive integer")
    n = int(size)
    items = list(array)
    # A plain list (not a sequence): a single chunk stays an array of arrays.
    return _Utils.JList([_Utils.JList(items[i : i + n]) for i in range(0, len(items), n)])


_MAX_RANGE: Final = 10_000_000


def _range(start: Any, end: Any, step: Any) -> Any:
    if start is None or end is None or step is None:
        return None
    if not (_is_integer(start) and _is_integer(end) and _is_integer(step)):
        raise _error("The arguments of $range must be integers")
    if step == 0:
        raise _error("The step argument of $range must not be zero")
    stop = int(end) + (1 if step > 0 else -1)
    values = range(int(start), stop, int(step))
    if len(values) > _MAX_RANGE:
        # The bound of JSONata's own range operator [a..b] (error D2014), against runaway memory.
        raise _error(f"The array generated by $range must not exceed {_MAX_RANGE} items")
    # A sequence, as AWS's own: a range of one value is that value ($range(1, 9, 9) is 1,
    # recorded), and an empty range is undefined.
    return _Utils.create_sequence_from_iter(values)


_HASH_ALGORITHMS: Final[Mapping[str, str]] = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _hash(value: Any, algorithm: Any) -> Any:
    if value is None or algorithm is None:
        return None
    name = _HASH_ALGORITHMS.get(algorithm)
    if name is None:
        raise _error(f"Unsupported hash algorithm '{algorithm}'; supported: " + ", ".join(_HASH_ALGORITHMS))
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def _parse(text: Any) -> Any:
    if text is None:
        return None
    try:
        parsed = from_json_text(text)
    except ValueError as ex:
        raise _error(f"The argument of $parse is not valid JSON: {ex}") from None
    return _to_jsonata(parsed)


_SIG_PARTITION: Final = _sig("<an:a>", "partition")
_SIG_RANGE: Final = _sig("<nnn:a>", "range")
_SIG_HASH: Final = _sig("<ss:s>", "hash")
_SIG_PARSE: Final = _sig("<s-:x>", "parse")
_SIG_NOW: Final = _sig("<s?s?:s>", "now")
_SIG_MILLIS: Final = _sig("<:n>", "millis")
_SIG_RANDOM: Final = _sig("<n?:n>", "random")
_SIG_UUID: Final = _sig("<:s>", "uuid")
_SIG_SHUFFLE: Final = _sig("<a:a>", "shuffle")


def _base_frame() -> Any:
    """The frame every evaluation starts from: the library's functions plus Step Functions' own.

    Built once at import and never changed afterwards (binding is how a frame is filled).
    """
    frame = _jsonata.Jsonata.Frame(_jsonata.Jsonata.static_frame)
    frame.bind("partition", _function(_partition, _SIG_PARTITION))
    frame.bind("range", _function(_range, _SIG_RANGE))
    frame.bind("hash", _function(_hash, _SIG_HASH))
    frame.bind("parse", _function(_parse, _SIG_PARSE))
    # Not available in Step Functions: calling it fails as calling any non-function does.
    frame.bind("eval", None)
    return frame


_BASE_FRAME: Final[Any] = _base_frame()


def _scope_functions(scope: Scope) -> dict[str, Any]:
    """The functions that read the execution's clock and random source (the library's own read
    the machine's: $now, $millis, $random, and $shuffle through Python's global random)."""
    now_ms = scope.now_ms
    rng = scope.random

    def now(picture: Any = None, timezone: Any = None) -> Any:
        # ISO 8601 in UTC with milliseconds ("2024-01-02T03:04:05.678Z") unless a picture is given.
        return _Functions.datetime_from_millis(now_ms, picture, timezone)

    def millis() -> Any:
        return now_ms

    def random(seed: Any = None) -> Any:
        if seed is None:
            return rng.random()
        return Random(seed).random()

    def new_uuid() -> Any:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def shuffle(array: Any) -> Any:
        if array is None:
            return None
        result = list(array)
        rng.shuffle(result)
        return _Utils.JList(result)

    return {
        "now": _function(now, _SIG_NOW),
        "millis": _function(millis, _SIG_MILLIS),
        "random": _function(random, _SIG_RANDOM),
        "uuid": _function(new_uuid, _SIG_UUID),
        "shuffle": _function(shuffle, _SIG_SHUFFLE),
    }


# --- evaluation ----------------------------------------------------------------------------------


class _Bindings:
    """The names an expression sees, converted once and shared by every expression of a field."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._values: dict[str, Any] | None = None

    def frame(self) -> Any:
        if self._values is None:
            values = _scope_functions(self._scope)
            for name, value in self._scope.variables.items():
                values[name] = _to_jsonata(value)
            values["states"] = _to_jsonata(self._scope.states_binding())
            self._values = values
        frame = _jsonata.Jsonata.Frame(_BASE_FRAME)
        for name, value in self._values.items():
            frame.bind(name, value)
        return frame


def _evaluate(text: str, bindings: _Bindings, field: str, expect: JsonTypeName | None) -> JSON:
    body = expression_body(text)
    compiled = _compile(body) if body else _Compiled(None, "S0207: Unexpected end of expression")
    if compiled.program is None:
        raise _fail(body, field, f"threw an error during evaluation. {compiled.error}")
    program = compiled.program
    try:
        # No input document: `$` alone is undefined, as in Step Functions.
        result = program.eval(program.ast, None, bindings.frame())
    except Exception as ex:
        raise _fail(body, field, f"threw an error during evaluation. {_describe_exception(ex)}") from None
    if result is None:
        raise _fail(body, field, "returned nothing (undefined).")
    try:
        value = _from_jsonata(result)
    except _UnsupportedResultError:
        raise _fail(body, field, "returned an unsupported result type.") from None
    if expect is not None and not _has_type(value, expect):
        raise _fail(
            body,
            field,
            f"returned an unexpected result type. Expected '{expect}', but was "
            f"'{json_type_name(value)}' for value: {to_json_text(value)}",
        )
    return value


def evaluate_expression(text: str, scope: Scope, *, field: str, expect: JsonTypeName | None = None) -> JSON:
    """The value of a JSONata expression ("{% ... %}", or the bare expression) in `scope`.

    `field` names the field in error texts ("Items", "Output/error"). With `expect`, a result of
    another JSON type is an error ("Expected 'array', but was 'string' ..."), as AWS reports for
    Items and Condition. Raises EvaluationError(States.QueryEvaluationError) on failure.
    """
    return _evaluate(text, _Bindings(scope), field, expect)


def resolve_template(template: JSON, scope: Scope, *, field: str) -> JSON:
    """A payload template (Arguments, Output, Assign, ...) with its "{% %}" strings evaluated.

    Objects and arrays are walked; any string that is an expression is replaced by its value
    and everything else is copied as written (keys are never expressions). Errors name the
    place as AWS does: the field, then the keys below it ("Output/error"); array items by their
    index ("Output/list/0").
    """
    bindings = _Bindings(scope)

    def walk(node: JSON, where: str) -> JSON:
        if isinstance(node, str):
            return _evaluate(node, bindings, where, None) if is_jsonata_expression(node) else node
        if isinstance(node, dict):
            return {k: walk(v, f"{where}/{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{where}/{i}") for i, v in enumerate(node)]
        return node

    return walk(template, field)
