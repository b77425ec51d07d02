"""The intrinsic functions of JSONPath states (`States.Format(...)` and the other seventeen).

Grammar: `States.Name(arg, ...)`, where an argument is a string literal in single quotes (`\\'`,
`\\{`, `\\}` and `\\\\` are its only escapes), a number, `true` / `false` / `null`, a path (`$.x`,
`$$.x`, `$var`), or a nested call. Text is parsed once (cached) into a `Call`.

Behaviour follows what AWS records: States.Format renders objects and arrays the way Java prints
maps and lists (`{a=1, b=[]}`), numbers and null as JSON, strings bare; States.StringSplit splits
on every character of the delimiter and drops empty pieces; States.StringToJson of a blank string
is null; States.MathAdd / States.MathRandom round non-integers as Java's Math.round does.
Argument errors raise EvaluationError(INTRINSIC_ERROR); the interpreter adds the state prefix.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from random import Random
from typing import Final, NoReturn, TypeAlias

from podium.asl.errors import EvaluationError
from podium.asl.jsontext import from_json_text, java_double_text, json_equal, to_json_text
from podium.asl.model import JSON
from podium.asl.paths import JsonPathSyntaxError, compile_path, read_path
from podium.asl.scope import Scope

# AWS reports evaluation failures of JSONPath states as States.Runtime (as for paths).
INTRINSIC_ERROR: Final = "States.Runtime"
MAX_STRING_LENGTH: Final = 10_000  # States.Base64Encode / Base64Decode / Hash inputs
MAX_RANGE_ITEMS: Final = 1000
HASH_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
# name -> (minimum, maximum) argument count
ARITY: Final[dict[str, tuple[int, float]]] = {
    "States.Format": (1, math.inf),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, math.inf),
    "States.ArrayPartition": (2, 2),
    "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
    "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2),
    "States.UUID": (0, 0),
}
_NAME: Final = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORDS: Final[dict[str, JSON]] = {"true": True, "false": False, "null": None}


class IntrinsicSyntaxError(ValueError):
    """The text is not a valid intrinsic function call."""


@dataclass(frozen=True, slots=True)
class Literal:
    value: JSON
    # For a string: its pieces around each unescaped "{}" (States.Format's placeholders).
    pieces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PathArg:
    path: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Argument, ...]
    text: str


Argument: TypeAlias = Literal | PathArg | Call


def is_intrinsic(text: str) -> bool:
    """Is this `.$` value an intrinsic call (rather than a path)?"""
    return text.startswith("States.")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> NoReturn:
        raise IntrinsicSyntaxError(f"{message} at position {self.pos} in {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def call(self) -> Call:
        start = self.pos
        match = _NAME.match(self.text, self.pos)
        if match is None:
            self.fail("Expected an intrinsic function name")
        name = match.group(0)
        if name not in ARITY:
            self.fail(f"Unknown intrinsic function '{name}'")
        self.pos = match.end()
        self.skip_spaces()
        if self.peek() != "(":
            self.fail(f"Expected '(' after {name}")
        self.pos += 1
        args: list[Argument] = []
        self.skip_spaces()
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                args.append(self.argument())
                self.skip_spaces()
                char = self.peek()
                self.pos += 1
                if char == ")":
                    break
                if char != ",":
                    self.pos -= 1
                    self.fail("Expected ',' or ')'")
        low, high = ARITY[name]
        if not low <= len(args) <= high:
            if low == high:
                expected, plural = f"{low} argument", low != 1
            elif high == math.inf:
                expected, plural = f"at least {low} argument", low != 1
            else:
                expected, plural = f"{low} or {high:.0f} argument", True
            self.fail(f"{name} takes {expected}{'s' if plural else ''}, not {len(args)}")
        return Call(name, tuple(args), self.text[start : self.pos])

    def argument(self) -> Argument:
        self.skip_spaces()
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            self.pos = number.end()
            word = number.group(0)
            return Literal(float(word) if any(c in word for c in ".eE") else int(word))
        for word, value in _WORDS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Literal(value)
        self.fail("Expected an argument")

    def string(self) -> Literal:
        self.pos += 1
        pieces: list[str] = []
        current: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == "'":
                pieces.append("".join(current))
                return Literal("{}".join(pieces), tuple(pieces))
            if char == "\\":
                escaped = self.peek()
                if escaped not in ("'", "{", "}", "\\") or escaped == "":
                    self.fail("Invalid escape in a string literal (only \\', \\{, \\} and \\\\)")
                current.append(escaped)
                self.pos += 1
            elif char == "{" and self.peek() == "}":
                pieces.append("".join(current))  # a placeholder: only unescaped braces count
                current = []
                self.pos += 1
            else:
                current.append(char)
        self.fail("Unterminated string literal")

    def path(self) -> PathArg:
        # A path runs to the next ',' or ')' outside brackets and quotes (filters nest both).
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in ("'", '"') and depth:
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])" and depth:
                depth -= 1
            elif not depth and (char in ",)" or char.isspace()):
                break
            self.pos += 1
        text = self.text[start : self.pos]
        try:
            compile_path(text)
        except JsonPathSyntaxError as exc:
            self.fail(f"Invalid path argument: {exc}")
        return PathArg(text)


@lru_cache(maxsize=2048)
def parse_intrinsic(text: str) -> Call:
    """Parse an intrinsic call; raises IntrinsicSyntaxError (a ValueError) with a readable message."""
    parser = _Parser(text)
    call = parser.call()
    parser.skip_spaces()
    if parser.pos != len(text):
        parser.fail("Unexpected text after the call")
    return call


def iter_paths(call: Call) -> Iterator[str]:
    """Every path argument of the call and its nested calls (for the validator)."""
    for arg in call.args:
        if isinstance(arg, PathArg):
            yield arg.path
        elif isinstance(arg, Call):
            yield from iter_paths(arg)


# --- evaluation --------------------------------------------------------------------------------


class _InvalidArgumentError(Exception):
    """An argument was rejected; the message says why."""


def _fail(message: str) -> NoReturn:
    raise _InvalidArgumentError(message)


def java_string(value: JSON) -> str:
    """A value as Java's toString prints it (States.Format): `{a=1, b=[x, null]}`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(java_string(v) for v in value) + "]"
    if isinstance(value, float):
        return java_double_text(value)
    return to_json_text(value)


def _string(value: JSON, what: str) -> str:
    return value if isinstance(value, str) else _fail(f"{what} must be a string, not {to_json_text(value)}")


def _array(value: JSON, what: str = "The first argument") -> list[JSON]:
    return value if isinstance(value, list) else _fail(f"{what} must be an array, not {to_json_text(value)}")


def _number(value: JSON, what: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(f"{what} must be a number, not {to_json_text(value)}")
    return value


def _integer(value: JSON, what: str) -> int:
    number = _number(value, what)
    if isinstance(number, float) and not number.is_integer():
        _fail(f"{what} must be an integer, not {to_json_text(value)}")
    return int(number)


def _java_round(value: JSON, what: str) -> int:
    # Math.round: half rounds up (towards +inf), so -1.5 -> -1 and 1.5 -> 2.
    number = _number(value, what)
    if isinstance(number, int):
        return number
    floor = math.floor(number)
    return floor + 1 if number - floor >= 0.5 else floor


def _format(call: Call, args: list[JSON]) -> str:
    template = call.args[0]
    if isinstance(template, Literal) and isinstance(template.value, str):
        pieces = list(template.pieces)
    else:
        pieces = _string(args[0], "The format string").split("{}")
    if len(pieces) - 1 != len(args) - 1:
        _fail(f"the format string has {len(pieces) - 1} placeholders for {len(args) - 1} arguments")
    out = [pieces[0]]
    for value, piece in zip(args[1:], pieces[1:], strict=True):
        out += [java_string(value), piece]
    return "".join(out)


def _string_to_json(text: JSON) -> JSON:
    text = _string(text, "The argument")
    if not text.strip():
        return None
    try:
        return from_json_text(text)
    except ValueError:
        _fail(f"the string is not valid JSON: {text}")


def _partition(array: JSON, size: JSON) -> list[JSON]:
    items, chunk = _array(array), _integer(size, "The chunk size")
    if chunk <= 0:
        _fail("the chunk size must be a positive integer")
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def _range(first: JSON, last: JSON, step: JSON) -> list[JSON]:
    start, end, increment = (_integer(v, "Every argument") for v in (first, last, step))
    if increment == 0:
        _fail("the step must not be 0")
    values = range(start, end + (1 if increment > 0 else -1), increment)
    if len(values) > MAX_RANGE_ITEMS:
        _fail(f"the array would have {len(values)} items, more than {MAX_RANGE_ITEMS}")
    return list(values)


def _get_item(array: JSON, index: JSON) -> JSON:
    items, position = _array(array), _integer(index, "The index")
    if not 0 <= position < len(items):
        _fail(f"the index {position} is out of bounds for an array of {len(items)} items")
    return items[position]


def _unique(array: JSON) -> list[JSON]:
    out: list[JSON] = []
    for item in _array(array):
        if not any(json_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _bounded(value: JSON, what: str) -> str:
    text = _string(value, what)
    if len(text) > MAX_STRING_LENGTH:
        _fail(f"{what} is longer than {MAX_STRING_LENGTH} characters")
    return text


def _base64_decode(value: JSON) -> str:
    try:
        return base64.b64decode(_bounded(value, "The argument"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        _fail("the argument is not valid base64 text of UTF-8 data")


def _hash(data: JSON, algorithm: JSON) -> str:
    name = HASH_ALGORITHMS.get(_string(algorithm, "The algorithm"))
    if name is None:
        _fail(f"the algorithm must be one of {', '.join(HASH_ALGORITHMS)}, not {algorithm}")
    text = data if isinstance(data, str) else to_json_text(data)
    return hashlib.new(name, _bounded(text, "The data").encode("utf-8")).hexdigest()


def _merge(left: JSON, right: JSON, deep: JSON) -> JSON:
    if not isinstance(left, dict) or not isinstance(right, dict):
        _fail("the first two arguments must be JSON objects")
    if not isinstance(deep, bool):
        _fail("the third argument must be a boolean")
    if deep:
        _fail("deep merging is not supported; the third argument must be false")
    return {**left, **right}


def _random(scope: Scope, args: list[JSON]) -> int:
    start, end = _java_round(args[0], "The start"), _java_round(args[1], "The end")
    if start >= end:
        _fail(f"the start ({start}) must be less than the end ({end})")
    source = Random(_integer(args[2], "The seed")) if len(args) == 3 else scope.random
    return source.randrange(start, end)  # start inclusive, end exclusive


def _split(text: JSON, delimiters: JSON) -> list[JSON]:
    # java.util.StringTokenizer: every character of the delimiter splits; empty tokens vanish.
    value, chars = _string(text, "The first argument"), _string(delimiters, "The delimiter")
    if not chars:
        return [value] if value else []
    tokens = re.split("[" + re.escape(chars) + "]", value)
    return [token for token in tokens if token]


_SIMPLE: Final[dict[str, Callable[..., JSON]]] = {
    "States.StringToJson": _string_to_json,
    "States.JsonToString": to_json_text,
    "States.Array": lambda *values: list(values),
    "States.ArrayPartition": _partition,
    "States.ArrayContains": lambda array, value: any(json_equal(value, item) for item in _array(array)),
    "States.ArrayRange": _range,
    "States.ArrayGetItem": _get_item,
    "States.ArrayLength": lambda array: len(_array(array, "The argument")),
    "States.ArrayUnique": _unique,
    "States.Base64Encode": lambda value: base64.b64encode(_bounded(value, "The argument").encode()).decode(),
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _merge,
    "States.MathAdd": lambda a, b: (
        _java_round(a, "The first argument") + _java_round(b, "The second argument")
    ),
    "States.StringSplit": _split,
}


def _evaluate(call: Call, scope: Scope, field: str | None) -> JSON:
    args = [
        arg.value
        if isinstance(arg, Literal)
        else read_path(arg.path, scope, field=field)
        if isinstance(arg, PathArg)
        else _evaluate(arg, scope, field)
        for arg in call.args
    ]
    try:
        if call.name == "States.Format":
            return _format(call, args)
        if call.name == "States.MathRandom":
            return _random(scope, args)
        if call.name == "States.UUID":
            return str(uuid.UUID(int=scope.random.getrandbits(128), version=4))
        return _SIMPLE[call.name](*args)
    except _InvalidArgumentError as exc:
        raise EvaluationError(INTRINSIC_ERROR, f"Invalid arguments in {call.name}: {exc}") from None


def evaluate_intrinsic(text: str, scope: Scope, *, field: str | None = None) -> JSON:
    """Evaluate an intrinsic call against the scope. `field` (the template key, e.g. "x.$") words
    the error of a path argument that does not resolve, as for a plain path in that field."""
    try:
        call = parse_intrinsic(text)
    except IntrinsicSyntaxError as exc:
        raise EvaluationError(INTRINSIC_ERROR, str(exc)) from None
    return _evaluate(call, scope, field)
