"""JSON text as Step Functions prints it.

AWS is a Java service (Jackson): its JSON text is compact (`{"a":1,"b":[2]}`), keeps non-ASCII
characters as they are, and prints doubles with `Double.toString`. Python and Java agree on the
shortest round-trip digits of a double, but not on the notation: Java switches to scientific
notation outside [1e-3, 1e7) and writes it as `1.0E20` / `1.5E-5`, where Python writes `1e+20` /
`1.5e-05` (and `12345678.0` for what Java prints as `1.2345678E7`). Integral doubles keep their
`.0` in both (`1.0`), as Jackson keeps a parsed `1.0` a double.

These texts end up inside history events, error causes and intrinsic results
(`States.JsonToString`), so they must match byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from podium.asl.model import JSON

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

# Exact pass: strings are matched (and kept) so that digits inside them are never touched.
_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')


def java_double_text(value: float) -> str:
    """`Double.toString(value)` for a finite double (digits from Python's shortest repr)."""
    if value == 0.0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        return repr(value)  # Python also uses plain notation here, with the same digits
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    scientific_exponent = len(digits) + exponent - 1
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{scientific_exponent}"


def _java_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if token[0] == '"' or not any(c in token for c in ".eE"):
        return token  # a string, or an integer (Python ints never print a '.' or an exponent)
    return java_double_text(float(token))


def to_json_text(value: JSON) -> str:
    """The compact JSON text of `value`, as AWS prints it. Raises ValueError for NaN/Infinity."""
    text = _ENCODER.encode(value)
    # Python writes every float with a '.' or a signed exponent (1e+20, 1.5e-05): a text with
    # neither holds no float, and substring tests run at C speed. Past them, the value itself
    # says whether a float Java writes otherwise is in it: walking a payload's few dozen nodes
    # costs a microsecond, where a regular expression over its text (task tokens, URLs: dots
    # everywhere) cost 20-50.
    if "." not in text and "e+" not in text and "e-" not in text:
        return text
    if not _holds_java_notation(value):
        return text
    return _TOKENS.sub(_java_token, text)


def _holds_java_notation(value: object) -> bool:
    """Whether `value` holds a float Java writes in scientific notation and Python does not (or
    not alike): a magnitude outside Java's plain range [1e-3, 1e7), zero excepted."""
    if isinstance(value, float):
        magnitude = abs(value)
        return magnitude != 0.0 and not 1e-3 <= magnitude < 1e7
    if isinstance(value, dict):
        items: Iterable[object] = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        return False  # a string, an integer, true, false or null
    for item in items:  # noqa: SIM110 (a loop, not any(): no generator object per node walked)
        if not isinstance(item, str) and _holds_java_notation(item):
            return True
    return False


def _reject_constant(name: str) -> JSON:
    raise ValueError(f"Invalid JSON number: {name}")


def from_json_text(text: str) -> JSON:
    """Parse JSON text (strict JSON: NaN and Infinity are rejected). Raises ValueError."""
    return json.loads(text, parse_constant=_reject_constant)


def json_equal(left: JSON, right: JSON) -> bool:
    """Equality of JSON values as a JSON document sees them: `true` is not `1`, `1` equals `1.0`."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(v, right[k]) for k, v in left.items())
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right
