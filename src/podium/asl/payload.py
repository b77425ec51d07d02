"""JSONPath payload templates: Parameters, ItemSelector, ResultSelector and Assign.

A template is copied recursively; a key ending in `.$` holds a path (`$...`, `$$...`, `$var`) or
an intrinsic call (`States.Format(...)`), is evaluated against the scope, and is stored without
its `.$`. Objects inside arrays are templates too.

For Assign, AWS evaluates every expression against the data as it was before any assignment of
the same state; the caller builds the scope that way (this module only resolves).
"""

from __future__ import annotations

from typing import Final

from podium.asl.errors import EvaluationError
from podium.asl.intrinsics import evaluate_intrinsic, is_intrinsic
from podium.asl.model import JSON
from podium.asl.paths import read_path
from podium.asl.scope import Scope

RUNTIME: Final = "States.Runtime"


def evaluate_expression(text: str, scope: Scope, *, field: str) -> JSON:
    """The value of one `.$` field: a path or an intrinsic call. `field` is the key, with its `.$`."""
    if is_intrinsic(text):
        return evaluate_intrinsic(text, scope, field=field)
    if text.startswith("$"):
        return read_path(text, scope, field=field)
    # The validator rejects this; reaching it means a definition was not validated.
    message = f"The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call"
    raise EvaluationError(RUNTIME, message)


def resolve_template(template: JSON, scope: Scope) -> JSON:
    """A new value built from the template; the template itself is never shared nor changed.

    Raises EvaluationError(States.Runtime) with AWS's cause when a path does not resolve ("The
    JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{...}'") or an
    intrinsic call fails.
    """
    if isinstance(template, dict):
        out: dict[str, JSON] = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                out[key[:-2]] = evaluate_expression(value, scope, field=key)
            else:
                out[key] = resolve_template(value, scope)
        return out
    if isinstance(template, list):
        return [resolve_template(item, scope) for item in template]
    return template
