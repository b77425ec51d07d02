"""What Step Functions refuses, and how it says so: each case is a definition and the diagnostics
(code, JSON pointer) that validate_definition must answer. Nothing more, nothing less."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.asl.errors import DefinitionError, Diagnostic
from podium.asl.parser import parse_definition
from podium.asl.validation import validate_definition

SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"

Definition = dict[str, Any]


def machine(*, start: str = "S", query_language: str | None = None, **states: Any) -> Definition:
    """A definition of `states`; `S` is the start unless told otherwise."""
    out: Definition = {"StartAt": start, "States": states}
    if query_language:
        out["QueryLanguage"] = query_language
    return out


def one(state: dict[str, Any], **top: Any) -> Definition:
    """A definition whose only state, S, is `state`."""
    return machine(S=state, **top)


def task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True, **fields}


def problems(definition: Any) -> list[tuple[str, str]]:
    return sorted((d.code, d.location) for d in validate_definition(definition))


def check(definition: Any, *expected: tuple[str, str]) -> None:
    assert problems(definition) == sorted(expected)


# --- the text itself -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "code"),
    [
        pytest.param("", SCHEMA, id="empty text (AWS: 'Definition must be a valid JSON object')"),
        pytest.param("   \n", SCHEMA, id="blank text"),
        pytest.param("not a definition", "INVALID_JSON_DESCRIPTION", id="plain text"),
        pytest.param('{"StartAt": "A",}', "INVALID_JSON_DESCRIPTION", id="trailing comma is not JSON"),
        pytest.param('{"StartAt": NaN}', "INVALID_JSON_DESCRIPTION", id="NaN is not JSON"),
        pytest.param("[1, 2]", SCHEMA, id="a JSON array"),
        pytest.param("42", SCHEMA, id="a JSON number"),
        pytest.param("- a\n- b\n", SCHEMA, id="a YAML list"),
        pytest.param("a: [1, 2", "INVALID_JSON_DESCRIPTION", id="broken YAML"),
        pytest.param(b"\xff\xfe\x00", "INVALID_JSON_DESCRIPTION", id="bytes that are not UTF-8"),
        pytest.param("x: !!binary aGVsbG8=", "INVALID_JSON_DESCRIPTION", id="YAML binary is not JSON"),
        pytest.param("[" * 100_000, "TOO_DEEPLY_NESTED", id="nesting deeper than the decoder goes"),
    ],
)
def test_text_that_is_not_a_definition(source: str | bytes, code: str) -> None:
    [diagnostic] = validate_definition(source)
    assert diagnostic.code == code


def test_empty_text_reads_like_aws() -> None:
    assert validate_definition("") == [Diagnostic(SCHEMA, "Definition must be a valid JSON object")]


def test_a_mapping_holding_what_json_cannot() -> None:
    [diagnostic] = validate_definition({"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": {1, 2}}}})
    assert diagnostic.code == "INVALID_JSON_DESCRIPTION"


def test_valid_definition_has_no_diagnostics() -> None:
    assert validate_definition(one({"Type": "Pass", "End": True})) == []


def test_json_text_bytes_yaml_and_mapping_are_judged_alike() -> None:
    definition = machine(S={"Type": "Pass", "Next": "Nowhere"})
    expected = [("MISSING_END_STATE", ""), (TARGET, "/States/S/Next")]
    assert problems(definition) == expected
    assert problems(json.dumps(definition)) == expected
    assert problems(json.dumps(definition).encode()) == expected
    assert problems("StartAt: S\nStates:\n  S:\n    Type: Pass\n    Next: Nowhere\n") == expected


# --- the top level -------------------------------------------------------------------------------


def test_required_top_level_fields() -> None:
    # recorded from AWS: {"code": SCHEMA_VALIDATION_FAILED, "location": "/",
    #                     "message": "These fields are required: [States, StartAt]"}
    assert validate_definition({}) == [
        Diagnostic(SCHEMA, "These fields are required: [States, StartAt]", "/")
    ]
    assert validate_definition({"States": {"A": {"Type": "Succeed"}}}) == [
        Diagnostic(SCHEMA, "These fields are required: [StartAt]", "/")
    ]


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"Comentt": "typo"}, (SCHEMA, "/")),
        ({"QueryLanguage": "jsonata"}, (SCHEMA, "/QueryLanguage")),
        ({"QueryLanguage": 1}, (SCHEMA, "/QueryLanguage")),
        ({"Version": "2.0"}, (SCHEMA, "/Version")),
        ({"TimeoutSeconds": -1}, (SCHEMA, "/TimeoutSeconds")),
        ({"TimeoutSeconds": "10"}, (SCHEMA, "/TimeoutSeconds")),
        ({"Comment": 7}, (SCHEMA, "/Comment")),
    ],
)
def test_top_level_fields(top: dict[str, Any], expected: tuple[str, str]) -> None:
    check({**one({"Type": "Succeed"}), **top}, expected)


def test_top_level_timeout_zero_and_version_one_are_accepted() -> None:
    check({**one({"Type": "Succeed"}), "TimeoutSeconds": 0, "Version": "1.0", "Comment": "c"})


def test_states_must_be_a_non_empty_object() -> None:
    check({"StartAt": "S", "States": {}}, (SCHEMA, "/States"))
    check({"StartAt": "S", "States": []}, (SCHEMA, "/States"))


# --- transitions and reachability ----------------------------------------------------------------


def test_missing_next_target_and_unreachable_state() -> None:
    # AWS: "MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next,
    #       MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at /States/pass2"
    definition = machine(
        start="pass1", pass1={"Type": "Pass", "Next": "pass3"}, pass2={"Type": "Pass", "End": True}
    )
    assert validate_definition(definition) == [
        Diagnostic(TARGET, "Missing 'Next' target: pass3", "/States/pass1/Next"),
        Diagnostic(TARGET, 'State "pass2" is not reachable.', "/States/pass2"),
    ]


def test_start_at_names_no_state() -> None:
    check(machine(start="Nope", S={"Type": "Succeed"}), (TARGET, "/StartAt"))


def test_a_loop_with_no_terminal_state() -> None:
    loop = machine(start="A", A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"})
    assert validate_definition(loop) == [Diagnostic("MISSING_END_STATE", "Workflow has no terminal state")]
    # the same loop with a terminal state nothing reaches: that state is what is wrong
    check({**loop, "States": {**loop["States"], "C": {"Type": "Pass", "End": True}}}, (TARGET, "/States/C"))


def test_every_kind_of_transition_must_name_a_state_of_its_program() -> None:
    definition = machine(
        S={
            "Type": "Choice",
            "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Missing1"}],
            "Default": "Missing2",
        },
        T={**task(), "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Missing3"}]},
    )
    check(
        definition,
        (TARGET, "/States/S/Choices/0/Next"),
        (TARGET, "/States/S/Default"),
        (TARGET, "/States/T/Catch/0/Next"),
        (TARGET, "/States/T"),
    )


def test_states_reached_through_choices_and_catchers_are_reachable() -> None:
    definition = machine(
        S={"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "T"}], "Default": "U"},
        T={**task(), "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
        U={"Type": "Succeed"},
        Failed={"Type": "Fail"},
    )
    check(definition)


def test_a_branch_cannot_leave_its_branch() -> None:
    definition = one(
        {
            "Type": "Parallel",
            "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "After"}}}],
            "Next": "After",
        }
    )
    definition["States"]["After"] = {"Type": "Succeed"}
    check(definition, (TARGET, "/States/S/Branches/0/States/A/Next"))


def test_unreachable_state_inside_a_map_processor() -> None:
    processor = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}
    check(
        one({"Type": "Map", "ItemProcessor": processor, "End": True}),
        (TARGET, "/States/S/ItemProcessor/States/B"),
    )


# --- state names ---------------------------------------------------------------------------------


def test_a_state_name_written_twice_in_the_text() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Succeed"}}}'
    assert validate_definition(text) == [
        Diagnostic("DUPLICATE_STATE_NAME", "Duplicate State name: A", "/States/A")
    ]


def test_a_state_name_written_twice_in_yaml() -> None:
    text = "StartAt: A\nStates:\n  A: {Type: Succeed}\n  A: {Type: Succeed}\n"
    check(text, ("DUPLICATE_STATE_NAME", "/States/A"))


def test_state_names_are_unique_across_the_whole_machine() -> None:
    branch = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    check(
        one({"Type": "Parallel", "Branches": [branch, branch], "End": True}),
        ("DUPLICATE_STATE_NAME", "/States/S/Branches/1/States/A"),
    )


def test_state_name_length() -> None:
    check(machine(start="A" * 80, **{"A" * 80: {"Type": "Succeed"}}))
    check(
        machine(start="A" * 81, **{"A" * 81: {"Type": "Succeed"}}),
        ("INVALID_STATE_NAME", "/States/" + "A" * 81),
    )


def test_pointer_escapes_slash_and_tilde_in_state_names() -> None:
    definition = machine(start="a/b~c", **{"a/b~c": {"Type": "Pass", "Next": "x"}, "x": {"Type": "Succeed"}})
    definition["States"]["a/b~c"]["Next"] = "y"
    check(definition, (TARGET, "/States/a~1b~0c/Next"), (TARGET, "/States/x"))


# --- fields per state type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        pytest.param({"Type": "Pass", "Resource": "arn:x", "End": True}, id="Resource on Pass"),
        pytest.param(
            {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}},
                "TimeoutSeconds": 5,
                "End": True,
            },
            id="TimeoutSeconds on Map",
        ),
        pytest.param({"Type": "Pass", "Retry": [], "End": True}, id="Retry on Pass"),
        pytest.param({"Type": "Pass", "Catch": [], "End": True}, id="Catch on Pass"),
        pytest.param({"Type": "Succeed", "End": True}, id="End on Succeed"),
        pytest.param({"Type": "Succeed", "Assign": {"x": 1}}, id="Assign on Succeed"),
        pytest.param({"Type": "Fail", "InputPath": "$"}, id="InputPath on Fail"),
        pytest.param({"Type": "Pass", "Label": "x", "End": True}, id="Label on Pass"),
        pytest.param(task(Foo=1), id="a field no state has"),
        pytest.param(task(resource="x"), id="field names are case-sensitive"),
    ],
)
def test_field_not_supported_by_the_state_type(state: dict[str, Any]) -> None:
    [diagnostic] = validate_definition(one(state))
    assert (diagnostic.code, diagnostic.location) == (SCHEMA, "/States/S")
    assert diagnostic.message.startswith("Field '") and diagnostic.message.endswith("' is not supported")


@pytest.mark.parametrize(
    ("state", "location"),
    [
        ({"End": True}, "/States/S"),  # Type
        ({"Type": "Sleep", "End": True}, "/States/S/Type"),
        ({"Type": "Task", "End": True}, "/States/S"),  # Resource
        ({"Type": "Parallel", "End": True}, "/States/S"),  # Branches
        ({"Type": "Task", "Resource": 5, "End": True}, "/States/S/Resource"),
    ],
)
def test_required_fields(state: dict[str, Any], location: str) -> None:
    check(one(state), (SCHEMA, location))


def test_next_and_end() -> None:
    # AWS: "There should only be one of the following fields: [Next, End]"
    both = machine(S={"Type": "Pass", "Next": "T", "End": True}, T={"Type": "Succeed"})
    assert validate_definition(both) == [
        Diagnostic(SCHEMA, "There should only be one of the following fields: [Next, End]", "/States/S")
    ]
    check(one({"Type": "Pass"}), (SCHEMA, "/States/S"), ("MISSING_END_STATE", ""))
    check(one({"Type": "Pass", "End": False}), (SCHEMA, "/States/S"), ("MISSING_END_STATE", ""))
    check(
        one({"Type": "Pass", "End": "yes"}),
        (SCHEMA, "/States/S/End"),
        (SCHEMA, "/States/S"),
        ("MISSING_END_STATE", ""),
    )
    check(
        one({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "Next": "S"}], "Next": "S"}),
        (SCHEMA, "/States/S"),
        ("MISSING_END_STATE", ""),
    )


# --- query languages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "TimeoutSecondsPath"]
)
def test_jsonpath_fields_in_a_jsonata_state(field: str) -> None:
    value = {"Parameters": {}, "ResultSelector": {}}.get(field, "$")
    [diagnostic] = validate_definition(one(task(**{field: value}), query_language="JSONata"))
    message = (
        f"The QueryLanguage is set to 'JSONata', but field '{field}' is only supported for the 'JSONPath' "
    )
    assert diagnostic == Diagnostic(SCHEMA, message + "QueryLanguage", "/States/S")


def test_jsonpath_only_fields_of_other_types_in_jsonata() -> None:
    processor = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    check(
        machine(
            query_language="JSONata",
            S={"Type": "Map", "ItemProcessor": processor, "ItemsPath": "$.a", "Next": "W"},
            W={"Type": "Wait", "SecondsPath": "$.s", "Next": "P"},
            P={"Type": "Pass", "Result": 1, "Next": "F"},
            F={"Type": "Fail", "ErrorPath": "$.e"},
        ),
        (SCHEMA, "/States/S"),
        (SCHEMA, "/States/W"),
        (SCHEMA, "/States/P"),
        (SCHEMA, "/States/F"),
    )


@pytest.mark.parametrize("field", ["Arguments", "Output"])
def test_jsonata_fields_in_a_jsonpath_state(field: str) -> None:
    [diagnostic] = validate_definition(one(task(**{field: {}})))
    assert diagnostic.location == "/States/S"
    assert diagnostic.message == (
        f"The QueryLanguage is set to 'JSONPath', but field '{field}' is only supported for the 'JSONata' "
        "QueryLanguage"
    )


def test_a_state_may_opt_into_jsonata_in_a_jsonpath_machine() -> None:
    check(
        one(
            task(
                QueryLanguage="JSONata", Arguments={"a": "{% $states.input %}"}, Output="{% $states.result %}"
            )
        )
    )


def test_a_state_cannot_fall_back_to_jsonpath_in_a_jsonata_machine() -> None:
    # recorded from AWS, at the state; the JSONPath fields of that state are not named on top of it
    definition = one(
        {"Type": "Pass", "QueryLanguage": "JSONPath", "InputPath": "$", "End": True}, query_language="JSONata"
    )
    assert validate_definition(definition) == [
        Diagnostic(
            SCHEMA,
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            "/States/S",
        )
    ]


def test_a_state_language_must_be_one_of_the_two() -> None:
    check(one({"Type": "Pass", "QueryLanguage": "XPath", "End": True}), (SCHEMA, "/States/S/QueryLanguage"))


def test_states_in_a_map_take_the_machine_language_not_the_map_language() -> None:
    # The Map is JSONata, the machine JSONPath: the processor's Pass is JSONPath, so Output is refused.
    processor = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 %}", "End": True}}}
    check(
        one({"Type": "Map", "QueryLanguage": "JSONata", "ItemProcessor": processor, "End": True}),
        (SCHEMA, "/States/S/ItemProcessor/States/A"),
    )


def test_a_processor_or_branch_declares_no_language() -> None:
    program = {"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Succeed"}}}
    check(one({"Type": "Map", "ItemProcessor": program, "End": True}), (SCHEMA, "/States/S/ItemProcessor"))
    check(one({"Type": "Parallel", "Branches": [program], "End": True}), (SCHEMA, "/States/S/Branches/0"))


# --- Choice --------------------------------------------------------------------------------------


def choice(*rules: Any, query_language: str | None = None) -> Definition:
    return machine(
        S={"Type": "Choice", "Choices": list(rules), "Default": "D"},
        D={"Type": "Succeed"},
        query_language=query_language,
    )


def test_every_comparison_operator_and_path_variant_is_accepted() -> None:
    rules = [
        {"Variable": "$.s", "StringEquals": "a", "Next": "D"},
        {"Variable": "$.s", "StringEqualsPath": "$.t", "Next": "D"},
        {"Variable": "$.s", "StringLessThanEqualsPath": "$$.Execution.Name", "Next": "D"},
        {"Variable": "$.s", "StringMatches": "log-*.txt", "Next": "D"},
        {"Variable": "$.n", "NumericGreaterThan": 1.5, "Next": "D"},
        {"Variable": "$.n", "NumericLessThanPath": "$.m", "Next": "D"},
        {"Variable": "$.b", "BooleanEquals": False, "Next": "D"},
        {"Variable": "$.b", "BooleanEqualsPath": "$.c", "Next": "D"},
        {"Variable": "$.t", "TimestampEquals": "2016-03-14T01:59:00Z", "Next": "D"},
        {"Variable": "$.t", "TimestampGreaterThanEqualsPath": "$.u", "Next": "D"},
        {"Variable": "$.x", "IsTimestamp": True, "Next": "D"},
        {"Variable": "$myVariable", "IsPresent": True, "Next": "D"},
        {
            "And": [{"Variable": "$.a", "IsNull": False}, {"Not": {"Variable": "$.b", "IsString": True}}],
            "Next": "D",
        },
        {"Or": [{"Variable": "$.a", "IsNumeric": True}, {"Variable": "$.a", "IsBoolean": True}], "Next": "D"},
    ]
    check(choice(*rules))


@pytest.mark.parametrize(
    ("rule", "location"),
    [
        pytest.param({"Variable": "$.a", "StringEquals": "x"}, "/States/S/Choices/0", id="no Next"),
        pytest.param({"Variable": "$.a", "Next": "D"}, "/States/S/Choices/0", id="no operator"),
        pytest.param({"StringEquals": "x", "Next": "D"}, "/States/S/Choices/0", id="no Variable"),
        pytest.param(
            {"Variable": "$.a", "StringEquals": "x", "IsNull": True, "Next": "D"},
            "/States/S/Choices/0",
            id="two operators",
        ),
        pytest.param(
            {"Variable": "$.a", "And": [], "Next": "D"}, "/States/S/Choices/0", id="Variable and And"
        ),
        pytest.param({"Next": "D"}, "/States/S/Choices/0", id="no rule at all"),
        pytest.param({"And": [], "Next": "D"}, "/States/S/Choices/0/And", id="empty And"),
        pytest.param(
            {"Not": {"Variable": "$.a", "IsNull": True, "Next": "D"}, "Next": "D"},
            "/States/S/Choices/0/Not",
            id="Next inside a nested rule",
        ),
        pytest.param(
            {"Variable": "a", "IsNull": True, "Next": "D"},
            "/States/S/Choices/0/Variable",
            id="Variable not a path",
        ),
        pytest.param(
            {"Variable": "$.a", "NumericEquals": "1", "Next": "D"},
            "/States/S/Choices/0/NumericEquals",
            id="NumericEquals a string",
        ),
        pytest.param(
            {"Variable": "$.a", "BooleanEquals": "true", "Next": "D"},
            "/States/S/Choices/0/BooleanEquals",
            id="BooleanEquals a string",
        ),
        pytest.param(
            {"Variable": "$.a", "IsPresent": 1, "Next": "D"},
            "/States/S/Choices/0/IsPresent",
            id="IsPresent not a boolean",
        ),
        pytest.param(
            {"Variable": "$.a", "TimestampEquals": "yesterday", "Next": "D"},
            "/States/S/Choices/0/TimestampEquals",
            id="not a timestamp",
        ),
        pytest.param(
            {"Variable": "$.a", "StringEqualsPath": "b", "Next": "D"},
            "/States/S/Choices/0/StringEqualsPath",
            id="...Path operand not a path",
        ),
        pytest.param(
            {"Variable": "$.a", "IsNull": True, "Next": "D", "Condition": True},
            "/States/S/Choices/0",
            id="Condition in a JSONPath rule",
        ),
        pytest.param(
            {"Variable": "$.a", "IsNull": True, "Next": "D", "Foo": 1},
            "/States/S/Choices/0",
            id="unknown field in a rule",
        ),
    ],
)
def test_jsonpath_choice_rules(rule: dict[str, Any], location: str) -> None:
    check(choice(rule), (SCHEMA, location))


def test_choices_are_required_and_not_empty() -> None:
    check(choice(), (SCHEMA, "/States/S/Choices"))
    check(machine(S={"Type": "Choice", "Default": "D"}, D={"Type": "Succeed"}), (SCHEMA, "/States/S"))


def test_jsonata_choice_rules() -> None:
    good = {"Condition": "{% $states.input.x > 1 %}", "Next": "D", "Output": {"y": 1}, "Assign": {"z": 2}}
    check(choice(good, {"Condition": True, "Next": "D"}, query_language="JSONata"))
    check(choice({"Next": "D"}, query_language="JSONata"), (SCHEMA, "/States/S/Choices/0"))
    jsonpath_rule = {"Variable": "$.a", "IsNull": True, "Condition": True, "Next": "D"}
    check(
        choice(jsonpath_rule, query_language="JSONata"),
        (SCHEMA, "/States/S/Choices/0"),
        (SCHEMA, "/States/S/Choices/0"),
    )
    check(
        choice({"Condition": "$.a", "Next": "D"}, query_language="JSONata"),
        (SCHEMA, "/States/S/Choices/0/Condition"),
    )


# --- Retry and Catch -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retrier", "location"),
    [
        ({"ErrorEquals": ["States.ALL", "States.Timeout"]}, "/States/S/Retry/0/ErrorEquals"),
        ({"ErrorEquals": []}, "/States/S/Retry/0/ErrorEquals"),
        ({}, "/States/S/Retry/0"),
        ({"ErrorEquals": ["X"], "BackoffRate": 0.5}, "/States/S/Retry/0/BackoffRate"),
        ({"ErrorEquals": ["X"], "MaxAttempts": -1}, "/States/S/Retry/0/MaxAttempts"),
        ({"ErrorEquals": ["X"], "MaxAttempts": 1.5}, "/States/S/Retry/0/MaxAttempts"),
        ({"ErrorEquals": ["X"], "IntervalSeconds": -1}, "/States/S/Retry/0/IntervalSeconds"),
        ({"ErrorEquals": ["X"], "MaxDelaySeconds": 0}, "/States/S/Retry/0/MaxDelaySeconds"),
        ({"ErrorEquals": ["X"], "MaxDelaySeconds": 31_622_401}, "/States/S/Retry/0/MaxDelaySeconds"),
        ({"ErrorEquals": ["X"], "JitterStrategy": "HALF"}, "/States/S/Retry/0/JitterStrategy"),
        ({"ErrorEquals": ["X"], "Next": "S"}, "/States/S/Retry/0"),
    ],
)
def test_retriers(retrier: dict[str, Any], location: str) -> None:
    check(one(task(Retry=[retrier])), (SCHEMA, location))


def test_a_valid_retrier() -> None:
    retrier = {
        "ErrorEquals": ["States.Timeout"],
        "IntervalSeconds": 0,
        "MaxAttempts": 0,
        "BackoffRate": 1,
        "MaxDelaySeconds": 10,
        "JitterStrategy": "FULL",
        "Comment": "c",
    }
    check(one(task(Retry=[retrier, {"ErrorEquals": ["States.ALL"]}])))


def test_states_all_must_come_last() -> None:
    check(
        one(task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}])),
        (SCHEMA, "/States/S/Retry/0/ErrorEquals"),
    )


def test_catchers() -> None:
    after = {"Type": "Succeed"}
    check(
        machine(S=task(Catch=[{"ErrorEquals": ["X"]}]), A=after),
        (SCHEMA, "/States/S/Catch/0"),
        (TARGET, "/States/A"),
    )
    check(
        machine(
            S=task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "A"}, {"ErrorEquals": ["X"], "Next": "A"}]),
            A=after,
        ),
        (SCHEMA, "/States/S/Catch/0/ErrorEquals"),
    )
    check(
        machine(S=task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "ResultPath": "$.a[*]"}]), A=after),
        (SCHEMA, "/States/S/Catch/0/ResultPath"),
    )
    check(
        machine(S=task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "Output": {}}]), A=after),
        (SCHEMA, "/States/S/Catch/0"),
    )
    check(
        machine(
            S=task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "ResultPath": "$"}]),
            A=after,
            query_language="JSONata",
        ),
        (SCHEMA, "/States/S/Catch/0"),
    )


# --- paths and payload templates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"InputPath": "a.b"}, "/States/S/InputPath"),
        ({"OutputPath": "$.a["}, "/States/S/OutputPath"),
        ({"ResultPath": "$$.Execution"}, "/States/S/ResultPath"),  # the context object is read-only
        ({"ResultPath": "$.items[*]"}, "/States/S/ResultPath"),  # a reference path names one node
        ({"ResultPath": "$var"}, "/States/S/ResultPath"),
        ({"Parameters": {"a.$": "a"}}, "/States/S/Parameters/a.$"),
        ({"Parameters": {"a.$": 5}}, "/States/S/Parameters/a.$"),
        ({"Parameters": {"a": [{"b.$": "States.Format("}]}}, "/States/S/Parameters/a/0/b.$"),
        ({"ResultSelector": {"a.$": "nope"}}, "/States/S/ResultSelector/a.$"),
        ({"Credentials": {"RoleArn.$": "States.Nope(("}}, "/States/S/Credentials/RoleArn.$"),
        ({"Credentials": {"Other": "x"}}, "/States/S/Credentials"),
    ],
)
def test_paths_and_templates(fields: dict[str, Any], location: str) -> None:
    check(one(task(**fields)), (SCHEMA, location))


def test_valid_paths_and_templates() -> None:
    fields = {
        "InputPath": "$.a..b[?(@.c > 1)]",
        "OutputPath": None,
        "ResultPath": "$.result['x'][0]",
        "Parameters": {
            "literal": "$.not.a.path.without.the.suffix",
            "path.$": "$.a",
            "context.$": "$$.Execution.Id",
            "variable.$": "$myVar.field",
            "intrinsic.$": "States.Format('{} {}', $.a, States.ArrayLength($.b))",
            "nested": {"deeper": [{"x.$": "$.x"}]},
        },
    }
    check(one(task(**fields)))
    check(one({"Type": "Pass", "ResultPath": None, "InputPath": None, "End": True}))


# --- Wait, Fail, Task, Map, Parallel -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({}, "/States/S"),
        ({"Seconds": 1, "Timestamp": "2016-03-14T01:59:00Z"}, "/States/S"),
        ({"Seconds": -1}, "/States/S/Seconds"),
        ({"Seconds": "10"}, "/States/S/Seconds"),
        ({"Timestamp": "2016-03-14 01:59:00"}, "/States/S/Timestamp"),
        ({"Timestamp": "2016-13-14T01:59:00Z"}, "/States/S/Timestamp"),
        ({"SecondsPath": "seconds"}, "/States/S/SecondsPath"),
    ],
)
def test_wait(fields: dict[str, Any], location: str) -> None:
    check(one({"Type": "Wait", "End": True, **fields}), (SCHEMA, location))


def test_valid_waits() -> None:
    for fields in ({"Seconds": 0}, {"Timestamp": "2016-03-14T01:59:00.123+02:00"}, {"TimestampPath": "$.t"}):
        check(one({"Type": "Wait", "End": True, **fields}))
    check(one({"Type": "Wait", "Seconds": "{% $states.input.s %}", "End": True}, query_language="JSONata"))


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"Error": "E", "ErrorPath": "$.e"}, "/States/S"),
        ({"Cause": "C", "CausePath": "$.c"}, "/States/S"),
        ({"Error": 1}, "/States/S/Error"),
        ({"CausePath": "cause"}, "/States/S/CausePath"),
    ],
)
def test_fail(fields: dict[str, Any], location: str) -> None:
    check(one({"Type": "Fail", **fields}), (SCHEMA, location))


def test_fail_paths_may_be_intrinsic_functions() -> None:
    check(one({"Type": "Fail", "ErrorPath": "$.error", "CausePath": "States.Format('x {}', $.c)"}))


@pytest.mark.parametrize(
    ("fields", "location"),
    [
        ({"TimeoutSeconds": 10, "TimeoutSecondsPath": "$.t"}, "/States/S"),
        ({"HeartbeatSeconds": 1, "HeartbeatSecondsPath": "$.h"}, "/States/S"),
        ({"TimeoutSeconds": 0}, "/States/S/TimeoutSeconds"),
        ({"TimeoutSeconds": 100_000_000}, "/States/S/TimeoutSeconds"),
        ({"TimeoutSeconds": "10"}, "/States/S/TimeoutSeconds"),
        ({"TimeoutSeconds": 10, "HeartbeatSeconds": 10}, "/States/S/HeartbeatSeconds"),
        ({"TimeoutSecondsPath": "$.a[*]"}, "/States/S/TimeoutSecondsPath"),
    ],
)
def test_task_timeouts(fields: dict[str, Any], location: str) -> None:
    check(one(task(**fields)), (SCHEMA, location))


def test_task_timeouts_in_jsonata_may_be_expressions() -> None:
    check(one(task(TimeoutSeconds="{% $states.input.t %}", HeartbeatSeconds=5), query_language="JSONata"))


PROCESSOR = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}


def map_state(**fields: Any) -> dict[str, Any]:
    return {"Type": "Map", "ItemProcessor": PROCESSOR, "End": True, **fields}


@pytest.mark.parametrize(
    ("state", "location"),
    [
        ({"Type": "Map", "End": True}, "/States/S"),
        (map_state(Iterator=PROCESSOR), "/States/S"),
        (map_state(MaxConcurrency=-1), "/States/S/MaxConcurrency"),
        (map_state(MaxConcurrency=1, MaxConcurrencyPath="$.m"), "/States/S"),
        (map_state(ToleratedFailurePercentage=101), "/States/S/ToleratedFailurePercentage"),
        (map_state(ToleratedFailureCount=-1), "/States/S/ToleratedFailureCount"),
        (map_state(ItemsPath="$.items[*]"), "/States/S/ItemsPath"),
        (map_state(ItemSelector={}, Parameters={}), "/States/S"),
        (map_state(ItemSelector={"a.$": "b"}), "/States/S/ItemSelector/a.$"),
        (map_state(Label="has space"), "/States/S/Label"),
        (map_state(ItemReader={"ReaderConfig": {}}), "/States/S/ItemReader"),
        (
            {**map_state(), "ItemProcessor": {**PROCESSOR, "ProcessorConfig": {"Mode": "DISTRIBUTED"}}},
            "/States/S/ItemProcessor/ProcessorConfig",
        ),
        (
            {
                **map_state(),
                "ItemProcessor": {
                    **PROCESSOR,
                    "ProcessorConfig": {"Mode": "INLINE", "ExecutionType": "EXPRESS"},
                },
            },
            "/States/S/ItemProcessor/ProcessorConfig",
        ),
        (
            {**map_state(), "ItemProcessor": {**PROCESSOR, "ProcessorConfig": {"Mode": "PARALLEL"}}},
            "/States/S/ItemProcessor/ProcessorConfig/Mode",
        ),
    ],
)
def test_map(state: dict[str, Any], location: str) -> None:
    codes = {"/States/S/Label": "INVALID_LABEL_NAME"}
    check(one(state), (codes.get(location, SCHEMA), location))


def test_a_valid_distributed_map() -> None:
    state = map_state(
        ItemProcessor={**PROCESSOR, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}},
        ItemReader={
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV"},
            "Parameters": {"Bucket.$": "$.bucket", "Key": "k"},
        },
        ItemBatcher={"MaxItemsPerBatch": 10, "BatchInput": {"x.$": "$.x"}},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b"}},
        MaxConcurrency=10,
        ToleratedFailurePercentage=5.5,
        ToleratedFailureCountPath="$.count",
        ItemSelector={"value.$": "$$.Map.Item.Value"},
        Label="ProcessFiles",
    )
    check(one(state))


def test_map_labels_are_unique() -> None:
    first = {"Type": "Map", "ItemProcessor": PROCESSOR, "Label": "L", "Next": "T"}
    second = map_state(Label="L", ItemProcessor={"StartAt": "B", "States": {"B": {"Type": "Succeed"}}})
    check(machine(S=first, T=second), ("DUPLICATE_LABEL_NAME", "/States/T/Label"))


def test_parallel() -> None:
    check(one({"Type": "Parallel", "Branches": [], "End": True}), (SCHEMA, "/States/S/Branches"))
    check(
        one({"Type": "Parallel", "Branches": [{"States": PROCESSOR["States"]}], "End": True}),
        (SCHEMA, "/States/S/Branches/0"),
    )
    check(one({"Type": "Parallel", "Branches": ["x"], "End": True}), (SCHEMA, "/States/S/Branches/0"))


# --- variables -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assign", "location"),
    [
        ({"states": 1}, "/States/S/Assign/states"),  # AWS reserves $states
        ({"1st": 1}, "/States/S/Assign/1st"),
        ({"my-var": 1}, "/States/S/Assign/my-var"),
        ({"_x": 1}, "/States/S/Assign/_x"),
        ({"x" * 81: 1}, "/States/S/Assign/" + "x" * 81),
        ({"x.$": "not a path"}, "/States/S/Assign/x.$"),
        ({"x": {"y.$": "nope"}}, "/States/S/Assign/x/y.$"),
    ],
)
def test_assign(assign: dict[str, Any], location: str) -> None:
    check(one({"Type": "Pass", "Assign": assign, "End": True}), (SCHEMA, location))


def test_valid_assign() -> None:
    check(
        one(
            {
                "Type": "Pass",
                "Assign": {"x": 1, "ünïcode": 2, "y.$": "$.a", "z": {"w.$": "$$.Execution.Id"}},
                "End": True,
            }
        )
    )
    check(
        one(
            {"Type": "Pass", "Assign": {"x": "{% $states.input %}", "y": [1]}, "End": True},
            query_language="JSONata",
        )
    )


# --- JSONata expressions -------------------------------------------------------------------------


def test_jsonata_expression_that_does_not_parse() -> None:
    state = {"Type": "Pass", "Output": {"v": "{% a[1,2) %}", "ok": "{% $states.input.a %}"}, "End": True}
    check(one(state, query_language="JSONata"), ("INVALID_JSONATA_EXPRESSION", "/States/S/Output/v"))


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Pass", "Output": "{% 1 +", "End": True},
        task(Arguments={"a": "{% $x"}),
        {"Type": "Map", "ItemProcessor": PROCESSOR, "Items": "not an expression", "End": True},
        {"Type": "Wait", "Seconds": "{% %}", "End": True},
    ],
)
def test_jsonata_strings(state: dict[str, Any]) -> None:
    [diagnostic] = validate_definition(one(state, query_language="JSONata"))
    assert diagnostic.code in (SCHEMA, "INVALID_JSONATA_EXPRESSION")
    assert diagnostic.location.startswith("/States/S/")


def test_a_jsonata_looking_string_is_a_literal_in_jsonpath() -> None:
    check(one({"Type": "Pass", "Result": "{% not parsed %}", "Parameters": {"a": "{% 1 +"}, "End": True}))


# --- everything at once --------------------------------------------------------------------------


def test_all_problems_are_reported_not_just_the_first() -> None:
    definition = machine(
        start="A",
        A={"Type": "Pass", "Resource": "x", "Next": "Missing"},
        B={"Type": "Wait", "End": True},
        C={"Type": "Task", "Resource": "r", "Retry": [{"ErrorEquals": ["States.ALL", "X"]}], "End": True},
    )
    check(
        definition,
        (SCHEMA, "/States/A"),
        (TARGET, "/States/A/Next"),
        (SCHEMA, "/States/B"),
        (TARGET, "/States/B"),
        (SCHEMA, "/States/C/Retry/0/ErrorEquals"),
        (TARGET, "/States/C"),
    )


def test_parse_definition_raises_the_same_diagnostics() -> None:
    definition = one({"Type": "Pass", "Resource": "x", "End": True})
    with pytest.raises(DefinitionError) as raised:
        parse_definition(definition)
    assert raised.value.diagnostics == validate_definition(definition)
    assert str(raised.value).startswith("Invalid State Machine Definition: '1 error detected'")
