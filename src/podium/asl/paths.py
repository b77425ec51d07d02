"""JSONPath as Step Functions evaluates it (Jayway JsonPath semantics), plus ResultPath.

Roots: `$...` reads the state's data (`scope.input`), `$$...` the context object, `$name...` a
workflow variable. After the root: `.name`, `['name']` (several names: a union, merged into one
object when last), `[0]` / `[-1]` / `[0,2]`, `[1:3]` / `[:2]` / `[1:]`, `*` / `[*]`, deep scan
`..`, and filters `[?(@.price < 10 && @.tag == 'x')]` (==, !=, <, <=, >, >=, =~ /re/i, in, nin,
!, &&, ||, parentheses, `@` and `$` operands).

A *definite* path (single names and single indexes only) returns its value; any other returns
the list of its matches, possibly empty. A definite path that does not resolve fails with the
message Jayway produces, which AWS embeds in its cause ("No results for path: $['a']['b']",
"Missing property in path $['a']", ...). Paths are parsed once (cached); reference paths (the
common case) take a direct loop and only fall back to the full evaluator to word an error.

Bracketed names are taken as written: a backslash only stops a quote from closing the name and
is kept (AWS resolves `$['Test\\"\\"Name"']` to the key `Test\\""Name"`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal, NoReturn, TypeAlias

from podium.asl.errors import EvaluationError, StatesError
from podium.asl.jsontext import json_equal, to_json_text
from podium.asl.model import JSON
from podium.asl.scope import Scope

RUNTIME: Final = "States.Runtime"
# What AWS reports when ResultPath cannot be applied to the input (recorded output:
# error "States.ReferencePathConflict", cause "Unable to apply ReferencePath $.x to input \"s\"").
RESULT_PATH_CONFLICT: Final = "States.ReferencePathConflict"
NULL_INPUT_CAUSE: Final = "Unable to apply Path transformation to null or empty input."
_PROVIDER: Final = "com.jayway.jsonpath.spi.json.JsonSmartJsonProvider"  # named in a Jayway message

RootKind: TypeAlias = Literal["input", "context", "variable"]
_VARIABLE: Final = re.compile(r"[^\W\d]\w*")
_INTEGER: Final = re.compile(r"\s*(-?\d+)\s*")
_LITERAL: Final = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true\b|false\b|null\b")
_NAME_END: Final = frozenset(".[( \t\r\n")
_FILTER_NAME_END: Final = _NAME_END | frozenset(")<>=!&|,]~")


class JsonPathSyntaxError(ValueError):
    """The text is not a JSONPath Step Functions accepts."""


class _NotFoundError(Exception):
    """A definite path did not resolve; the message is Jayway's."""


# --- syntax ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Names:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Indexes:
    indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Slice:
    start: int | None
    stop: int | None


@dataclass(frozen=True, slots=True)
class Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class Scan:
    pass


@dataclass(frozen=True, slots=True)
class Operand:
    """A filter operand: a path from `@` (relative) or `$`, or a literal value / regex."""

    path: CompiledPath | None = None
    relative: bool = True
    value: JSON = None
    regex: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Operand
    op: str | None = None  # None: an existence test
    right: Operand | None = None


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["&&", "||", "!"]
    items: tuple[FilterExpr, ...]


FilterExpr: TypeAlias = Comparison | BoolOp


@dataclass(frozen=True, slots=True)
class Filter:
    expression: FilterExpr


Token: TypeAlias = Names | Indexes | Slice | Wildcard | Scan | Filter


def fragment(token: Token) -> str:
    """The token as Jayway prints it in its messages (`['a']`, `[0]`, `[1:3]`, `[*]`, `..`, `[?]`)."""
    if isinstance(token, Names):
        quoted = (n.replace("\\", "\\\\").replace("'", "\\'") for n in token.names)
        return "[" + ",".join(f"'{n}'" for n in quoted) + "]"
    if isinstance(token, Indexes):
        return "[" + ",".join(map(str, token.indexes)) + "]"
    if isinstance(token, Slice):
        return f"[{'' if token.start is None else token.start}:{'' if token.stop is None else token.stop}]"
    return {Wildcard: "[*]", Scan: "..", Filter: "[?]"}[type(token)]


class _Parser:
    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def fail(self, message: str) -> NoReturn:
        raise JsonPathSyntaxError(f"{message} at position {self.pos} in path {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_spaces(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def expect(self, char: str) -> None:
        self.skip_spaces()
        if self.peek() != char:
            self.fail(f"Expected '{char}'")
        self.pos += 1

    def tokens(self, in_filter: bool) -> tuple[Token, ...]:
        out: list[Token] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == ".":
                if self.text.startswith("..", self.pos):
                    self.pos += 2
                    out.append(Scan())
                    if self.peek() == "[":
                        continue
                else:
                    self.pos += 1
                if self.peek() == "":
                    self.fail("Path must not end with a '.' or '..'")
                if self.peek() == "*":
                    self.pos += 1
                    out.append(Wildcard())
                else:
                    out.append(Names((self.name(_FILTER_NAME_END if in_filter else _NAME_END),)))
            elif char == "[":
                out.append(self.bracket())
            elif in_filter:
                break
            else:
                self.fail(f"Unexpected character '{char}'")
        return tuple(out)

    def name(self, end: frozenset[str]) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in end:
            self.pos += 1
        if self.pos == start or self.peek() == "(":
            self.fail("Expected a property name")
        return self.text[start : self.pos]

    def quoted(self) -> str:
        quote = self.text[self.pos]
        start = self.pos = self.pos + 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                self.pos += 2
            elif char == quote:
                self.pos += 1
                return self.text[start : self.pos - 1]
            else:
                self.pos += 1
        self.fail("Unterminated quoted name")

    def bracket(self) -> Token:
        self.pos += 1
        self.skip_spaces()
        char = self.peek()
        if char in ("'", '"'):
            names = [self.quoted()]
            self.skip_spaces()
            while self.peek() == ",":
                self.pos += 1
                self.skip_spaces()
                if self.peek() not in ("'", '"'):
                    self.fail("Expected a quoted name")
                names.append(self.quoted())
                self.skip_spaces()
            self.expect("]")
            return Names(tuple(names))
        if char in ("*", "?"):
            self.pos += 1
            token: Token = Wildcard()
            if char == "?":
                self.expect("(")
                token = Filter(self.or_expr())
                self.expect(")")
            self.expect("]")
            return token
        end = self.text.find("]", self.pos)
        if end < 0:
            self.fail("Missing ']'")
        body, self.pos = self.text[self.pos : end], end + 1
        if ":" in body:
            parts = body.split(":")
            if len(parts) != 2:
                self.fail("Array slices take [from:to]")
            start, stop = (self.integer(p) if p.strip() else None for p in parts)
            return Slice(start, stop)
        return Indexes(tuple(self.integer(p) for p in body.split(",")))

    def integer(self, text: str) -> int:
        match = _INTEGER.fullmatch(text)
        if match is None:
            self.fail(f"Invalid array index '{text.strip()}'")
        return int(match.group(1))

    # filters: or := and ('||' and)* ; and := unary ('&&' unary)* ; unary := '!' unary | '(' or ')'
    # | operand [op operand]
    def or_expr(self) -> FilterExpr:
        return self.chain("||", self.and_expr)

    def and_expr(self) -> FilterExpr:
        return self.chain("&&", self.unary)

    def chain(self, op: Literal["&&", "||"], item: Callable[[], FilterExpr]) -> FilterExpr:
        items = [item()]
        self.skip_spaces()
        while self.text.startswith(op, self.pos):
            self.pos += 2
            items.append(item())
            self.skip_spaces()
        return items[0] if len(items) == 1 else BoolOp(op, tuple(items))

    def unary(self) -> FilterExpr:
        self.skip_spaces()
        if self.peek() == "!" and not self.text.startswith("!=", self.pos):
            self.pos += 1
            return BoolOp("!", (self.unary(),))
        if self.peek() == "(":
            self.pos += 1
            inner = self.or_expr()
            self.expect(")")
            return inner
        left = self.operand()
        self.skip_spaces()
        for op in ("==", "!=", "<=", ">=", "=~", "<", ">", "nin", "in"):
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return Comparison(left, op, self.operand())
        return Comparison(left)

    def operand(self) -> Operand:
        self.skip_spaces()
        char = self.peek()
        if char in ("@", "$"):
            self.pos += 1
            return Operand(path=_build("@", "input", "", self.tokens(True)), relative=char == "@")
        if char in ("'", '"'):
            raw = self.quoted()
            return Operand(value=re.sub(r"\\(.)", r"\1", raw))
        if char == "/":
            end = self.text.find("/", self.pos + 1)
            while end > 0 and self.text[end - 1] == "\\":
                end = self.text.find("/", end + 1)
            if end < 0:
                self.fail("Unterminated regular expression")
            pattern, self.pos = self.text[self.pos + 1 : end], end + 1
            flags = 0
            while self.peek() in ("i", "m", "s"):
                flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[self.peek()]
                self.pos += 1
            try:
                return Operand(regex=re.compile(pattern, flags))
            except re.error as exc:
                self.fail(f"Invalid regular expression: {exc}")
        if char == "[":
            self.pos += 1
            values: list[JSON] = []
            self.skip_spaces()
            while self.peek() != "]":
                values.append(self.operand().value)
                self.skip_spaces()
                if self.peek() == ",":
                    self.pos += 1
                    self.skip_spaces()
            self.pos += 1
            return Operand(value=values)
        match = _LITERAL.match(self.text, self.pos)
        if match is None:
            self.fail("Expected a filter operand")
        self.pos = match.end()
        word = match.group(0)
        constants: dict[str, JSON] = {"true": True, "false": False, "null": None}
        if word in constants:
            return Operand(value=constants[word])
        return Operand(value=float(word) if any(c in word for c in ".eE") else int(word))


# --- evaluation --------------------------------------------------------------------------------


def _java_class(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    return "net.minidev.json.JSONArray"


def _java_text(value: JSON) -> str:
    return value if isinstance(value, str) else to_json_text(value)


def _trail_text(trail: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else fragment(Names((s,))) for s in trail)


def _slice_range(token: Slice, length: int) -> range:
    # A negative bound counts from the end; both bounds are clamped to the array.
    start, stop = token.start, token.stop
    first = 0 if start is None else max(0, start + length if start < 0 else start)
    last = length if stop is None else min(length, stop + length if stop < 0 else stop)
    return range(first, last)


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A parsed path. `steps` is set for reference paths (single names and indexes only)."""

    text: str
    root: RootKind
    variable: str
    tokens: tuple[Token, ...]
    definite: bool
    steps: tuple[str | int, ...] | None

    @property
    def jayway_text(self) -> str:
        return "$" + "".join(fragment(t) for t in self.tokens)

    def evaluate(self, document: JSON) -> JSON:
        """The value (definite path) or list of matches; raises _NotFoundError as Jayway would."""
        if self.steps is not None:  # the hot path: a reference path, no error to word
            node = document
            for step in self.steps:
                if isinstance(step, str):
                    if not isinstance(node, dict) or step not in node:
                        break
                elif not isinstance(node, list) or not -len(node) <= step < len(node):
                    break
                node = node[step]
            else:
                return node
        results: list[JSON] = []
        # AWS never fails an indefinite path: whatever does not fit is skipped (`$.items[*]` on
        # `{}` is `[]`), as Jayway does with SUPPRESS_EXCEPTIONS. Definite paths raise.
        self._walk(0, document, document, (), results, strict=self.definite)
        if not self.definite:
            return results
        if not results:
            raise _NotFoundError(f"No results for path: {self.jayway_text}")
        return results[0]

    def matches(self, document: JSON, root: JSON) -> list[JSON]:
        """Every match, never raising (filter operands)."""
        results: list[JSON] = []
        self._walk(0, document, root, (), results, strict=False)
        return results

    def _walk(
        self, i: int, node: JSON, root: JSON, trail: tuple[str | int, ...], out: list[JSON], *, strict: bool
    ) -> None:
        if i == len(self.tokens):
            out.append(node)
            return
        token, leaf = self.tokens[i], i == len(self.tokens) - 1
        # `strict` (a definite path): raise Jayway's exceptions. Otherwise skip what does not fit.
        if isinstance(token, Names):
            if not isinstance(node, dict):
                if strict:
                    raise _NotFoundError(
                        f"Expected to find an object with property {fragment(token)} in path "
                        f"{_trail_text(trail)} but found '{_java_class(node)}'. This is not a json "
                        f"object according to the JsonProvider: '{_PROVIDER}'."
                    )
                return
            if leaf and len(token.names) > 1:
                out.append({name: node[name] for name in token.names if name in node})
                return
            for name in token.names:
                if name in node:
                    self._walk(i + 1, node[name], root, (*trail, name), out, strict=strict)
                elif strict and not leaf:
                    raise _NotFoundError(f"Missing property in path {_trail_text((*trail, name))}")
        elif isinstance(token, Indexes | Slice):
            if not isinstance(node, list):
                if strict and node is None:
                    raise _NotFoundError(f"The path {_trail_text(trail)} is null")
                if strict:
                    rest = "".join(fragment(t) for t in self.tokens[i:])
                    context = _java_text(node)
                    raise _NotFoundError(
                        f"Filter: {rest} can only be applied to arrays. Current context is: {context}"
                    )
                return
            indexes = token.indexes if isinstance(token, Indexes) else _slice_range(token, len(node))
            for index in indexes:
                effective = index + len(node) if index < 0 else index
                if 0 <= effective < len(node):
                    self._walk(i + 1, node[effective], root, (*trail, index), out, strict=strict)
        elif isinstance(token, Wildcard):
            if isinstance(node, dict | list):
                items = node.items() if isinstance(node, dict) else enumerate(node)
                for key, value in items:
                    self._walk(i + 1, value, root, (*trail, key), out, strict=strict)
        elif isinstance(token, Scan):
            self._scan(i + 1, node, root, trail, out)
        elif isinstance(node, dict):
            if _accept(token, node, root):
                self._walk(i + 1, node, root, trail, out, strict=strict)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if _accept(token, value, root):
                    self._walk(i + 1, value, root, (*trail, index), out, strict=strict)

    def _scan(self, i: int, node: JSON, root: JSON, trail: tuple[str | int, ...], out: list[JSON]) -> None:
        # Depth first, as Jayway: try the token after `..` on each object/array it can apply to,
        # then descend into that node's children.
        token = self.tokens[i]
        if isinstance(node, dict):
            if (
                isinstance(token, Wildcard)
                or (isinstance(token, Names) and all(n in node for n in token.names))
                or (isinstance(token, Filter) and _accept(token, node, root))
            ):
                self._walk(i, node, root, trail, out, strict=False)
            for key, value in node.items():
                self._scan(i, value, root, (*trail, key), out)
        elif isinstance(node, list):
            if isinstance(token, Wildcard | Indexes | Slice):
                self._walk(i, node, root, trail, out, strict=False)
            for index, value in enumerate(node):
                self._scan(i, value, root, (*trail, index), out)


def _operand_value(operand: Operand, candidate: JSON, root: JSON) -> tuple[bool, JSON]:
    if operand.path is None:
        return True, operand.value
    found = operand.path.matches(candidate if operand.relative else root, root)
    if operand.path.definite:
        return bool(found), found[0] if found else None
    return bool(found), found


def _test(expression: FilterExpr, candidate: JSON, root: JSON) -> bool:
    if isinstance(expression, BoolOp):
        if expression.op == "!":
            return not _test(expression.items[0], candidate, root)
        results = (_test(item, candidate, root) for item in expression.items)
        return all(results) if expression.op == "&&" else any(results)
    has_left, left = _operand_value(expression.left, candidate, root)
    if expression.op is None or expression.right is None:
        return has_left
    if expression.op == "=~":
        regex = expression.right.regex
        return has_left and isinstance(left, str) and regex is not None and regex.fullmatch(left) is not None
    has_right, right = _operand_value(expression.right, candidate, root)
    both = has_left and has_right
    if expression.op in ("==", "!="):
        return (both and json_equal(left, right)) == (expression.op == "==")
    if expression.op in ("in", "nin"):
        contained = both and isinstance(right, list) and any(json_equal(left, r) for r in right)
        return contained == (expression.op == "in")
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
    if not both or not (numbers or (isinstance(left, str) and isinstance(right, str))):
        return False
    comparisons: dict[str, Callable[[JSON, JSON], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return comparisons[expression.op](left, right)


def _accept(token: Filter, candidate: JSON, root: JSON) -> bool:
    return _test(token.expression, candidate, root)


def _build(text: str, root: RootKind, variable: str, tokens: tuple[Token, ...]) -> CompiledPath:
    last = len(tokens) - 1
    definite = [
        (isinstance(t, Names) and (len(t.names) == 1 or i == last))
        or (isinstance(t, Indexes) and len(t.indexes) == 1)
        for i, t in enumerate(tokens)
    ]
    steps: tuple[str | int, ...] | None = ()
    for t in tokens:
        if steps is not None and isinstance(t, Names) and len(t.names) == 1:
            steps = (*steps, t.names[0])
        elif steps is not None and isinstance(t, Indexes) and len(t.indexes) == 1:
            steps = (*steps, t.indexes[0])
        else:
            steps = None
    return CompiledPath(
        text=text,
        root=root,
        variable=variable,
        tokens=tokens,
        definite=all(definite),
        steps=steps,
    )


# --- public API --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def compile_path(path: str) -> CompiledPath:
    """Parse a `$`, `$$` or `$variable` path (cached). Raises JsonPathSyntaxError."""
    if path.startswith("$$"):
        root: RootKind = "context"
        variable, start = "", 2
    elif path.startswith("$"):
        match = _VARIABLE.match(path, 1)
        root = "variable" if match else "input"
        variable, start = (match.group(0), match.end()) if match else ("", 1)
    else:
        raise JsonPathSyntaxError(f"A path must start with '$': {path!r}")
    parser = _Parser(path, start)
    return _build(path, root, variable, parser.tokens(False))


def is_reference_path(path: str) -> bool:
    """A valid path naming a single node: no wildcard, filter, scan, slice or union."""
    try:
        return compile_path(path).steps is not None
    except JsonPathSyntaxError:
        return False


def _document(compiled: CompiledPath, scope: Scope) -> tuple[bool, JSON]:
    if compiled.root == "input":
        return True, scope.input
    if compiled.root == "context":
        return True, scope.context
    if compiled.variable in scope.variables:
        return True, scope.variables[compiled.variable]
    return False, None


# Fields whose failures AWS words as "The JSONPath ... specified for the field ...": template keys
# ("value.$") and the Fail state's paths. The others (InputPath, OutputPath, ItemsPath,
# TimeoutSecondsPath, ...) read "Invalid path '$.x' : <Jayway's message>".
_FIELD_WORDING: Final = frozenset({"ErrorPath", "CausePath"})


def read_path(path: str, scope: Scope, *, field: str | None = None) -> JSON:
    """Evaluate `path` in the scope; raises EvaluationError(States.Runtime) when it does not resolve.

    `field` names the field being evaluated and picks AWS's wording: for a template key ("x.$")
    or ErrorPath / CausePath, "The JSONPath '$.x' specified for the field 'x.$' could not be found
    in the input '<state input as JSON text>'"; for any other field (or none), "Invalid path '$.x'
    : No results for path: $['x']" and the other Jayway messages.
    """
    template = field is not None and (field.endswith(".$") or field in _FIELD_WORDING)
    return _read(path, scope, field or "", template=template)


def read_field_path(path: str, scope: Scope, field: str) -> JSON:
    """`read_path` with the template wording, whatever the field's name."""
    return _read(path, scope, field, template=True)


def _read(path: str, scope: Scope, field: str, *, template: bool) -> JSON:
    try:
        compiled = compile_path(path)
    except JsonPathSyntaxError as exc:
        raise EvaluationError(RUNTIME, f"Invalid path '{path}' : {exc}") from None
    present, document = _document(compiled, scope)
    if present and not compiled.tokens and not (template and document is None and compiled.root == "input"):
        return document  # a bare root; InputPath "$" passes a null input through, a null $var is null
    if not present:
        detail = f"The variable '{compiled.variable}' is not defined"
    elif document is None:
        # Jayway refuses a null document (AWS fails even a template's "$" on a null input).
        raise EvaluationError(RUNTIME, NULL_INPUT_CAUSE)
    else:
        try:
            return compiled.evaluate(document)
        except _NotFoundError as exc:
            detail = str(exc)
    if not template:
        raise EvaluationError(RUNTIME, f"Invalid path '{path}' : {detail}")
    raise EvaluationError(
        RUNTIME,
        f"The JSONPath '{path}' specified for the field '{field}' could not be found in the input "
        f"'{to_json_text(scope.input)}'",
    )


def path_exists(path: str, scope: Scope) -> bool:
    """Choice `IsPresent`: a definite path that resolves (even to null), or any match at all."""
    try:
        compiled = compile_path(path)
    except JsonPathSyntaxError:
        return False
    present, document = _document(compiled, scope)
    if not present or (document is None and compiled.tokens):
        return False
    try:
        value = compiled.evaluate(document)
    except _NotFoundError:
        return False
    return compiled.definite or bool(value)


def _shallow_copy(value: JSON) -> JSON:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def apply_result_path(result_path: str | None, state_input: JSON, result: JSON) -> JSON:
    """Combine a state's input and result as ResultPath says; `state_input` is never mutated.

    None keeps the input, "$" takes the result, "$.a.b" returns a copy of the input with a.b
    set to `result` (missing objects on the way are created). Raises ValueError for anything
    but a reference path on `$`, and StatesError(States.ReferencePathConflict), with AWS's cause,
    when the input cannot hold the result there (a string input, a number where an object is due).
    """
    if result_path is None:
        return state_input
    compiled = compile_path(result_path)
    if compiled.root != "input" or compiled.steps is None:
        raise ValueError(f"ResultPath must be a reference path on '$': {result_path!r}")
    if not compiled.steps:
        return result
    # Copy on write: only the objects and arrays along the path are copied; the rest is shared
    # with the input (JSON values are never changed in place once made), so a ResultPath
    # costs the path's length, not the input's size.
    output = _shallow_copy(state_input)
    node = output
    for position, step in enumerate(compiled.steps):
        last = position == len(compiled.steps) - 1
        if isinstance(step, str) and isinstance(node, dict):
            if last:
                node[step] = result
            else:
                child = _shallow_copy(node[step]) if step in node else {}
                node[step] = child
                node = child
        elif isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node):
            if last:
                node[step] = result
            else:
                child = _shallow_copy(node[step])
                node[step] = child
                node = child
        else:
            raise StatesError(
                RESULT_PATH_CONFLICT,
                f"Unable to apply ReferencePath {result_path} to input {to_json_text(state_input)}",
            )
    return output
