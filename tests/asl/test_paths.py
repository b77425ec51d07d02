"""JSONPath reads, ResultPath and AWS's JSON text (podium.asl.paths, podium.asl.jsontext).

The error texts are those AWS recorded in the conformance corpus (localstack's AWS-validated
snapshots: v2/scenarios test_invalid_jsonpath, test_catch_states_runtime, ...); the interpreter
adds the "An error occurred while executing the state ..." prefix, so only the tail is checked.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podium.asl.errors import EvaluationError, StatesError
from podium.asl.jsontext import from_json_text, java_double_text, json_equal, to_json_text
from podium.asl.paths import (
    NULL_INPUT_CAUSE,
    RESULT_PATH_CONFLICT,
    JsonPathSyntaxError,
    apply_result_path,
    compile_path,
    is_reference_path,
    path_exists,
    read_field_path,
    read_path,
)
from podium.asl.scope import Scope

STORE: dict[str, Any] = {
    "store": {
        "book": [
            {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
            {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
            {
                "category": "fiction",
                "author": "Herman Melville",
                "title": "Moby Dick",
                "isbn": "0-553",
                "price": 8.99,
            },
            {
                "category": "fiction",
                "author": "Tolkien",
                "title": "The Lord",
                "isbn": "0-395",
                "price": 22.99,
            },
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "expensive": 10,
    "a b": {"c'd": 1},
}


def scope(data: Any = None, **kwargs: Any) -> Scope:
    return Scope(
        input=STORE if data is None else data,
        context=kwargs.pop("context", {"Execution": {"Input": {"k": "v"}}, "State": {"Name": "S"}}),
        **kwargs,
    )


def runtime_cause(path: str, data: Any, field: str | None = None) -> str:
    with pytest.raises(EvaluationError) as info:
        read_path(path, scope(data), field=field)
    assert info.value.error == "States.Runtime"
    assert info.value.cause is not None
    return info.value.cause


# --- reads -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", STORE),
        ("$.expensive", 10),
        ("$.store.bicycle.color", "red"),
        ("$['store']['bicycle']['color']", "red"),
        ('$["store"].bicycle["price"]', 19.95),
        ("$.store.book[0].author", "Nigel Rees"),
        ("$.store.book[-1].author", "Tolkien"),
        ("$['a b'][\"c'd\"]", 1),
        ("$.store.bicycle['color','price']", {"color": "red", "price": 19.95}),
        ("$.store.bicycle['color','nope']", {"color": "red"}),
    ],
)
def test_definite_paths_return_the_value(path: str, expected: Any) -> None:
    assert read_path(path, scope()) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.store.book[*].author", ["Nigel Rees", "Evelyn Waugh", "Herman Melville", "Tolkien"]),
        ("$..author", ["Nigel Rees", "Evelyn Waugh", "Herman Melville", "Tolkien"]),
        ("$.store..price", [8.95, 12.99, 8.99, 22.99, 19.95]),
        ("$.store.book[0,2].title", ["Sayings", "Moby Dick"]),
        ("$.store.book[1:3].title", ["Sword", "Moby Dick"]),
        ("$.store.book[:2].title", ["Sayings", "Sword"]),
        ("$.store.book[-2:].title", ["Moby Dick", "The Lord"]),
        ("$.store.book[2:].title", ["Moby Dick", "The Lord"]),
        ("$.store.book[9:].title", []),
        ("$..book[2].title", ["Moby Dick"]),
        ("$.store.book[?(@.isbn)].title", ["Moby Dick", "The Lord"]),
        ("$.store.book[?(@.price < 10)].title", ["Sayings", "Moby Dick"]),
        ("$.store.book[?(@.price <= $.expensive)].title", ["Sayings", "Moby Dick"]),
        ("$.store.book[?(@.category == 'fiction' && @.price > 20)].title", ["The Lord"]),
        ("$.store.book[?(@.category != 'fiction' || @.price > 20)].title", ["Sayings", "The Lord"]),
        ("$.store.book[?(!(@.price > 10))].title", ["Sayings", "Moby Dick"]),
        ("$.store.book[?(@.author =~ /.*REES/i)].title", ["Sayings"]),
        ("$.store.book[?(@.category in ['reference'])].title", ["Sayings"]),
        ("$.store.book[?(@.category nin ['fiction'])].title", ["Sayings"]),
        ("$.store.book[?(@.price == 8.99)].title", ["Moby Dick"]),
        ("$.store.bicycle.*", ["red", 19.95]),
        ("$.expensive[*]", []),
    ],
)
def test_indefinite_paths_return_a_list(path: str, expected: Any) -> None:
    assert read_path(path, scope()) == expected


@pytest.mark.parametrize(
    "path",
    [
        "$[*]",
        "$.items[*]",
        "$.items[*].itemValue",
        "$.items[1:]",
        "$.items[:1]",
        "$.items[1:].itemValue",
        "$.item.items[*]",
        "$.item.items[1:5]",
        "$.item.items[1:5].itemValue",
    ],
)
def test_an_indefinite_path_that_matches_nothing_is_an_empty_list(path: str) -> None:
    # AWS: Parameters {"item.$": <path>} on the input {} gives {"item": []} (test_json_path_array_*).
    assert read_path(path, scope({}), field="item.$") == []


def test_context_object_and_variables() -> None:
    s = scope(variables={"x": {"a": [1, 2, 3]}, "n": None})
    assert read_path("$$", s) == s.context
    assert read_path("$$.Execution.Input", s) == {"k": "v"}
    assert read_path("$x", s) == {"a": [1, 2, 3]}
    assert read_path("$x.a[1]", s) == 2
    assert read_path("$x['a'][-1]", s) == 3
    assert read_path("$n", s, field="v.$") is None
    assert read_path("$$.Execution.Input.k", scope({"Execution": 1})) == "v"  # not the input


def test_names_with_dashes_and_escaped_quotes_from_the_corpus() -> None:
    # v2/context_object test_variable: "Variable": "$$.Execution.Input.input-value"
    assert (
        read_path(
            "$$.Execution.Input.input-value", scope(context={"Execution": {"Input": {"input-value": 0}}})
        )
        == 0
    )
    # v2/scenarios ESCAPE_SEQUENCES_JSONPATH: a backslash in a bracketed name stays in the name.
    data = {'Test\\""Name"': 'Value"\\'}
    assert read_path('$[\'Test\\""Name"\']', scope(data), field="value.$") == 'Value"\\'


# --- errors ------------------------------------------------------------------------------------


JAYWAY_NOT_AN_OBJECT = (
    "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.String'. "
    "This is not a json object according to the JsonProvider: "
    "'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'."
)
NOT_FOUND = "specified for the field '{}' could not be found in the input '{}'"

ERROR_CASES: list[tuple[str, Any, str | None, str]] = [
    # recorded by AWS
    (
        "$.NoSuchInputPath",
        {"int-literal": 0},
        "InputPath",
        "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']",
    ),
    (
        "$.NoSuchOutputPath",
        {"int-literal": 0},
        None,
        "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']",
    ),
    (
        "$.NoSuchTimeoutSecondsPath",
        {},
        "TimeoutSecondsPath",
        "Invalid path '$.NoSuchTimeoutSecondsPath' : No results for path: $['NoSuchTimeoutSecondsPath']",
    ),
    (
        "$.no.such.result.path",
        {"Payload": 1},
        "OutputPath",
        "Invalid path '$.no.such.result.path' : Missing property in path $['no']",
    ),
    (
        "$.no_such_jsonpath",
        {"int-literal": 0},
        "value.$",
        "The JSONPath '$.no_such_jsonpath' " + NOT_FOUND.format("value.$", '{"int-literal":0}'),
    ),
    (
        "$$.Execution.Input.no_such_jsonpath",
        {"int-literal": 0},
        "value.$",
        "The JSONPath '$$.Execution.Input.no_such_jsonpath' "
        + NOT_FOUND.format("value.$", '{"int-literal":0}'),
    ),
    (
        "$.ErrorX",
        {"E": "v"},
        "ErrorPath",
        "The JSONPath '$.ErrorX' " + NOT_FOUND.format("ErrorPath", '{"E":"v"}'),
    ),
    (
        "$.NoCause",
        {"E": "v"},
        "CausePath",
        "The JSONPath '$.NoCause' " + NOT_FOUND.format("CausePath", '{"E":"v"}'),
    ),
    # Jayway's other messages
    ("$.a.b", {"a": {}}, None, "Invalid path '$.a.b' : No results for path: $['a']['b']"),
    ("$.a[3]", {"a": [1]}, None, "Invalid path '$.a[3]' : No results for path: $['a'][3]"),
    ("$.a[0]", {"a": None}, None, "Invalid path '$.a[0]' : The path $['a'] is null"),
    (
        "$.a[0].b",
        {"a": {"x": 1}},
        None,
        "Invalid path '$.a[0].b' : Filter: [0]['b'] can only be applied to arrays. "
        'Current context is: {"x":1}',
    ),
    ("$.a.b", {"a": "text"}, None, "Invalid path '$.a.b' : " + JAYWAY_NOT_AN_OBJECT),
    ("$.é", {"x": "ü"}, "k.$", "The JSONPath '$.é' " + NOT_FOUND.format("k.$", '{"x":"ü"}')),
    ("$nope", {}, None, "Invalid path '$nope' : The variable 'nope' is not defined"),
    ("$.a b", {}, None, "Invalid path '$.a b' : Unexpected character ' ' at position 3 in path '$.a b'"),
]


@pytest.mark.parametrize(("path", "data", "field", "cause"), ERROR_CASES)
def test_error_causes(path: str, data: Any, field: str | None, cause: str) -> None:
    assert runtime_cause(path, data, field) == cause


def test_read_field_path_always_uses_the_template_wording() -> None:
    with pytest.raises(EvaluationError) as info:
        read_field_path("$.x", scope({}), "Whatever")
    assert info.value.cause == "The JSONPath '$.x' " + NOT_FOUND.format("Whatever", "{}")


def test_null_input() -> None:
    # InputPath/OutputPath "$" pass a null through (recorded: a Map iteration over null items).
    assert read_path("$", Scope(None, {}), field="InputPath") is None
    for path, field in [("$.a", None), ("$.a", "InputPath"), ("$.a", "x.$"), ("$", "x.$")]:
        with pytest.raises(EvaluationError) as info:
            read_path(path, Scope(None, {}), field=field)
        assert info.value.cause == NULL_INPUT_CAUSE


def test_path_exists() -> None:
    s = scope({"a": {"b": None}, "list": [1]}, variables={"v": 1})
    assert path_exists("$.a.b", s)
    assert path_exists("$", s)
    assert path_exists("$v", s)
    assert path_exists("$$.State.Name", s)
    assert path_exists("$.list[*]", s)
    assert not path_exists("$.a.c", s)
    assert not path_exists("$.x.y", s)
    assert not path_exists("$.list[5]", s)
    assert path_exists("$.a[*]", s)  # a wildcard on an object matches its values
    assert not path_exists("$.missing[*]", s)
    assert not path_exists("$w", s)
    assert not path_exists("$.a b", s)
    assert not path_exists("$.a", Scope(None, {}))


# --- compile / reference paths -----------------------------------------------------------------


def test_compile_path_is_cached_and_classifies() -> None:
    assert compile_path("$.a[0].b") is compile_path("$.a[0].b")
    assert compile_path("$.a[0].b").steps == ("a", 0, "b")
    assert compile_path("$$.Map.Item.Value").root == "context"
    compiled = compile_path("$my_var.x")
    assert (compiled.root, compiled.variable, compiled.steps) == ("variable", "my_var", ("x",))
    assert compile_path("$..x").definite is False
    assert compile_path("$['a','b']").definite is True  # merged into one object, as Jayway


@pytest.mark.parametrize("path", ["$", "$.a", "$.a.b[0]", "$['a b'].c", "$$.Execution.Id", "$v.a", "$.a[-1]"])
def test_reference_paths(path: str) -> None:
    assert is_reference_path(path)


@pytest.mark.parametrize(
    "path",
    ["$.a[*]", "$..a", "$.a[0,1]", "$.a[1:2]", "$.a[?(@.b)]", "$['a','b']", "$.*", "a.b", "$.", "$[", "$.a["],
)
def test_not_reference_paths(path: str) -> None:
    assert not is_reference_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "x",
        "$.",
        "$..",
        "$.a..",
        "$[",
        "$[0",
        "$['a'",
        "$[a]",
        "$[1:2:3]",
        "$.a(",
        "$[?(@.a ==)]",
        "$[?(@.a =~ /(/)]",
    ],
)
def test_syntax_errors(path: str) -> None:
    with pytest.raises(JsonPathSyntaxError):
        compile_path(path)


# --- ResultPath --------------------------------------------------------------------------------


def test_result_path_null_dollar_and_nested() -> None:
    data = {"a": {"x": 1}, "keep": [1, 2]}
    frozen = copy.deepcopy(data)
    assert apply_result_path(None, data, "r") is data
    assert apply_result_path("$", data, "r") == "r"
    out = apply_result_path("$.a.b.c", data, {"r": 1})
    assert out == {"a": {"x": 1, "b": {"c": {"r": 1}}}, "keep": [1, 2]}
    assert data == frozen  # the caller's input is untouched
    # Copy on write: the objects on the path are new, the rest is shared with the input
    # (JSON values are never changed in place), so a ResultPath costs the path, not the input.
    assert out["a"] is not data["a"]
    assert out["keep"] is data["keep"]
    assert apply_result_path("$.keep[1]", data, "two") == {"a": {"x": 1}, "keep": [1, "two"]}
    assert apply_result_path("$['a']['x']", data, 2) == {"a": {"x": 2}, "keep": [1, 2]}


@pytest.mark.parametrize(
    ("path", "data", "cause"),
    [
        ("$.someTaskResult", "input1", 'Unable to apply ReferencePath $.someTaskResult to input "input1"'),
        ("$.a.b", {"a": 1}, 'Unable to apply ReferencePath $.a.b to input {"a":1}'),
        ("$.a.b", {"a": None}, 'Unable to apply ReferencePath $.a.b to input {"a":null}'),
        ("$.a[5]", {"a": [1]}, 'Unable to apply ReferencePath $.a[5] to input {"a":[1]}'),
        ("$.x", [1], "Unable to apply ReferencePath $.x to input [1]"),
    ],
)
def test_result_path_conflicts(path: str, data: Any, cause: str) -> None:
    with pytest.raises(StatesError) as info:
        apply_result_path(path, data, {"r": 1})
    assert (info.value.error, info.value.cause) == (RESULT_PATH_CONFLICT, cause)
    assert not isinstance(info.value, EvaluationError)  # AWS shows this cause without the state prefix


@pytest.mark.parametrize("path", ["$$.Execution", "$v.x", "$.a[*]", "$..a", "bad"])
def test_result_path_must_be_a_reference_path_on_the_input(path: str) -> None:
    with pytest.raises((ValueError, JsonPathSyntaxError)):
        apply_result_path(path, {}, 1)


# --- JSON text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"a": 1, "b": [True, None, "x"]}, '{"a":1,"b":[true,null,"x"]}'),
        ({"emoji": "🆗", "quote": '"', "nl": "a\nb"}, '{"emoji":"🆗","quote":"\\"","nl":"a\\nb"}'),
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (1.1, "1.1"),
        (0.001, "0.001"),
        (1234567.0, "1234567.0"),
        (12345678.0, "1.2345678E7"),
        (1e20, "1.0E20"),
        (0.0001, "1.0E-4"),
        (-1.5e-05, "-1.5E-5"),
        ([1e16, "1e+16", 10**20], '[1.0E16,"1e+16",100000000000000000000]'),
        ({"0.0001": 0.0001}, '{"0.0001":1.0E-4}'),
    ],
)
def test_to_json_text(value: Any, text: str) -> None:
    assert to_json_text(value) == text


def test_java_double_text_matches_plain_repr_in_javas_plain_range() -> None:
    for value in (0.001, 0.5, 3.14159, 999999.9, 9999999.0):
        assert java_double_text(value) == repr(value)


def test_from_json_text() -> None:
    assert from_json_text('{"a": [1, 1.5, "x"]}') == {"a": [1, 1.5, "x"]}
    assert from_json_text("-0") == 0
    for bad in ("NaN", "[Infinity]", "{", ""):
        with pytest.raises(ValueError):
            from_json_text(bad)
    with pytest.raises(ValueError):
        to_json_text(math.nan)


def test_json_equal() -> None:
    assert json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})
    assert not json_equal([1], [1, 1])
    assert not json_equal("1", 1)
    assert json_equal(None, None)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_the_pre_checks_never_skip_a_float_java_writes_otherwise(value: Any) -> None:
    from podium.asl.jsontext import _ENCODER, _TOKENS, _java_token

    assert to_json_text(value) == _TOKENS.sub(_java_token, _ENCODER.encode(value))


@given(JSON_VALUES)
def test_json_text_round_trips(value: Any) -> None:
    assert json_equal(from_json_text(to_json_text(value)), value)


@given(
    st.dictionaries(
        st.sampled_from("abc"), st.dictionaries(st.sampled_from("xyz"), st.integers()), min_size=1
    )
)
def test_fast_path_agrees_with_a_plain_lookup(data: dict[str, dict[str, int]]) -> None:
    for outer, inner in data.items():
        for key, value in inner.items():
            assert read_path(f"$.{outer}.{key}", scope(data)) == value
            assert read_path(f"$['{outer}']['{key}']", scope(data)) == value
        with pytest.raises(EvaluationError):
            read_path(f"$.{outer}.missing", scope(data))
