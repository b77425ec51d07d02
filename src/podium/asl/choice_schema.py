"""The checks of a Choice state and its rules.

JSONPath rules: a `Variable` and exactly one comparison operator, or one of And/Or/Not over
nested rules (which carry no Next). JSONata rules: a `Condition`.
"""

from __future__ import annotations

from collections.abc import Mapping

from podium.asl.model import JSON
from podium.asl.schema import (
    OPERATORS,
    Report,
    StateCheck,
    at,
    check_assign,
    check_jsonata_string,
    check_jsonata_template,
    check_path,
    expected_type,
    is_timestamp,
    not_supported,
    only_one,
    required,
    wrong_language,
)

_RULE_COMBINATORS = ("And", "Or", "Not")
_ONE_RULE = "The object must have only one of the following fields, [And, Or, Not, Variable, Condition]"


def check_choice(chk: StateCheck, fields: set[str]) -> None:
    rep, state, loc = chk.rep, chk.state, chk.loc
    choices = state.get("Choices")
    if "Choices" not in state:
        rep.schema(required("Choices"), loc)
    elif not isinstance(choices, list):
        rep.schema(expected_type("ARRAY"), at(loc, "Choices"))
    elif not choices:
        rep.schema("Value cannot be empty", at(loc, "Choices"))
    else:
        for i, rule in enumerate(choices):
            check_rule(chk, rule, at(loc, "Choices", i), top=True)
    if "Default" in state and not isinstance(state["Default"], str):
        rep.schema(expected_type("STRING"), at(loc, "Default"))


def check_rule(chk: StateCheck, rule: JSON, loc: str, top: bool) -> None:
    """One Choice rule. `top`: an element of Choices (carries Next), not one nested in And/Or/Not."""
    rep = chk.rep
    if not isinstance(rule, dict):
        rep.schema(expected_type("OBJECT"), loc)
        return
    if top:
        if "Next" not in rule:
            rep.schema(required("Next"), loc)
        elif not isinstance(rule["Next"], str):
            rep.schema(expected_type("STRING"), at(loc, "Next"))
    if chk.jsonata:
        _check_jsonata_rule(chk, rule, loc, top)
    else:
        _check_jsonpath_rule(chk, rule, loc, top)
    if "Comment" in rule and not isinstance(rule["Comment"], str):
        rep.schema(expected_type("STRING"), at(loc, "Comment"))


def _check_jsonata_rule(chk: StateCheck, rule: Mapping[str, JSON], loc: str, top: bool) -> None:
    rep = chk.rep
    for key in rule:
        if key in ("Condition", "Comment") or (top and key in ("Next", "Assign", "Output")):
            continue
        if key == "Variable" or key in OPERATORS or key in _RULE_COMBINATORS:
            rep.schema(wrong_language("JSONata", key), loc)
        else:
            rep.schema(not_supported(key), loc)
    if "Condition" not in rule:
        rep.schema(required("Condition"), loc)
    else:
        condition = rule["Condition"]
        if isinstance(condition, str):
            check_jsonata_string(rep, condition, at(loc, "Condition"))
        elif not isinstance(condition, bool):
            rep.schema(expected_type("BOOLEAN"), at(loc, "Condition"))
    if top and "Output" in rule:
        check_jsonata_template(rep, rule["Output"], at(loc, "Output"))
    if top and "Assign" in rule:
        check_assign(rep, rule["Assign"], at(loc, "Assign"), True)


def _check_jsonpath_rule(chk: StateCheck, rule: Mapping[str, JSON], loc: str, top: bool) -> None:
    rep = chk.rep
    operators: list[str] = []
    combinators: list[str] = []
    for key in rule:
        if key in OPERATORS:
            operators.append(key)
        elif key in _RULE_COMBINATORS:
            combinators.append(key)
        elif key in ("Variable", "Comment") or (top and key in ("Next", "Assign")):
            continue
        elif key in ("Condition", "Output"):
            rep.schema(wrong_language("JSONPath", key), loc)
        else:
            rep.schema(not_supported(key), loc)
    leaf = "Variable" in rule or bool(operators)
    if len(combinators) + leaf != 1:
        rep.schema(_ONE_RULE, loc)
    elif leaf:
        if "Variable" not in rule:
            rep.schema(required("Variable"), loc)
        else:
            check_path(rep, rule["Variable"], "Variable", at(loc, "Variable"))
        if len(operators) > 1:
            rep.schema(only_one(*operators), loc)
        elif not operators:
            rep.schema("A rule with the field 'Variable' needs one comparison operator", loc)
        for op in operators:
            _check_operand(rep, op, rule[op], at(loc, op))
    else:
        combinator = combinators[0]
        operand = rule[combinator]
        where = at(loc, combinator)
        if combinator == "Not":
            check_rule(chk, operand, where, top=False)
        elif not isinstance(operand, list):
            rep.schema(expected_type("ARRAY"), where)
        elif not operand:
            rep.schema("Value cannot be empty", where)
        else:
            for i, sub in enumerate(operand):
                check_rule(chk, sub, at(where, i), top=False)
    if top and "Assign" in rule:
        check_assign(rep, rule["Assign"], at(loc, "Assign"), False)


def _check_operand(rep: Report, op: str, value: JSON, loc: str) -> None:
    base, is_path = OPERATORS[op]
    if is_path:
        check_path(rep, value, op, loc)
    elif base.startswith("Is") or base == "BooleanEquals":
        if not isinstance(value, bool):
            rep.schema(expected_type("BOOLEAN"), loc)
    elif base.startswith("Numeric"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            rep.schema(expected_type("NUMBER"), loc)
    elif not isinstance(value, str):
        rep.schema(expected_type("STRING"), loc)
    elif base.startswith("Timestamp") and not is_timestamp(value):
        rep.schema("String does not match RFC3339 timestamp", loc)
