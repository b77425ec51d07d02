"""Definition text (JSON or YAML) or a decoded mapping -> the immutable model of `podium.asl.model`.

    machine = parse_definition(text)        # raises DefinitionError listing every problem

The definition is validated first (`podium.asl.validation`), so the builders below can rely on
its shape: every field they read has the type the schema asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, cast

from podium.asl.errors import DefinitionError, Diagnostic
from podium.asl.model import (
    JSON,
    And,
    AnyState,
    Catcher,
    Choice,
    ChoiceRule,
    ChoiceState,
    Comparison,
    Condition,
    FailState,
    ItemBatcher,
    ItemReader,
    MapState,
    Not,
    Or,
    ParallelState,
    PassState,
    Program,
    QueryLanguage,
    Retrier,
    StateMachine,
    StateType,
    SucceedState,
    TaskState,
    Template,
    WaitState,
)
from podium.asl.schema import OPERATORS
from podium.asl.validation import (
    MISSING_END,
    MISSING_TARGET,
    check_definition,
    decode_definition,
    too_deep,
    validate_definition,
)

__all__ = ["parse_definition", "parse_state", "validate_definition"]

_Obj = Mapping[str, JSON]


def parse_definition(source: str | bytes | Mapping[str, Any]) -> StateMachine:
    """The state machine of a definition: JSON text, YAML text, or an already-decoded mapping.

    Raises DefinitionError (and nothing else) with every problem found when Step Functions would
    refuse the definition.
    """
    decoded = decode_definition(source)
    if decoded.definition is None:
        raise DefinitionError(decoded.diagnostics)
    definition = decoded.definition
    diagnostics = check_definition(definition, decoded.duplicates)
    if diagnostics:
        raise DefinitionError(diagnostics)
    top = QueryLanguage(definition.get("QueryLanguage", QueryLanguage.JSONPATH))
    try:
        states = _states(definition["States"], top)
    except RecursionError:  # programs nested deeper than the builders' recursion can follow
        raise DefinitionError([too_deep()]) from None
    return StateMachine(
        start_at=definition["StartAt"],
        states=states,
        query_language=top,
        comment=definition.get("Comment"),
        timeout_seconds=_int_or_none(definition.get("TimeoutSeconds")),
        version=definition.get("Version"),
        source=definition,
    )


def parse_state(source: str | bytes | Mapping[str, Any], name: str) -> AnyState:
    """One state on its own (TestState's `definition` without `stateName`), named `name`.

    It is checked as the only state of a machine, but its transitions lead out of the
    definition: a Next, Default or Catch target that is not there, and the absence of a
    terminal state, are not problems of a state alone. Diagnostics point into the state itself
    (`/Type`, not `/States/<name>/Type`). Raises DefinitionError as `parse_definition` does.
    """
    decoded = decode_definition(source)
    if decoded.definition is None:
        raise DefinitionError(decoded.diagnostics)
    state = decoded.definition
    prefix = f"/States/{name.replace('~', '~0').replace('/', '~1')}"
    machine = {"StartAt": name, "States": {name: state}}
    diagnostics = [
        Diagnostic(d.code, d.message, _within(d.location, prefix))
        for d in check_definition(machine, decoded.duplicates)
        if not _leads_out(d, prefix)
    ]
    if diagnostics:
        raise DefinitionError(diagnostics)
    try:
        return _state(name, state, QueryLanguage.JSONPATH)
    except RecursionError:
        raise DefinitionError([too_deep()]) from None


def _within(location: str, prefix: str) -> str:
    """A pointer into the wrapping machine as a pointer into the state ("/" for the state itself)."""
    if location == prefix or location.startswith(prefix + "/"):
        return location[len(prefix) :] or "/"
    return location


def _leads_out(diagnostic: Diagnostic, prefix: str) -> bool:
    """A transition of the state itself to a state the definition does not hold."""
    if diagnostic.code == MISSING_END:
        return True
    if diagnostic.code != MISSING_TARGET or not diagnostic.location.startswith(prefix + "/"):
        return False
    rest = diagnostic.location[len(prefix) :].split("/")
    return rest in (["", "Next"], ["", "Default"]) or (
        len(rest) == 4 and rest[1] in ("Choices", "Catch") and rest[3] == "Next"
    )


def _int_or_none(value: JSON) -> int | None:
    return None if value is None else int(value)


def _template(obj: _Obj, key: str) -> Template | None:
    return Template(obj[key]) if key in obj else None


def _states(states: _Obj, top: QueryLanguage) -> Mapping[str, AnyState]:
    return MappingProxyType({name: _state(name, state, top) for name, state in states.items()})


def _program(obj: _Obj, top: QueryLanguage) -> Program:
    # States in a branch or processor take the machine's language, not the enclosing state's.
    return Program(
        start_at=obj["StartAt"],
        states=_states(obj["States"], top),
        query_language=top,
        comment=obj.get("Comment"),
    )


def _state(name: str, obj: _Obj, top: QueryLanguage) -> AnyState:
    kind = StateType(obj["Type"])
    common: dict[str, Any] = {
        "name": name,
        "type": kind,
        "query_language": QueryLanguage(obj["QueryLanguage"]) if "QueryLanguage" in obj else top,
        "comment": obj.get("Comment"),
        "next": obj.get("Next"),
        "end": obj.get("End") is True,
        # absent -> "$"; JSON null -> None, which the spec gives its own meaning
        "input_path": obj.get("InputPath", "$"),
        "output_path": obj.get("OutputPath", "$"),
        "assign": _template(obj, "Assign"),
        "output": _template(obj, "Output"),
    }
    return _BUILDERS[kind](obj, common, top)


def _pass(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    return PassState(
        **common,
        parameters=_template(obj, "Parameters"),
        result=_template(obj, "Result"),  # `"Result": null` is a result too
        result_path=obj.get("ResultPath", "$"),
    )


def _task(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    return TaskState(
        **common,
        resource=obj["Resource"],
        parameters=_template(obj, "Parameters"),
        arguments=_template(obj, "Arguments"),
        result_selector=_template(obj, "ResultSelector"),
        result_path=obj.get("ResultPath", "$"),
        timeout_seconds=obj.get("TimeoutSeconds"),
        timeout_seconds_path=obj.get("TimeoutSecondsPath"),
        heartbeat_seconds=obj.get("HeartbeatSeconds"),
        heartbeat_seconds_path=obj.get("HeartbeatSecondsPath"),
        credentials=_template(obj, "Credentials"),
        retry=_retry(obj),
        catch=_catch(obj),
    )


def _choice(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    return ChoiceState(
        **common,
        choices=tuple(
            Choice(
                rule=_rule(rule),
                next=rule["Next"],
                assign=_template(rule, "Assign"),
                output=_template(rule, "Output"),
                comment=rule.get("Comment"),
            )
            for rule in obj["Choices"]
        ),
        default=obj.get("Default"),
    )


def _rule(rule: _Obj) -> ChoiceRule:
    if "Condition" in rule:
        return Condition(rule["Condition"])
    if "And" in rule:
        return And(tuple(_rule(r) for r in rule["And"]))
    if "Or" in rule:
        return Or(tuple(_rule(r) for r in rule["Or"]))
    if "Not" in rule:
        return Not(_rule(rule["Not"]))
    for key, value in rule.items():
        found = OPERATORS.get(key)
        if found is not None:
            return Comparison(variable=rule["Variable"], operator=found[0], value=value, path=found[1])
    raise AssertionError("validated rule without an operator")  # pragma: no cover


def _wait(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    return WaitState(
        **common,
        seconds=obj.get("Seconds"),
        seconds_path=obj.get("SecondsPath"),
        timestamp=obj.get("Timestamp"),
        timestamp_path=obj.get("TimestampPath"),
    )


def _succeed(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    return SucceedState(**common)


def _fail(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    return FailState(
        **common,
        error=obj.get("Error"),
        error_path=obj.get("ErrorPath"),
        cause=obj.get("Cause"),
        cause_path=obj.get("CausePath"),
    )


def _parallel(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    return ParallelState(
        **common,
        branches=tuple(_program(branch, top) for branch in obj["Branches"]),
        parameters=_template(obj, "Parameters"),
        arguments=_template(obj, "Arguments"),
        result_selector=_template(obj, "ResultSelector"),
        result_path=obj.get("ResultPath", "$"),
        retry=_retry(obj),
        catch=_catch(obj),
    )


def _map(obj: _Obj, common: dict[str, Any], top: QueryLanguage) -> AnyState:
    uses_iterator = "Iterator" in obj
    processor = obj["Iterator" if uses_iterator else "ItemProcessor"]
    config = processor.get("ProcessorConfig", {})
    reader = obj.get("ItemReader")
    batcher = obj.get("ItemBatcher")
    return MapState(
        **common,
        item_processor=_program(processor, top),
        processor_mode=cast(Literal["INLINE", "DISTRIBUTED"], config.get("Mode", "INLINE")),
        execution_type=cast(Literal["STANDARD", "EXPRESS"] | None, config.get("ExecutionType")),
        uses_iterator=uses_iterator,
        items_path=obj.get("ItemsPath", "$"),
        items=obj.get("Items"),
        item_selector=_template(obj, "ItemSelector"),
        parameters=_template(obj, "Parameters"),
        item_reader=None
        if reader is None
        else ItemReader(
            resource=reader["Resource"],
            reader_config=_template(reader, "ReaderConfig"),
            parameters=_template(reader, "Parameters"),
            arguments=_template(reader, "Arguments"),
        ),
        item_batcher=None
        if batcher is None
        else ItemBatcher(
            max_items_per_batch=batcher.get("MaxItemsPerBatch"),
            max_items_per_batch_path=batcher.get("MaxItemsPerBatchPath"),
            max_input_bytes_per_batch=batcher.get("MaxInputBytesPerBatch"),
            max_input_bytes_per_batch_path=batcher.get("MaxInputBytesPerBatchPath"),
            batch_input=_template(batcher, "BatchInput"),
        ),
        result_writer=_template(obj, "ResultWriter"),
        result_selector=_template(obj, "ResultSelector"),
        result_path=obj.get("ResultPath", "$"),
        max_concurrency=obj.get("MaxConcurrency", 0),
        max_concurrency_path=obj.get("MaxConcurrencyPath"),
        tolerated_failure_count=obj.get("ToleratedFailureCount"),
        tolerated_failure_count_path=obj.get("ToleratedFailureCountPath"),
        tolerated_failure_percentage=obj.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=obj.get("ToleratedFailurePercentagePath"),
        label=obj.get("Label"),
        retry=_retry(obj),
        catch=_catch(obj),
    )


def _retry(obj: _Obj) -> tuple[Retrier, ...]:
    return tuple(
        Retrier(
            error_equals=tuple(r["ErrorEquals"]),
            interval_seconds=r.get("IntervalSeconds", 1),
            max_attempts=int(r.get("MaxAttempts", 3)),
            backoff_rate=float(r.get("BackoffRate", 2.0)),
            max_delay_seconds=r.get("MaxDelaySeconds"),
            jitter_strategy=r.get("JitterStrategy", "NONE"),
            comment=r.get("Comment"),
        )
        for r in obj.get("Retry", ())
    )


def _catch(obj: _Obj) -> tuple[Catcher, ...]:
    return tuple(
        Catcher(
            error_equals=tuple(c["ErrorEquals"]),
            next=c["Next"],
            result_path=c.get("ResultPath", "$"),
            output=_template(c, "Output"),
            assign=_template(c, "Assign"),
            comment=c.get("Comment"),
        )
        for c in obj.get("Catch", ())
    )


_BUILDERS = {
    StateType.PASS: _pass,
    StateType.TASK: _task,
    StateType.CHOICE: _choice,
    StateType.WAIT: _wait,
    StateType.SUCCEED: _succeed,
    StateType.FAIL: _fail,
    StateType.PARALLEL: _parallel,
    StateType.MAP: _map,
}
