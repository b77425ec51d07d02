"""JSONata as Step Functions runs it (podium.asl.jsonata).

Expected texts and values marked "recorded" come from the conformance corpus (executions recorded
against AWS); the interpreter adds the "An error occurred while executing the state ..." prefix.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
from random import Random
from typing import Any

import pytest

from podium.asl import jsonata
from podium.asl.errors import EvaluationError
from podium.asl.scope import Scope


def _scope(
    input: Any = None,
    *,
    variables: dict[str, Any] | None = None,
    context: Any = None,
    now_ms: int = 0,
    seed: int = 0,
    **extra: Any,
) -> Scope:
    return Scope(
        input=input,
        context=context if context is not None else {},
        variables=variables or {},
        now_ms=now_ms,
        random=Random(seed),
        **extra,
    )


def _eval(text: str, scope: Scope | None = None, field: str = "Output", **kw: Any) -> Any:
    return jsonata.evaluate_expression(text, scope or _scope({}), field=field, **kw)


def _cause(text: str, scope: Scope | None = None, field: str = "Output", **kw: Any) -> str:
    with pytest.raises(EvaluationError) as info:
        _eval(text, scope, field, **kw)
    assert info.value.error == "States.QueryEvaluationError"
    assert info.value.cause is not None
    return info.value.cause


# --- recognising expressions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% $x %}", True),
        ("{%$x%}", True),
        ("{%\n  $x\n%}", True),
        ("{%%}", True),
        (" {% states.input %} ", False),  # recorded: a literal, passed through unchanged
        ("{% $x %} ", False),
        ("{% $x", False),
        ("$states.input", False),
        ("{%}", False),
        ("{%", False),
        (1, False),
        (None, False),
        (["{% $x %}"], False),
    ],
)
def test_is_jsonata_expression(value: Any, expected: bool) -> None:
    assert jsonata.is_jsonata_expression(value) is expected


def test_expression_body() -> None:
    assert jsonata.expression_body("{%  $fn := function($x){$x} %}") == "$fn := function($x){$x}"
    assert jsonata.expression_body("$a + 1") == "$a + 1"


# --- what an expression sees -----------------------------------------------------------------------


def test_states_and_variables() -> None:
    # Recorded: Arguments of BASE_LAMBDA_EXPRESSION.
    scope = _scope(
        {"input_value": "string literal", "input_values": [1, 2, 3]},
        variables={"var_input_value": "string literal", "var_constant_1": 1},
    )
    template = {
        "ja_states_input": "{% $states.input %}",
        "ja_var_access": "{% $var_input_value %}",
        "ja_expr": "{% $sum($states.input.input_values) + $var_constant_1 %}",
    }
    assert jsonata.resolve_template(template, scope, field="Arguments") == {
        "ja_states_input": {"input_value": "string literal", "input_values": [1, 2, 3]},
        "ja_var_access": "string literal",
        "ja_expr": 7,
    }


def test_states_binding_fields() -> None:
    context = {"Execution": {"Id": "arn:exec"}, "State": {"Name": "S"}}
    scope = _scope({"a": 1}, context=context, result={"r": True}, error_output={"Error": "E"})
    assert _eval("{% $states.context.Execution.Id %}", scope) == "arn:exec"
    assert _eval("{% $states.result.r %}", scope) is True
    assert _eval("{% $states.errorOutput.Error %}", scope) == "E"
    assert _eval("{% $keys($states) %}", scope) == ["input", "context", "result", "errorOutput"]
    assert _eval("{% $keys($states) %}", _scope({})) == ["input", "context"]


def test_there_is_no_input_document() -> None:
    # `$` and bare field names address no document in Step Functions.
    scope = _scope({"a": 1})
    assert "returned nothing (undefined)" in _cause("{% $ %}", scope)
    assert "returned nothing (undefined)" in _cause("{% a %}", scope)


def test_null_is_not_undefined() -> None:
    scope = _scope({"n": None, "list": [1, None, 3]}, variables={"v": None})
    assert _eval("{% $v %}", scope) is None
    assert _eval("{% $v = null %}", scope) is True
    assert _eval("{% $states.input.n %}", scope) is None
    assert _eval("{% $type($states.input.n) %}", scope) == "null"
    # nulls inside arrays survive higher-order functions
    assert _eval("{% $map($states.input.list, function($x){$x}) %}", scope) == [1, None, 3]
    assert _eval("{% $count($states.input.list) %}", scope) == 3
    assert _eval("{% [1, null] %}", scope) == [1, None]
    assert _eval('{% {"a": null} %}', scope) == {"a": None}


def test_undefined_members_are_dropped() -> None:
    assert _eval('{% {"a": $nothing, "b": 1} %}') == {"b": 1}
    assert _eval("{% [$nothing, 1] %}") == [1]


def test_variables_do_not_leak_into_the_scope() -> None:
    original = {"list": [1, 2], "obj": {"k": None}}
    scope = _scope(copy.deepcopy(original))
    _eval("{% $states.input.list ~> $append(3) %}", scope)
    _eval("{% $merge([$states.input.obj, {'z': 1}]) %}", scope)
    assert scope.input == original


def test_variable_named_states_does_not_hide_states() -> None:
    scope = _scope({"a": 1}, variables={"states": "shadow"})
    assert _eval("{% $states.input.a %}", scope) == 1


# --- Step Functions' functions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # recorded
        ((0, 9, 3), [0, 3, 6, 9]),
        ((0, 10, 3), [0, 3, 6, 9]),
        ((1, 9, 9), 1),  # a single value, not an array
        ((1, 9, 2), [1, 3, 5, 7, 9]),
        # documented
        ((0, 10, 2), [0, 2, 4, 6, 8, 10]),
        ((5, 1, -2), [5, 3, 1]),
    ],
)
def test_range(args: tuple[int, int, int], expected: Any) -> None:
    scope = _scope({"FunctionInput": {"fst": args[0], "snd": args[1], "trd": args[2]}})
    text = (
        "{% $range($states.input.FunctionInput.fst, $states.input.FunctionInput.snd, "
        "$states.input.FunctionInput.trd) %}"
    )
    assert _eval(text, scope) == expected


def test_range_errors() -> None:
    assert "threw an error during evaluation" in _cause("{% $range(1, 5, 0) %}")
    assert "threw an error during evaluation" in _cause("{% $range(1, 5, 0.5) %}")
    assert "returned nothing (undefined)" in _cause("{% $range(5, 1, 1) %}")


def test_partition() -> None:
    assert _eval("{% $partition([1,2,3,4,5,6,7,8,9], 3) %}") == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert _eval("{% $partition([1,2,3,4,5], 2) %}") == [[1, 2], [3, 4], [5]]
    assert _eval("{% $partition([1,2], 5) %}") == [[1, 2]]
    assert _eval("{% $partition([], 5) %}") == []
    assert "threw an error during evaluation" in _cause("{% $partition([1], 0) %}")


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "900150983cd24fb0d6963f7d28e17f72"),
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("SHA-384", hashlib.sha384(b"abc").hexdigest()),
        ("SHA-512", hashlib.sha512(b"abc").hexdigest()),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    scope = _scope({"content": "abc"})
    assert _eval(f"{{% $hash($states.input.content, '{algorithm}') %}}", scope) == digest


def test_hash_unknown_algorithm() -> None:
    assert "threw an error during evaluation" in _cause("{% $hash('abc', 'SHA-3') %}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # recorded
        ("-0", 0),
        ("1", 1),
        ("1.1", 1.1),
        ("true", True),
        ('"HelloWorld"', "HelloWorld"),
        ('[1, 2, "HelloWorld"]', [1, 2, "HelloWorld"]),
        ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
        # and null stays null
        ('{"a": [null]}', {"a": [None]}),
    ],
)
def test_parse(text: str, expected: Any) -> None:
    assert _eval("{% $parse($states.input.FunctionInput) %}", _scope({"FunctionInput": text})) == expected


def test_parse_invalid() -> None:
    scope = _scope({"s": "{nope"})
    assert "threw an error during evaluation" in _cause("{% $parse($states.input.s) %}", scope)


def test_eval_is_not_available() -> None:
    assert _cause("{% $eval('1 + 1') %}").endswith("T1006: Attempted to invoke a non-function")


def test_now_and_millis_use_the_scope_clock() -> None:
    scope = _scope({}, now_ms=1_700_000_000_123)
    assert _eval("{% $now() %}", scope) == "2023-11-14T22:13:20.123Z"
    assert _eval("{% $millis() %}", scope) == 1_700_000_000_123
    assert _eval("{% $now('[Y0001]-[M01]-[D01]') %}", scope) == "2023-11-14"
    assert _eval("{% $now() %}", _scope({}, now_ms=0)) == "1970-01-01T00:00:00.000Z"
    assert _eval("{% $toMillis($now()) = $millis() %}", scope) is True


def test_random_and_uuid_use_the_scope_random() -> None:
    first = _eval("{% [$random(), $uuid()] %}", _scope({}, seed=7))
    again = _eval("{% [$random(), $uuid()] %}", _scope({}, seed=7))
    other = _eval("{% [$random(), $uuid()] %}", _scope({}, seed=8))
    assert first == again != other
    number, text = first
    assert 0 <= number < 1
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text)


def test_seeded_random_depends_only_on_the_seed() -> None:
    a = _eval("{% $random(42) %}", _scope({}, seed=1))
    b = _eval("{% $random(42) %}", _scope({}, seed=2))
    assert a == b
    assert 0 <= a < 1


# --- results and errors ----------------------------------------------------------------------------


def test_recorded_regex_and_escapes() -> None:
    assert _eval('{% $contains("hello$world", /^hello\\$/) %}') is True
    scope = _scope('"')
    assert _eval("{% $states.input = '\"' %}", scope) is True


def test_unknown_function() -> None:
    # recorded
    scope = _scope({"FunctionInput": {"fst": 1}})
    assert _cause("{% $randomSeeded($states.input.FunctionInput.fst) %}", scope, "Output/FunctionResult") == (
        "The JSONata expression '$randomSeeded($states.input.FunctionInput.fst)' specified for the field "
        "'Output/FunctionResult' threw an error during evaluation. T1006: Attempted to invoke a non-function"
    )


def test_function_result_is_unsupported() -> None:
    # recorded
    assert _cause("{% $fn := function($x){$x} %}", field="Items") == (
        "The JSONata expression '$fn := function($x){$x}' specified for the field 'Items' returned an "
        "unsupported result type."
    )
    assert "unsupported result type" in _cause("{% /abc/ %}")
    assert "unsupported result type" in _cause("{% {'f': $uppercase} %}")


@pytest.mark.parametrize(
    ("expression", "type_name", "shown"),
    [
        # recorded, for the Map state's Items
        ("'string'", "string", '"string"'),
        ("1", "number", "1"),
        ("null", "null", "null"),
        ("true", "boolean", "true"),
        ("{'foo': 'bar'}", "object", '{"foo":"bar"}'),
    ],
)
def test_unexpected_result_type(expression: str, type_name: str, shown: str) -> None:
    assert _cause(f"{{% {expression} %}}", field="Items", expect="array") == (
        f"The JSONata expression '{expression}' specified for the field 'Items' returned an unexpected "
        f"result type. Expected 'array', but was '{type_name}' for value: {shown}"
    )


def test_unexpected_result_type_from_variable() -> None:
    # recorded (variable sampling)
    scope = _scope({}, variables={"ItemsVar": {"foo": "bar"}})
    assert _cause("{% $ItemsVar %}", scope, "Items", expect="array").endswith(
        "Expected 'array', but was 'object' for value: {\"foo\":\"bar\"}"
    )
    assert _eval("{% $ItemsVar %}", _scope({}, variables={"ItemsVar": [1]}), "Items", expect="array") == [1]


def test_expect_integer() -> None:
    assert _eval("{% 3 %}", field="TimeoutSeconds", expect="integer") == 3
    assert _eval("{% 6 / 2 %}", field="TimeoutSeconds", expect="integer") == 3
    assert "Expected 'integer', but was 'number' for value: 1.5" in _cause(
        "{% 1.5 %}", field="TimeoutSeconds", expect="integer"
    )


def test_library_messages_say_function() -> None:
    cause = _cause("{% $sum('a') %}")
    assert cause.endswith(
        "threw an error during evaluation. T0412: Argument 1 of function sum must be an array of n"
    )
    # a message chosen by the expression is quoted as written
    assert _cause("{% $error('Object trouble') %}").endswith("D3137: Object trouble")


def test_numbers() -> None:
    assert _eval("{% 6 / 2 %}") == 3
    assert isinstance(_eval("{% 6 / 2 %}"), int)
    assert _eval("{% 1 / 4 %}") == 0.25
    assert "threw an error during evaluation" in _cause("{% 1 / 0 %}")


# --- templates -------------------------------------------------------------------------------------


def test_literals_pass_through() -> None:
    # recorded: BASE_LAMBDA_LITERALS; nothing in it is an expression
    literals: dict[str, Any] = {
        "constant_null": None,
        "constant_int": 0,
        "constant_float": 0.1,
        "constant_bool": True,
        "constant_str": "constant string",
        "constant_not_jsonata": " {% states.input %} ",
        "constant_varpath_states": "$states.input",
        "constant_varpath": "$no.such.var.path",
        "constant_lst_empty": [],
        "constant_lst": [None, 0, 0.1, True, [], {"constant": 0}, " {% states.input %} ", "$states.input"],
        "constant_obj_empty": {},
        "constant_obj": {
            "in_obj_constant_lst": [None, {"constant": 0}],
            "in_obj_constant_obj": {"constant": 0},
        },
    }
    template = copy.deepcopy(literals)
    result = jsonata.resolve_template(template, _scope({"input_values": [1, 2, 3]}), field="Arguments")
    assert result == literals
    assert template == literals
    result["constant_lst"].append("mutated")
    assert template == literals  # the result shares nothing with the template


def test_template_scalars_and_top_level_expression() -> None:
    scope = _scope({"a": [1, 2]})
    assert jsonata.resolve_template("{% $states.input.a %}", scope, field="Output") == [1, 2]
    assert jsonata.resolve_template("plain", scope, field="Output") == "plain"
    assert jsonata.resolve_template(None, scope, field="Output") is None
    assert jsonata.resolve_template(
        {"x": ["{% $states.input.a[0] %}", {"y": "{% $count($states.input.a) %}"}]}, scope, field="Output"
    ) == {"x": [1, {"y": 2}]}


def test_template_error_names_the_nested_field() -> None:
    # recorded: a Catch's Output referencing a variable that was never assigned
    scope = _scope({})
    with pytest.raises(EvaluationError) as info:
        jsonata.resolve_template({"error": "{% $stateError %}"}, scope, field="Output")
    assert info.value.cause == (
        "The JSONata expression '$stateError' specified for the field 'Output/error' returned nothing "
        "(undefined)."
    )
    with pytest.raises(EvaluationError) as info:
        jsonata.resolve_template({"a": {"b": ["ok", "{% $nope %}"]}}, scope, field="Arguments")
    assert "for the field 'Arguments/a/b/1'" in str(info.value.cause)


# --- syntax, caching, threads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("{% $states.input.a %}", True),
        ("{% $x := 1; $x + 1 %}", False),  # a sequence of expressions needs a ( ) block
        ("{% ($x := 1; $x + 1) %}", True),
        ("$sum([1, 2])", True),
        ("{% 1 + %}", False),
        ("{% %}", False),
        ("{% [1, 2 %}", False),
        ("{% 'unterminated %}", False),
        ("{% $f( %}", False),
    ],
)
def test_check_jsonata_syntax(text: str, ok: bool) -> None:
    message = jsonata.check_jsonata_syntax(text)
    if ok:
        assert message is None
    else:
        assert message and re.match(r"S0\d{3}: ", message)


def test_syntax_error_at_run_time() -> None:
    assert _cause("{% 1 + %}") == (
        "The JSONata expression '1 +' specified for the field 'Output' threw an error during evaluation. "
        "S0207: Unexpected end of expression"
    )


def test_parsing_is_cached() -> None:
    text = "{% $states.input.cached_once + 0 %}"
    jsonata._compile.cache_clear()
    for n in range(3):
        assert _eval(text, _scope({"cached_once": n})) == n
    info = jsonata._compile.cache_info()
    assert info.misses == 1 and info.hits == 2


def test_concurrent_evaluations_are_independent() -> None:
    # One parsed expression evaluated by many threads at once, each with its own bindings,
    # including a lambda (which the library applies through its per-thread state). Each thread
    # also checks that no other thread's variable is visible to it.
    threads_count = 8
    probes = ", ".join(f"$exists($only_{k})" for k in range(threads_count))
    text = f"{{% [$map($states.input.items, function($v){{ $v * $factor }}) ~> $sum(), {probes}] %}}"
    jsonata._compile.cache_clear()  # let a worker thread parse it (the library ties it to that thread)
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_count)

    def work(me: int) -> None:
        try:
            barrier.wait()
            scope = _scope({"items": list(range(50))}, variables={"factor": me, f"only_{me}": True})
            expected = [sum(range(50)) * me] + [k == me for k in range(threads_count)]
            for _ in range(100):
                assert _eval(text, scope) == expected
        except BaseException as ex:
            errors.append(ex)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_shuffle_uses_the_scope_random() -> None:
    text = "{% $shuffle([1, 2, 3, 4, 5, 6, 7, 8]) %}"
    first = _eval(text, _scope({}, seed=3))
    assert first == _eval(text, _scope({}, seed=3))
    assert sorted(first) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_parse_is_strict_json() -> None:
    scope = _scope({"s": "NaN"})
    assert "threw an error during evaluation" in _cause("{% $parse($states.input.s) %}", scope)


def test_range_is_bounded() -> None:
    assert "must not exceed" in _cause("{% $range(0, 100000000, 1) %}")
