"""A YAML document read field by field: each problem with its dotted path and its line.

`read_document` parses the text twice, once into plain data and once into YAML's node tree,
whose marks give every field's line; `Reader`'s typed getters then record a problem and
return a default instead of raising, so that one pass over the document reports everything.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

Path_ = tuple[str | int, ...]  # a field's place in the document, e.g. ("services", "auth", "replicas")
BIG = 2**31
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class Problem:
    path: str  # dotted: services.payment-auth.health.period
    message: str
    line: int | None = None  # 1-based, in the file

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """The file cannot be used; `problems` says every reason, each at its field."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


def _index(node: yaml.Node, path: Path_, lines: dict[Path_, int], reader: Reader) -> None:
    """Record the line of every field (for the messages) and catch duplicate keys, which
    YAML loaders silently resolve to the last one."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                reader.problems.append(
                    Problem(_dotted((*path, key)), "appears twice", key_node.start_mark.line + 1)
                )
            seen.add(key)
            _index(value_node, (*path, key), lines, reader)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, reader)


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class Reader:
    """Typed getters that record a problem (and return None) instead of raising, so that one
    pass reports everything."""

    def __init__(self, lines: dict[Path_, int]) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, path: Path_, message: str) -> None:
        line = None
        for n in range(len(path), -1, -1):  # the field's own line, else its nearest parent's
            line = self.lines.get(path[:n])
            if line is not None:
                break
        self.problems.append(Problem(_dotted(path), message, line))

    def mapping(self, value: Any, path: Path_, known: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping, not {shown(value)}")
            return None
        if known is not None:
            for key in value:
                if str(key) not in known:
                    close = difflib.get_close_matches(str(key), known, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
                    self.problem((*path, str(key)), f"unknown field{hint}")
        return {str(k): v for k, v in value.items()}

    def string(self, m: dict[str, Any], key: str, path: Path_, default: str | None = None) -> str | None:
        value = m.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem((*path, key), f"must be a string, not {shown(value)}")
            return default
        return str(value)

    def required_string(self, m: dict[str, Any], key: str, path: Path_) -> str | None:
        if m.get(key) in (None, ""):
            self.problem((*path, key), "is required")
            return None
        return self.string(m, key, path)

    def integer(self, m: dict[str, Any], key: str, path: Path_, default: int, lo: int, hi: int) -> int:
        value = m.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            bound = f">= {lo}" if hi == BIG else f"between {lo} and {hi}"
            self.problem((*path, key), f"must be an integer {bound}, not {shown(value)}")
            return default
        return value

    def number(self, m: dict[str, Any], key: str, path: Path_, default: float, lo: float) -> float:
        value = m.get(key)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < lo
        ):
            self.problem((*path, key), f"must be a number >= {lo:g}, not {shown(value)}")
            return default
        return float(value)

    def duration(
        self, m: dict[str, Any], key: str, path: Path_, default: float, positive: bool = True
    ) -> float:
        value = m.get(key)
        if value is None:
            return default
        seconds: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            seconds = float(value)
        elif isinstance(value, str) and (match := _DURATION.match(value)):
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
        if seconds is None or seconds < 0 or (positive and seconds == 0):
            kind = "a positive duration" if positive else "a duration"
            self.problem(
                (*path, key), f"must be {kind} (seconds, or like 500ms, 10s, 2m), not {shown(value)}"
            )
            return default
        return seconds

    def boolean(self, m: dict[str, Any], key: str, path: Path_, default: bool) -> bool:
        value = m.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem((*path, key), f"must be true or false, not {shown(value)}")
            return default
        return value

    def choice(self, m: dict[str, Any], key: str, path: Path_, choices: tuple[str, ...], default: str) -> str:
        value = m.get(key)
        if value is None:
            return default
        if value not in choices:
            self.problem((*path, key), f"must be one of {', '.join(choices)}, not {shown(value)}")
            return default
        return str(value)

    def string_list(self, m: dict[str, Any], key: str, path: Path_) -> list[str]:
        value = m.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            self.problem((*path, key), f"must be a list of strings, not {shown(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self.problem((*path, key, i), f"must be a non-empty string, not {shown(item)}")
            else:
                out.append(item)
        return out


def shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value) if isinstance(value, str | bool) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_document(text: str, file: str) -> tuple[Any, Reader]:
    """The data of a YAML text, and a Reader that knows the line of each of its fields."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(file, [Problem("", f"not valid YAML: {reason}", line)]) from None
    lines: dict[Path_, int] = {}
    reader = Reader(lines)
    if node is not None:
        _index(node, (), lines, reader)
    return data, reader
