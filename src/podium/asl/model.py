"""The immutable model of a state machine: one frozen dataclass per concept of the language.

Names follow the Amazon States Language specification. A definition is parsed once
(`podium.asl.parser.parse_definition`) into these objects and never changes afterwards.

Conventions:
- `Template` wraps a payload template (Parameters, ItemSelector, ResultSelector, Arguments,
  Output, Assign) as written; `None` means the field is absent.
- For InputPath / OutputPath / ResultPath the default "$" is spelled out, and `None` means the
  field was given as JSON null (which has its own meaning in the spec).
- A field that may be given literally or through a path (TimeoutSeconds / TimeoutSecondsPath)
  keeps both; at most one is set. In JSONata states the literal may be a "{% ... %}" string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeAlias

JSON: TypeAlias = Any
"""A JSON value as Python holds it: dict, list, str, int, float, bool or None."""


class QueryLanguage(StrEnum):
    JSONPATH = "JSONPath"
    JSONATA = "JSONata"


class StateType(StrEnum):
    PASS = "Pass"
    TASK = "Task"
    CHOICE = "Choice"
    WAIT = "Wait"
    SUCCEED = "Succeed"
    FAIL = "Fail"
    PARALLEL = "Parallel"
    MAP = "Map"


@dataclass(frozen=True)
class Template:
    """A payload template as written in the definition (keys ending in `.$`, `{% %}` strings)."""

    value: JSON


# --- error handling --------------------------------------------------------------------------


@dataclass(frozen=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_strategy: Literal["FULL", "NONE"] = "NONE"
    comment: str | None = None


@dataclass(frozen=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"
    output: Template | None = None  # JSONata
    assign: Template | None = None
    comment: str | None = None


# --- Choice rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """A leaf rule: `Variable` compared by `operator` (e.g. StringEquals) with `value`.

    For the `...Path` operators (StringEqualsPath, ...) `operator` is the base name
    (StringEquals), `path` is True and `value` is the path to read the other operand from.
    The type tests (IsPresent, IsNull, ...) carry a boolean `value`.
    """

    variable: str
    operator: str
    value: JSON
    path: bool = False


@dataclass(frozen=True)
class And:
    rules: tuple[ChoiceRule, ...]


@dataclass(frozen=True)
class Or:
    rules: tuple[ChoiceRule, ...]


@dataclass(frozen=True)
class Not:
    rule: ChoiceRule


@dataclass(frozen=True)
class Condition:
    """A JSONata condition: `{% ... %}` text, or a literal boolean."""

    expression: JSON


ChoiceRule: TypeAlias = Comparison | And | Or | Not | Condition


@dataclass(frozen=True)
class Choice:
    """One element of a Choice state's `Choices`: a rule and where it leads."""

    rule: ChoiceRule
    next: str
    assign: Template | None = None
    output: Template | None = None  # JSONata
    comment: str | None = None


# --- states ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """Fields every state may have; each state type adds its own."""

    name: str
    type: StateType
    query_language: QueryLanguage = QueryLanguage.JSONPATH
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: str | None = "$"
    output_path: str | None = "$"
    assign: Template | None = None
    output: Template | None = None  # JSONata


@dataclass(frozen=True)
class PassState(State):
    parameters: Template | None = None
    result: Template | None = None
    result_path: str | None = "$"


@dataclass(frozen=True)
class TaskState(State):
    resource: str = ""
    parameters: Template | None = None  # JSONPath
    arguments: Template | None = None  # JSONata
    result_selector: Template | None = None
    result_path: str | None = "$"
    timeout_seconds: JSON = None  # int, or a JSONata string
    timeout_seconds_path: str | None = None
    heartbeat_seconds: JSON = None
    heartbeat_seconds_path: str | None = None
    credentials: Template | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True)
class ChoiceState(State):
    choices: tuple[Choice, ...] = ()
    default: str | None = None


@dataclass(frozen=True)
class WaitState(State):
    seconds: JSON = None  # int, or a JSONata string
    seconds_path: str | None = None
    timestamp: JSON = None  # ISO-8601 text, or a JSONata string
    timestamp_path: str | None = None


@dataclass(frozen=True)
class SucceedState(State):
    pass


@dataclass(frozen=True)
class FailState(State):
    error: JSON = None
    error_path: str | None = None
    cause: JSON = None
    cause_path: str | None = None


@dataclass(frozen=True)
class ParallelState(State):
    branches: tuple[Program, ...] = ()
    parameters: Template | None = None
    arguments: Template | None = None
    result_selector: Template | None = None
    result_path: str | None = "$"
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


@dataclass(frozen=True)
class ItemBatcher:
    max_items_per_batch: JSON = None
    max_items_per_batch_path: str | None = None
    max_input_bytes_per_batch: JSON = None
    max_input_bytes_per_batch_path: str | None = None
    batch_input: Template | None = None


@dataclass(frozen=True)
class ItemReader:
    """Where a distributed Map reads its items (S3 objects, CSV, JSON); kept as written."""

    resource: str
    reader_config: Template | None = None
    parameters: Template | None = None
    arguments: Template | None = None


@dataclass(frozen=True)
class MapState(State):
    item_processor: Program | None = None
    processor_mode: Literal["INLINE", "DISTRIBUTED"] = "INLINE"
    execution_type: Literal["STANDARD", "EXPRESS"] | None = None
    uses_iterator: bool = False  # written with the legacy `Iterator` field
    items_path: str | None = "$"
    items: JSON = None  # JSONata: an array or a "{% %}" string
    item_selector: Template | None = None
    parameters: Template | None = None  # legacy spelling of ItemSelector
    item_reader: ItemReader | None = None
    item_batcher: ItemBatcher | None = None
    result_writer: Template | None = None
    result_selector: Template | None = None
    result_path: str | None = "$"
    max_concurrency: JSON = 0
    max_concurrency_path: str | None = None
    tolerated_failure_count: JSON = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: JSON = None
    tolerated_failure_percentage_path: str | None = None
    label: str | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()


AnyState: TypeAlias = (
    PassState | TaskState | ChoiceState | WaitState | SucceedState | FailState | ParallelState | MapState
)


@dataclass(frozen=True)
class Program:
    """A set of states with a start: the top-level machine, a Parallel branch or a Map's processor."""

    start_at: str
    states: Mapping[str, AnyState]
    query_language: QueryLanguage = QueryLanguage.JSONPATH
    comment: str | None = None


@dataclass(frozen=True)
class StateMachine(Program):
    """The whole definition: a Program plus the fields allowed only at the top level."""

    timeout_seconds: int | None = None
    version: str | None = None
    source: Mapping[str, JSON] = field(default_factory=dict)  # the definition as parsed, for $$


def iter_programs(program: Program) -> list[Program]:
    """The program and every program nested in it (Parallel branches, Map processors), depth first."""
    out: list[Program] = [program]
    for state in program.states.values():
        if isinstance(state, ParallelState):
            for branch in state.branches:
                out.extend(iter_programs(branch))
        elif isinstance(state, MapState) and state.item_processor is not None:
            out.extend(iter_programs(state.item_processor))
    return out
