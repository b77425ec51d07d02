"""parse_definition: a definition in, the immutable model out; or DefinitionError, and nothing else."""

from __future__ import annotations

import glob
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium.asl.errors import DefinitionError
from podium.asl.model import (
    And,
    Catcher,
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
    QueryLanguage,
    Retrier,
    StateMachine,
    StateType,
    SucceedState,
    TaskState,
    Template,
    WaitState,
    iter_programs,
)
from podium.asl.parser import parse_definition, parse_state
from podium.asl.schema import ALLOWED_FIELDS, OPERATORS

CORPUS = sorted(glob.glob("/work/shared/conformance/asl/cases/*.json"))


def one(state: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": state}, **top}


# --- the sources ---------------------------------------------------------------------------------

DEFINITION = {
    "Comment": "greets",
    "StartAt": "Hello",
    "TimeoutSeconds": 60,
    "Version": "1.0",
    "States": {"Hello": {"Type": "Pass", "Result": "hi", "Next": "Done"}, "Done": {"Type": "Succeed"}},
}
YAML = """
Comment: greets
StartAt: Hello
TimeoutSeconds: 60
Version: "1.0"
States:
  Hello:
    Type: Pass
    Result: hi
    Next: Done
  Done:
    Type: Succeed
"""


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(json.dumps(DEFINITION), id="JSON text"),
        pytest.param(json.dumps(DEFINITION).encode(), id="JSON bytes"),
        pytest.param(b"\xef\xbb\xbf" + json.dumps(DEFINITION).encode(), id="JSON bytes with a BOM"),
        pytest.param(YAML, id="YAML text"),
        pytest.param(DEFINITION, id="a mapping"),
    ],
)
def test_every_source_gives_the_same_machine(source: Any) -> None:
    machine = parse_definition(source)
    assert machine == StateMachine(
        start_at="Hello",
        states={
            "Hello": PassState(name="Hello", type=StateType.PASS, next="Done", result=Template("hi")),
            "Done": SucceedState(name="Done", type=StateType.SUCCEED),
        },
        comment="greets",
        timeout_seconds=60,
        version="1.0",
        source=DEFINITION,
    )


def test_the_machine_keeps_its_own_copy_of_a_mapping() -> None:
    definition = json.loads(json.dumps(DEFINITION))
    machine = parse_definition(definition)
    definition["States"]["Hello"]["Result"] = "changed"
    assert machine.states["Hello"].result == Template("hi")  # type: ignore[union-attr]
    assert machine.source == DEFINITION


def test_yaml_timestamps_and_yes_no_stay_strings() -> None:
    machine = parse_definition(
        "StartAt: W\nStates:\n  W:\n    Type: Wait\n    Timestamp: 2016-03-14T01:59:00Z\n    Next: No\n"
        "  No:\n    Type: Pass\n    Result: {answer: yes}\n    End: true\n"
    )
    assert machine.states["W"] == WaitState(
        name="W", type=StateType.WAIT, next="No", timestamp="2016-03-14T01:59:00Z"
    )
    assert machine.states["No"].result == Template({"answer": "yes"})  # type: ignore[union-attr]


# --- the states ----------------------------------------------------------------------------------


def test_paths_default_to_dollar_and_null_is_kept_as_none() -> None:
    machine = parse_definition(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Pass", "InputPath": None, "OutputPath": None, "ResultPath": None, "End": True},
            },
        }
    )
    a, b = machine.states["A"], machine.states["B"]
    assert isinstance(a, PassState) and isinstance(b, PassState)
    assert (a.input_path, a.output_path, a.result_path) == ("$", "$", "$")
    assert (b.input_path, b.output_path, b.result_path) == (None, None, None)


def test_pass_result_may_be_null() -> None:
    state = parse_definition(one({"Type": "Pass", "Result": None, "End": True})).states["S"]
    assert isinstance(state, PassState) and state.result == Template(None)


def test_task() -> None:
    definition = one(
        {
            "Type": "Task",
            "Comment": "calls",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "ResultSelector": {"body.$": "$.Payload"},
            "ResultPath": "$.out",
            "TimeoutSecondsPath": "$.timeout",
            "HeartbeatSeconds": 5,
            "Credentials": {"RoleArn": "arn:aws:iam::1:role/r"},
            "Assign": {"last.$": "$.Payload"},
            "Retry": [
                {"ErrorEquals": ["States.Timeout"]},
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 0,
                    "MaxAttempts": 5,
                    "BackoffRate": 1,
                    "MaxDelaySeconds": 30,
                    "JitterStrategy": "FULL",
                    "Comment": "c",
                },
            ],
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "Next": "S", "ResultPath": "$.error", "Assign": {"e": 1}}
            ],
            "End": True,
        }
    )
    assert parse_definition(definition).states["S"] == TaskState(
        name="S",
        type=StateType.TASK,
        comment="calls",
        end=True,
        assign=Template({"last.$": "$.Payload"}),
        resource="arn:aws:states:::lambda:invoke",
        parameters=Template({"FunctionName": "f", "Payload.$": "$"}),
        result_selector=Template({"body.$": "$.Payload"}),
        result_path="$.out",
        timeout_seconds_path="$.timeout",
        heartbeat_seconds=5,
        credentials=Template({"RoleArn": "arn:aws:iam::1:role/r"}),
        retry=(
            Retrier(error_equals=("States.Timeout",)),
            Retrier(
                ("States.ALL",),
                interval_seconds=0,
                max_attempts=5,
                backoff_rate=1.0,
                max_delay_seconds=30,
                jitter_strategy="FULL",
                comment="c",
            ),
        ),
        catch=(Catcher(("States.ALL",), next="S", result_path="$.error", assign=Template({"e": 1})),),
    )


def test_jsonata_task() -> None:
    definition = one(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
            "Output": "{% $states.result.Payload %}",
            "TimeoutSeconds": "{% $timeout %}",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "S", "Output": "{% $states.errorOutput %}"}],
            "End": True,
        },
        QueryLanguage="JSONata",
    )
    state = parse_definition(definition).states["S"]
    assert isinstance(state, TaskState)
    assert state.query_language == QueryLanguage.JSONATA
    assert state.arguments == Template({"FunctionName": "f", "Payload": "{% $states.input %}"})
    assert state.output == Template("{% $states.result.Payload %}")
    assert state.timeout_seconds == "{% $timeout %}"
    assert state.catch[0].output == Template("{% $states.errorOutput %}")


def test_choice_rules() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.a", "StringEquals": "x", "Next": "D", "Comment": "first"},
                    {"Variable": "$.a", "NumericLessThanEqualsPath": "$.limit", "Next": "D"},
                    {"Variable": "$.a", "IsPresent": False, "Next": "D", "Assign": {"seen": True}},
                    {
                        "And": [
                            {"Variable": "$.b", "BooleanEqualsPath": "$.c"},
                            {"Or": [{"Variable": "$.t", "TimestampGreaterThan": "2016-03-14T01:59:00Z"}]},
                            {"Not": {"Variable": "$.s", "StringMatches": "*.log"}},
                        ],
                        "Next": "D",
                    },
                ],
                "Default": "D",
            },
            "D": {"Type": "Succeed"},
        },
    }
    state = parse_definition(definition).states["C"]
    assert isinstance(state, ChoiceState)
    assert state.default == "D"
    assert [c.rule for c in state.choices] == [
        Comparison("$.a", "StringEquals", "x"),
        Comparison("$.a", "NumericLessThanEquals", "$.limit", path=True),
        Comparison("$.a", "IsPresent", False),
        And(
            (
                Comparison("$.b", "BooleanEquals", "$.c", path=True),
                Or((Comparison("$.t", "TimestampGreaterThan", "2016-03-14T01:59:00Z"),)),
                Not(Comparison("$.s", "StringMatches", "*.log")),
            )
        ),
    ]
    assert state.choices[0].comment == "first"
    assert state.choices[2].assign == Template({"seen": True})


def _operand(operator: str) -> Any:
    if operator.endswith("Path"):
        return "$.other"
    if operator.startswith("Numeric"):
        return 1
    if operator.startswith(("Boolean", "Is")):
        return True
    return "2016-03-14T01:59:00Z"  # both a string and a timestamp


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_every_operator_becomes_a_comparison_on_its_base_name(operator: str) -> None:
    value = _operand(operator)
    rule = {"Variable": "$.v", operator: value, "Next": "D"}
    definition = {
        "StartAt": "C",
        "States": {"C": {"Type": "Choice", "Choices": [rule], "Default": "D"}, "D": {"Type": "Succeed"}},
    }
    state = parse_definition(definition).states["C"]
    assert isinstance(state, ChoiceState)
    is_path = operator.endswith("Path")
    assert state.choices[0].rule == Comparison(
        "$.v", operator.removesuffix("Path") if is_path else operator, value, is_path
    )


def test_jsonata_choice() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.n > 1 %}", "Next": "D", "Output": {"big": True}}],
                "Default": "D",
            },
            "D": {"Type": "Succeed"},
        },
    }
    state = parse_definition(definition).states["C"]
    assert isinstance(state, ChoiceState)
    assert state.choices[0].rule == Condition("{% $states.input.n > 1 %}")
    assert state.choices[0].output == Template({"big": True})


def test_wait_and_fail() -> None:
    machine = parse_definition(
        {
            "StartAt": "W",
            "States": {
                "W": {"Type": "Wait", "SecondsPath": "$.s", "Next": "F"},
                "F": {"Type": "Fail", "ErrorPath": "$.error", "Cause": "because"},
            },
        }
    )
    assert machine.states["W"] == WaitState(name="W", type=StateType.WAIT, next="F", seconds_path="$.s")
    assert machine.states["F"] == FailState(
        name="F", type=StateType.FAIL, error_path="$.error", cause="because"
    )


def test_parallel() -> None:
    branch = {"StartAt": "B", "Comment": "one", "States": {"B": {"Type": "Pass", "End": True}}}
    state = parse_definition(
        one({"Type": "Parallel", "Branches": [branch], "ResultSelector": {"r.$": "$[0]"}, "End": True})
    ).states["S"]
    assert isinstance(state, ParallelState)
    [program] = state.branches
    assert program.start_at == "B" and program.comment == "one"
    assert program.states["B"] == PassState(name="B", type=StateType.PASS, end=True)
    assert state.result_selector == Template({"r.$": "$[0]"})


def test_distributed_map() -> None:
    definition = one(
        {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "b", "Key": "k"},
            },
            "ItemBatcher": {
                "MaxItemsPerBatchPath": "$.size",
                "MaxInputBytesPerBatch": 1024,
                "BatchInput": {"a": 1},
            },
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"}},
            "ItemSelector": {"item.$": "$$.Map.Item.Value"},
            "MaxConcurrencyPath": "$.concurrency",
            "ToleratedFailurePercentage": 10,
            "ToleratedFailureCountPath": "$.failures",
            "Label": "Files",
            "End": True,
        }
    )
    state = parse_definition(definition).states["S"]
    assert isinstance(state, MapState)
    assert (state.processor_mode, state.execution_type, state.uses_iterator) == (
        "DISTRIBUTED",
        "EXPRESS",
        False,
    )
    assert state.item_processor is not None and list(state.item_processor.states) == ["P"]
    assert state.item_reader == ItemReader(
        resource="arn:aws:states:::s3:getObject",
        reader_config=Template({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}),
        parameters=Template({"Bucket": "b", "Key": "k"}),
    )
    assert state.item_batcher == ItemBatcher(
        max_items_per_batch_path="$.size", max_input_bytes_per_batch=1024, batch_input=Template({"a": 1})
    )
    assert state.result_writer == Template(
        {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out"}}
    )
    assert state.item_selector == Template({"item.$": "$$.Map.Item.Value"})
    assert (state.max_concurrency, state.max_concurrency_path) == (0, "$.concurrency")
    assert (state.tolerated_failure_percentage, state.tolerated_failure_count_path) == (10, "$.failures")
    assert state.label == "Files"


def test_legacy_map_with_iterator_and_parameters() -> None:
    definition = one(
        {
            "Type": "Map",
            "ItemsPath": "$.items",
            "Parameters": {"i.$": "$$.Map.Item.Index"},
            "MaxConcurrency": 2,
            "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "End": True,
        }
    )
    state = parse_definition(definition).states["S"]
    assert isinstance(state, MapState)
    assert (state.uses_iterator, state.processor_mode, state.execution_type) == (True, "INLINE", None)
    assert (state.items_path, state.max_concurrency) == ("$.items", 2)
    assert state.parameters == Template({"i.$": "$$.Map.Item.Index"})
    assert state.item_selector is None


def test_jsonata_map_items() -> None:
    processor = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    definition = one(
        {"Type": "Map", "Items": "{% $states.input.list %}", "ItemProcessor": processor, "End": True},
        QueryLanguage="JSONata",
    )
    state = parse_definition(definition).states["S"]
    assert isinstance(state, MapState) and state.items == "{% $states.input.list %}"


# --- query languages -----------------------------------------------------------------------------


def test_states_inherit_the_top_level_language() -> None:
    machine = parse_definition(one({"Type": "Pass", "End": True}, QueryLanguage="JSONata"))
    assert machine.query_language == QueryLanguage.JSONATA
    assert machine.states["S"].query_language == QueryLanguage.JSONATA


def test_a_state_may_choose_jsonata_in_a_jsonpath_machine() -> None:
    machine = parse_definition(one({"Type": "Pass", "QueryLanguage": "JSONata", "End": True}))
    assert machine.query_language == QueryLanguage.JSONPATH
    assert machine.states["S"].query_language == QueryLanguage.JSONATA


def test_nested_states_take_the_machine_language_not_the_enclosing_state_language() -> None:
    # As Step Functions does: a JSONata Map in a JSONPath machine runs JSONPath states unless
    # they choose JSONata themselves.
    processor = {
        "StartAt": "Inherits",
        "States": {
            "Inherits": {"Type": "Pass", "Next": "Chooses"},
            "Chooses": {"Type": "Pass", "QueryLanguage": "JSONata", "End": True},
        },
    }
    state = parse_definition(
        one({"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": processor, "End": True})
    ).states["S"]
    assert isinstance(state, MapState) and state.item_processor is not None
    assert state.query_language == QueryLanguage.JSONATA
    assert state.item_processor.query_language == QueryLanguage.JSONPATH
    assert state.item_processor.states["Inherits"].query_language == QueryLanguage.JSONPATH
    assert state.item_processor.states["Chooses"].query_language == QueryLanguage.JSONATA


def test_iter_programs_sees_nested_programs() -> None:
    inner = {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}
    outer = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": inner, "End": True}}}
    machine = parse_definition(one({"Type": "Parallel", "Branches": [outer], "End": True}))
    assert [list(p.states) for p in iter_programs(machine)] == [["S"], ["M"], ["I"]]


def test_the_model_is_immutable() -> None:
    machine = parse_definition(DEFINITION)
    with pytest.raises(TypeError):
        machine.states["Hello"] = machine.states["Done"]  # type: ignore[index]


# --- failure is only ever DefinitionError --------------------------------------------------------


def test_a_rejected_definition_raises_definition_error() -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_definition("{not json")
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "INVALID_JSON_DESCRIPTION"


def test_deeply_nested_programs() -> None:
    program: dict[str, Any] = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    for i in range(20):
        program = {
            "StartAt": f"M{i}",
            "States": {f"M{i}": {"Type": "Map", "ItemProcessor": program, "End": True}},
        }
    assert len(iter_programs(parse_definition(program))) == 21
    for i in range(20, 3000):
        program = {
            "StartAt": f"M{i}",
            "States": {f"M{i}": {"Type": "Map", "ItemProcessor": program, "End": True}},
        }
    with pytest.raises(DefinitionError):
        parse_definition(program)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
# every field a state may have, and those of rules, retriers and programs
_FIELD_NAMES = sorted(
    set().union(*ALLOWED_FIELDS.values())
    | {"Condition", "Variable", "StringEquals", "And", "Not", "ErrorEquals", "StartAt", "States"}
)
_RICH = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "r",
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}],
            "Next": "C",
        },
        "C": {
            "Type": "Choice",
            "Choices": [{"Not": {"Variable": "$.a", "IsNull": True}, "Next": "M"}],
            "Default": "F",
        },
        "M": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}},
            "Next": "P",
        },
        "P": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "End": True}}}],
            "Next": "F",
        },
        "F": {"Type": "Fail"},
    },
}


def _paths(value: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [trail]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*trail, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*trail, i))
    return out


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_mutation_of_a_definition_parses_or_raises_definition_error(data: st.DataObject) -> None:
    definition = json.loads(json.dumps(_RICH))
    for _ in range(data.draw(st.integers(1, 3))):
        trail = data.draw(st.sampled_from(_paths(definition)))
        target = definition
        for step in trail[:-1]:
            target = target[step]
        value = data.draw(_JSON)
        if not trail:
            definition = value
        elif isinstance(target, dict) and data.draw(st.booleans()):
            target[data.draw(st.sampled_from(_FIELD_NAMES))] = value
        else:
            target[trail[-1]] = value
    try:
        machine = parse_definition(definition)
    except DefinitionError as e:
        assert e.diagnostics
    else:
        assert isinstance(machine, StateMachine)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.binary(max_size=40))
def test_any_text_parses_or_raises_definition_error(text: str | bytes) -> None:
    with pytest.raises(DefinitionError):
        parse_definition(text)


# --- the conformance corpus ----------------------------------------------------------------------


def _as_machine(definition: dict[str, Any]) -> dict[str, Any]:
    """TestState cases hold one state, not a machine: give it one, with a Succeed per target."""
    if "States" in definition:
        return definition
    targets = {definition.get("Next"), definition.get("Default")}
    targets |= {rule.get("Next") for rule in definition.get("Choices", []) + definition.get("Catch", [])}
    states = {"S": definition} | {t: {"Type": "Succeed"} for t in targets if isinstance(t, str)}
    return {"StartAt": "S", "States": states}


@pytest.mark.skipif(not CORPUS, reason="conformance corpus not available")
def test_every_definition_of_the_corpus_parses() -> None:
    failures = {}
    for path in CORPUS:
        with open(path, encoding="utf-8") as f:
            definition = json.load(f)["definition"]
        try:
            parse_definition(_as_machine(definition))
        except DefinitionError as e:
            failures[path] = e.diagnostics
    assert failures == {}
    assert len(CORPUS) > 900


# --- speed ---------------------------------------------------------------------------------------


def test_a_ten_state_definition_parses_well_under_a_millisecond() -> None:
    states: dict[str, Any] = {
        f"Step{i}": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "ResultPath": f"$.step{i}",
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}],
            "Next": f"Step{i + 1}",
        }
        for i in range(9)
    }
    states["Step9"] = {"Type": "Succeed"}
    text = json.dumps({"StartAt": "Step0", "States": states})
    parse_definition(text)
    best = min(_timed(lambda: parse_definition(text)) for _ in range(50))
    assert best < 0.001, f"{best * 1e6:.0f} µs"  # about 0.25 ms on a developer machine


def _timed(run: Any) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


# --- one state on its own (TestState) ---------------------------------------------------------


def test_a_state_alone_may_lead_to_states_it_does_not_hold() -> None:
    state = parse_state(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "Next": "Ship",
        },
        "Alone",
    )
    assert isinstance(state, TaskState)
    assert (state.name, state.next, state.catch[0].next) == ("Alone", "Ship", "Recover")
    choice = parse_state(
        '{"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "Yes"}],'
        ' "Default": "No"}',
        "Alone",
    )
    assert isinstance(choice, ChoiceState) and choice.default == "No"
    jsonata = parse_state({"Type": "Pass", "QueryLanguage": "JSONata", "End": True}, "Alone")
    assert jsonata.query_language == QueryLanguage.JSONATA
    assert parse_state({"Type": "Pass", "End": True}, "Alone").query_language == QueryLanguage.JSONPATH


def test_a_state_alone_is_checked_with_pointers_into_itself() -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_state({"Type": "Pass", "Next": "A", "Resource": "x"}, "Alone")
    assert [str(d) for d in raised.value.diagnostics] == [
        "SCHEMA_VALIDATION_FAILED: Field 'Resource' is not supported at /"
    ]
    # Inside a Map or Parallel the programs are whole: their transitions must resolve.
    inner = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}
    with pytest.raises(DefinitionError) as raised:
        parse_state({"Type": "Map", "ItemProcessor": inner, "End": True}, "Alone")
    assert [(d.code, d.location) for d in raised.value.diagnostics] == [
        ("MISSING_TRANSITION_TARGET", "/ItemProcessor/States/A/Next")
    ]
    with pytest.raises(DefinitionError):
        parse_state("[1, 2]", "Alone")
