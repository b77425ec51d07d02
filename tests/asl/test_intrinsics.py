"""Intrinsic functions (podium.asl.intrinsics).

`AWS_CASES` comes from the conformance corpus (localstack's AWS-validated snapshots,
v2/intrinsic_functions/*): a Pass state `{"Parameters": {"FunctionResult.$": <call>}}` run on the
input `{"FunctionInput": <value>}`, and the FunctionResult AWS returned.
"""

from __future__ import annotations

import re
from random import Random
from typing import Any

import pytest

from podium.asl.errors import EvaluationError
from podium.asl.intrinsics import (
    INTRINSIC_ERROR,
    Call,
    IntrinsicSyntaxError,
    Literal,
    PathArg,
    evaluate_intrinsic,
    is_intrinsic,
    iter_paths,
    java_string,
    parse_intrinsic,
)
from podium.asl.scope import Scope

ONE = "($.FunctionInput)"
TWO = "($.FunctionInput.fst, $.FunctionInput.snd)"
THREE = "($.FunctionInput.fst, $.FunctionInput.snd, $.FunctionInput.trd)"
FORMAT_1 = "States.Format('Formatting argument {}.', $.FunctionInput)"
FORMAT_2 = (
    "States.Format('Formatting arguments fst={} and snd={}.', $.FunctionInput.fst, $.FunctionInput.snd)"
)
ARGS = '{"Arg1": 1, "Arg2": []}'
OBJ = {"Arg1": 1, "Arg2": []}
SPLIT_TEXT = "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n"

AWS_CASES: list[tuple[str, Any, Any]] = [
    *[
        ("States.Array" + TWO, {"fst": v, "snd": v}, [v, v])
        for v in ["", " ", "HelloWorld", None, 1, 1.1, ARGS, OBJ]
    ],
    ("States.ArrayContains" + TWO, {"fst": [], "snd": None}, False),
    ("States.ArrayContains" + TWO, {"fst": [], "snd": []}, False),
    ("States.ArrayContains" + TWO, {"fst": [], "snd": 1}, False),
    ("States.ArrayContains" + TWO, {"fst": [[1, 2, 3], 2], "snd": None}, False),
    ("States.ArrayContains" + TWO, {"fst": [[1, 2, 3], 2], "snd": [1, 2, 3]}, True),
    ("States.ArrayContains" + TWO, {"fst": [{"1": 2, "2": []}], "snd": []}, False),
    ("States.ArrayContains" + TWO, {"fst": [{"1": 2, "2": []}], "snd": {"1": 2, "2": []}}, True),
    ("States.ArrayContains" + TWO, {"fst": [True, False], "snd": True}, True),
    ("States.ArrayContains" + TWO, {"fst": [True, False], "snd": False}, True),
    ("States.ArrayGetItem" + TWO, {"fst": [1, 2, 3, 4, 5, 6, 7, 8, 9], "snd": 5}, 6),
    ("States.ArrayLength" + ONE, [1, 2, 3, 4, 5, 6, 7, 8, 9], 9),
    ("States.ArrayLength" + ONE, [None, None, True, 1, 1.1, "x", "x", [], [None], {"a": 1}, {"a": 1}], 11),
    *[
        (
            "States.ArrayPartition" + TWO,
            {"fst": items, "snd": size},
            [items[i : i + size] for i in range(0, n, size)],
        )
        for n in range(5)
        for items in [list(range(n))]
        for size in range(1, 6)
    ],
    ("States.ArrayRange" + THREE, {"fst": 0, "snd": 9, "trd": 3}, [0, 3, 6, 9]),
    ("States.ArrayRange" + THREE, {"fst": 0, "snd": 10, "trd": 3}, [0, 3, 6, 9]),
    ("States.ArrayRange" + THREE, {"fst": 1, "snd": 9, "trd": 9}, [1]),
    ("States.ArrayRange" + THREE, {"fst": 1, "snd": 9, "trd": 2}, [1, 3, 5, 7, 9]),
    ("States.Base64Encode" + ONE, "", ""),
    ("States.Base64Encode" + ONE, "Data to encode", "RGF0YSB0byBlbmNvZGU="),
    (FORMAT_1, "", "Formatting argument ."),
    (FORMAT_1, " ", "Formatting argument  ."),
    (FORMAT_1, "HelloWorld", "Formatting argument HelloWorld."),
    (FORMAT_1, None, "Formatting argument null."),
    (FORMAT_1, 1, "Formatting argument 1."),
    (FORMAT_1, 1.1, "Formatting argument 1.1."),
    (FORMAT_1, ARGS, f"Formatting argument {ARGS}."),
    (FORMAT_2, {"fst": "", "snd": ""}, "Formatting arguments fst= and snd=."),
    (FORMAT_2, {"fst": " ", "snd": " "}, "Formatting arguments fst=  and snd= ."),
    (FORMAT_2, {"fst": None, "snd": None}, "Formatting arguments fst=null and snd=null."),
    (FORMAT_2, {"fst": 1.1, "snd": 1}, "Formatting arguments fst=1.1 and snd=1."),
    (FORMAT_2, {"fst": ARGS, "snd": ARGS}, f"Formatting arguments fst={ARGS} and snd={ARGS}."),
    (
        FORMAT_2,
        {"fst": OBJ, "snd": OBJ},
        "Formatting arguments fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}.",
    ),
    ("States.Hash" + TWO, {"fst": "input data", "snd": "MD5"}, "812f45842bc6d66ee14572ce20db8e86"),
    ("States.Hash" + TWO, {"fst": "input data", "snd": "SHA-1"}, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    (
        "States.Hash" + TWO,
        {"fst": "input data", "snd": "SHA-256"},
        "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
    ),
    (
        "States.Hash" + TWO,
        {"fst": "input data", "snd": "SHA-384"},
        "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
    ),
    (
        "States.Hash" + TWO,
        {"fst": "input data", "snd": "SHA-512"},
        "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2d"
        "eba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
    ),
    (
        "States.JsonMerge($.FunctionInput.fst, $.FunctionInput.snd, false)",
        {"fst": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}, "snd": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}},
        {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4},
    ),
    ("States.StringToJson" + ONE, "", None),
    ("States.StringToJson" + ONE, " ", None),
    ("States.StringToJson" + ONE, "null", None),
    ("States.StringToJson" + ONE, "-0", 0),
    ("States.StringToJson" + ONE, "1", 1),
    ("States.StringToJson" + ONE, "1.1", 1.1),
    ("States.StringToJson" + ONE, "true", True),
    ("States.StringToJson" + ONE, '"HelloWorld"', "HelloWorld"),
    ("States.StringToJson" + ONE, '[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
    ("States.StringToJson" + ONE, ARGS, OBJ),
    (
        "States.StringSplit($$.Execution.Input.FunctionInput, ',')",
        SPLIT_TEXT,
        [
            "Value1",
            "Value2",
            "Value3\nValue4",
            "Value5",
            "Value6\n",
            "\ntrue",
            "1",
            "'HelloWorld'\nNull",
            "None",
            "\n   \n",
        ],
    ),
    ("States.StringSplit" + TWO, {"fst": " ", "snd": ","}, [" "]),
    ("States.StringSplit" + TWO, {"fst": " , ", "snd": ","}, [" ", " "]),
    ("States.StringSplit" + TWO, {"fst": ", , ,", "snd": ","}, [" ", " "]),
    ("States.StringSplit" + TWO, {"fst": ",,,,", "snd": ","}, []),
    ("States.StringSplit" + TWO, {"fst": "1,2,3,4,5", "snd": ","}, ["1", "2", "3", "4", "5"]),
    (
        "States.StringSplit" + TWO,
        {"fst": "This.is+a,test=string", "snd": ".+,="},
        ["This", "is", "a", "test", "string"],
    ),
    (
        "States.StringSplit" + TWO,
        {"fst": "split on T and \nnew line", "snd": "T\n"},
        ["split on ", " and ", "new line"],
    ),
    # v2/intrinsic_functions test_math_operations::test_math_add (Java's Math.round per argument)
    ("States.MathAdd" + TWO, {"fst": -9, "snd": 3}, -6),
    ("States.MathAdd" + TWO, {"fst": 1.49, "snd": 1.5}, 3),
    ("States.MathAdd" + TWO, {"fst": 1.5, "snd": 1.51}, 4),
    ("States.MathAdd" + TWO, {"fst": -1.49, "snd": -1.5}, -2),
    ("States.MathAdd" + TWO, {"fst": -1.5, "snd": -1.51}, -3),
]


def scope(data: Any = None, **kwargs: Any) -> Scope:
    return Scope(
        input=data, context={"Execution": {"Input": data}, "StateMachine": {"Name": "a-b-c"}}, **kwargs
    )


@pytest.mark.parametrize(("call", "function_input", "expected"), AWS_CASES)
def test_recorded_by_aws(call: str, function_input: Any, expected: Any) -> None:
    assert evaluate_intrinsic(call, scope({"FunctionInput": function_input})) == expected


def test_nested_calls_from_the_corpus() -> None:
    s = scope({})
    assert (
        evaluate_intrinsic("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)", s) == "a"
    )
    last = (
        "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
        "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))"
    )
    assert evaluate_intrinsic(last, s) == "c"
    merged = 'States.JsonMerge(States.StringToJson(\'{"in_literal": "false"}\'), $$.Execution.Input.f, false)'
    assert evaluate_intrinsic(merged, scope({"f": {"k": "v"}})) == {"in_literal": "false", "k": "v"}


def test_literal_arguments_and_variables() -> None:
    s = scope({}, variables={"tpl": "It's {}!", "v": "Pikachu"})
    assert evaluate_intrinsic("States.Array('a', 1, -2.5, true, false, null)", s) == [
        "a",
        1,
        -2.5,
        True,
        False,
        None,
    ]
    assert evaluate_intrinsic("States.Array()", s) == []
    assert evaluate_intrinsic("States.Format($tpl, $v)", s) == "It's Pikachu!"
    assert evaluate_intrinsic("States.ArrayRange(1, 10, 2)", s) == [1, 3, 5, 7, 9]
    assert evaluate_intrinsic("States.ArrayRange(5, 1, -2)", s) == [5, 3, 1]
    assert evaluate_intrinsic("States.ArrayRange(1, 1, 1)", s) == [1]
    assert evaluate_intrinsic("States.ArrayRange(3, 1, 1)", s) == []
    assert evaluate_intrinsic("States.ArrayUnique(States.Array(1, 2, 2, 1.0, true, '1', null, null))", s) == [
        1,
        2,
        True,
        "1",
        None,
    ]
    assert evaluate_intrinsic("States.Base64Decode('SGVsbG8gV29ybGQ=')", s) == "Hello World"
    assert evaluate_intrinsic("States.Base64Encode('é')", s) == "w6k="
    assert (
        evaluate_intrinsic("States.JsonToString($)", scope({"a": [1, "ü"], "b": 1.0}))
        == '{"a":[1,"ü"],"b":1.0}'
    )
    assert evaluate_intrinsic("States.Hash('x', 'MD5')", s) == "9dd4e461268c8034f5c8564e155c67a6"
    assert evaluate_intrinsic("States.MathAdd(2147483647, 1)", s) == 2147483648


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        (r"'\{\} is not a placeholder: {}'", "{} is not a placeholder: x"),
        (r"'it\'s {}'", "it's x"),
        (r"'back\\slash {}'", "back\\slash x"),
        ("'{\"json\": {}}'", '{"json": x}'),
    ],
)
def test_format_escapes(literal: str, expected: str) -> None:
    assert evaluate_intrinsic(f"States.Format({literal}, 'x')", scope({})) == expected


def test_java_string() -> None:
    assert (
        java_string({"a": "x", "b": [1, None, True, {"c": 1.0}], "d": 1e20})
        == "{a=x, b=[1, null, true, {c=1.0}], d=1.0E20}"
    )


def test_math_random() -> None:
    for seed in range(20):
        value = evaluate_intrinsic("States.MathRandom(1, 5)", scope({}, random=Random(seed)))
        assert 1 <= value < 5
    seeded = [
        evaluate_intrinsic("States.MathRandom(0, 999, 3)", scope({}, random=Random(n))) for n in range(3)
    ]
    assert len(set(seeded)) == 1  # a seed argument makes it independent of the execution's source
    assert evaluate_intrinsic("States.MathRandom(1.5, 3.4)", scope({})) == 2  # both rounded: [2, 3)


def test_uuid_is_v4_and_comes_from_the_scope_random() -> None:
    first = evaluate_intrinsic("States.UUID()", scope({}, random=Random(7)))
    again = evaluate_intrinsic("States.UUID()", scope({}, random=Random(7)))
    other = evaluate_intrinsic("States.UUID()", scope({}, random=Random(8)))
    assert first == again != other
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first)


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (
            "States.ArrayGetItem(States.Array(1, 2), 2)",
            "the index 2 is out of bounds for an array of 2 items",
        ),
        ("States.ArrayGetItem(States.Array(1, 2), -1)", "the index -1 is out of bounds"),
        ("States.ArrayGetItem('x', 0)", 'The first argument must be an array, not "x"'),
        ("States.ArrayPartition(States.Array(1), 0)", "the chunk size must be a positive integer"),
        ("States.ArrayPartition(States.Array(1), 1.5)", "The chunk size must be an integer, not 1.5"),
        ("States.ArrayRange(1, 2, 0)", "the step must not be 0"),
        ("States.ArrayRange(0, 1000, 1)", "the array would have 1001 items, more than 1000"),
        ("States.ArrayRange(1, 2.5, 1)", "Every argument must be an integer, not 2.5"),
        ("States.ArrayLength(null)", "The argument must be an array, not null"),
        ("States.StringToJson('{')", "the string is not valid JSON: {"),
        ("States.StringToJson(1)", "The argument must be a string, not 1"),
        ("States.Base64Decode('!!')", "the argument is not valid base64 text of UTF-8 data"),
        (
            "States.Hash('x', 'SHA-3')",
            "the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, not SHA-3",
        ),
        (
            "States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)",
            "deep merging is not supported",
        ),
        ("States.JsonMerge(States.Array(), States.StringToJson('{}'), false)", "must be JSON objects"),
        ("States.MathAdd('1', 2)", 'The first argument must be a number, not "1"'),
        ("States.MathAdd(true, 2)", "The first argument must be a number, not true"),
        ("States.MathRandom(5, 5)", "the start (5) must be less than the end (5)"),
        ("States.Format('{} and {}', 1)", "the format string has 2 placeholders for 1 arguments"),
        ("States.Format(1)", "The format string must be a string, not 1"),
        ("States.StringSplit('a', 1)", "The delimiter must be a string, not 1"),
    ],
)
def test_argument_errors(call: str, reason: str) -> None:
    with pytest.raises(EvaluationError) as info:
        evaluate_intrinsic(call, scope({}))
    assert info.value.error == INTRINSIC_ERROR == "States.Runtime"
    name = call.split("(", maxsplit=1)[0]
    assert info.value.cause is not None
    assert info.value.cause.startswith(f"Invalid arguments in {name}: ")
    assert reason in info.value.cause


def test_a_missing_path_argument_reads_like_a_missing_template_path() -> None:
    with pytest.raises(EvaluationError) as info:
        evaluate_intrinsic("States.Format('{}', $.nope)", scope({"a": 1}), field="x.$")
    assert info.value.cause == (
        "The JSONPath '$.nope' specified for the field 'x.$' could not be found in the input '{\"a\":1}'"
    )


def test_parse_gives_a_cached_tree() -> None:
    call = parse_intrinsic("States.Format( 'a{}b' , $.x['y z'] , States.UUID() )")
    assert call is parse_intrinsic("States.Format( 'a{}b' , $.x['y z'] , States.UUID() )")
    assert call == Call(
        "States.Format",
        (Literal("a{}b", ("a", "b")), PathArg("$.x['y z']"), Call("States.UUID", (), "States.UUID()")),
        "States.Format( 'a{}b' , $.x['y z'] , States.UUID() )",
    )
    filtered = parse_intrinsic("States.ArrayLength($.a[?(@.b == 'x, y)')])")
    assert list(iter_paths(filtered)) == ["$.a[?(@.b == 'x, y)')]"]
    assert list(iter_paths(parse_intrinsic("States.Array($a, States.Array($$.b, 1))"))) == ["$a", "$$.b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("States.Nope(1)", "Unknown intrinsic function 'States.Nope'"),
        ("States.MathAdd(1)", "States.MathAdd takes 2 arguments, not 1"),
        ("States.UUID(1)", "States.UUID takes 0 arguments, not 1"),
        ("States.Format()", "States.Format takes at least 1 argument, not 0"),
        ("States.MathRandom(1)", "States.MathRandom takes 2 or 3 arguments, not 1"),
        ("States.JsonToString", "Expected '(' after States.JsonToString"),
        ("States.Array(1 2)", "Expected ',' or ')'"),
        ("States.Array(1,)", "Expected an argument"),
        ("States.Array('a)", "Unterminated string literal"),
        (r"States.Array('a\n')", "Invalid escape in a string literal"),
        ("States.Array(1) x", "Unexpected text after the call"),
        ("States.Array($.a[)", "Invalid path argument"),
        ("States.Array(nope)", "Expected an argument"),
        ("Foo.Bar()", "Expected an intrinsic function name"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(IntrinsicSyntaxError, match=re.escape(message)):
        parse_intrinsic(text)
    with pytest.raises(EvaluationError, match=re.escape(message)):
        evaluate_intrinsic(text, scope({}))


def test_is_intrinsic() -> None:
    assert is_intrinsic("States.Array()")
    assert not is_intrinsic("$.States")
    assert not is_intrinsic("states.Array()")
