"""What an expression sees when it is evaluated: the data, the context object, the variables.

The core builds one Scope per evaluation. Nothing in it reads a clock or the OS: `now` and
`random` come from the execution (the runtime puts the time and a seed into every signal),
so that evaluating the same expression in a replay gives the same value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from random import Random
from typing import Any

from podium.asl.model import JSON

_UNSET: Any = object()


@dataclass(frozen=True)
class Scope:
    """The operands of an expression in the current state.

    - `input`: `$` of JSONPath; `$states.input` of JSONata.
    - `context`: the context object, `$$` of JSONPath; `$states.context` of JSONata.
    - `variables`: the workflow variables visible in this state (Assign), `$name` in both languages.
    - `result`, `error_output`: `$states.result` / `$states.errorOutput` of JSONata, where defined
      (use `has_result()` / `has_error_output()`: a result may be JSON null).
    - `now_ms`: the execution's clock at this step, milliseconds since the epoch.
    - `random`: the execution's deterministic random source (States.UUID, States.MathRandom,
      $random, $uuid, retry jitter).
    """

    input: JSON
    context: JSON
    variables: Mapping[str, JSON] = field(default_factory=dict)
    result: JSON = _UNSET
    error_output: JSON = _UNSET
    now_ms: int = 0
    random: Random = field(default_factory=lambda: Random(0))

    def has_result(self) -> bool:
        return self.result is not _UNSET

    def has_error_output(self) -> bool:
        return self.error_output is not _UNSET

    def states_binding(self) -> dict[str, JSON]:
        """The `$states` variable of JSONata, as AWS defines it for the current field."""
        out: dict[str, JSON] = {"input": self.input, "context": self.context}
        if self.has_result():
            out["result"] = self.result
        if self.has_error_output():
            out["errorOutput"] = self.error_output
        return out
