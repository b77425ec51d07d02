"""The checks of one state, by type: required and exclusive fields, value ranges, Retry and Catch.

Called by `podium.asl.validation` for every state of every program; nested programs (Parallel
branches, Map processors) and the transition graph are judged there, not here.
"""

from __future__ import annotations

from collections.abc import Mapping

from podium.asl.choice_schema import check_choice
from podium.asl.model import JSON
from podium.asl.schema import (
    ALLOWED_FIELDS,
    JSONATA_ONLY,
    JSONPATH_ONLY,
    MAX_DELAY_SECONDS,
    MAX_SECONDS,
    STATE_TYPES,
    Report,
    StateCheck,
    at,
    check_assign,
    check_integer,
    check_jsonata_string,
    check_jsonata_template,
    check_path,
    check_path_template,
    exactly_one,
    expected_type,
    is_number,
    is_timestamp,
    not_supported,
    one_of,
    only_one,
    required,
    wrong_language,
)

_RETRY_FIELDS = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
_CATCH_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Output", "Assign", "Comment"})
_PROCESSOR_CONFIG_FIELDS = frozenset({"Mode", "ExecutionType"})
_ITEM_READER_FIELDS = frozenset({"Resource", "ReaderConfig", "Parameters", "Arguments"})
_ITEM_BATCHER_FIELDS = frozenset(
    {
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        "BatchInput",
    }
)
_RESULT_WRITER_FIELDS = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})
_WAIT_FIELDS = ("SecondsPath", "Seconds", "TimestampPath", "Timestamp")


# --- Retry and Catch ----------------------------------------------------------------------------


def check_error_equals(rep: Report, entry: Mapping[str, JSON], loc: str, last: bool) -> None:
    errors = entry.get("ErrorEquals")
    where = at(loc, "ErrorEquals")
    if not isinstance(errors, list):
        rep.schema(expected_type("ARRAY"), where)
        return
    if not errors:
        rep.schema("Value cannot be empty", where)
        return
    if not all(isinstance(e, str) for e in errors):
        rep.schema(expected_type("STRING"), where)
    # States.ALL matches everything, so anything next to or after it could never be chosen
    if "States.ALL" in errors and (len(errors) > 1 or not last):
        rep.schema("States.ALL must appear alone and at end of list", where)


def check_retry(chk: StateCheck, value: JSON) -> None:
    rep = chk.rep
    loc = at(chk.loc, "Retry")
    if not isinstance(value, list):
        rep.schema(expected_type("ARRAY"), loc)
        return
    for i, retrier in enumerate(value):
        where = at(loc, i)
        if not isinstance(retrier, dict):
            rep.schema(expected_type("OBJECT"), where)
            continue
        for key in retrier:
            if key not in _RETRY_FIELDS:
                rep.schema(not_supported(key), where)
        if "ErrorEquals" not in retrier:
            rep.schema(required("ErrorEquals"), where)
        else:
            check_error_equals(rep, retrier, where, i == len(value) - 1)
        # Measured: IntervalSeconds 0 is accepted although the spec asks for a positive integer.
        if "IntervalSeconds" in retrier:
            check_integer(rep, retrier["IntervalSeconds"], at(where, "IntervalSeconds"), 0, MAX_SECONDS)
        if "MaxAttempts" in retrier:
            check_integer(rep, retrier["MaxAttempts"], at(where, "MaxAttempts"), 0, MAX_SECONDS)
        if "MaxDelaySeconds" in retrier:
            check_integer(rep, retrier["MaxDelaySeconds"], at(where, "MaxDelaySeconds"), 1, MAX_DELAY_SECONDS)
        if "BackoffRate" in retrier:
            rate = retrier["BackoffRate"]
            if not is_number(rate):
                rep.schema(expected_type("NUMBER"), at(where, "BackoffRate"))
            elif rate < 1.0:
                rep.schema("Minimum value is 1.0", at(where, "BackoffRate"))
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in ("FULL", "NONE"):
            rep.schema(one_of("NONE", "FULL"), at(where, "JitterStrategy"))
        if "Comment" in retrier and not isinstance(retrier["Comment"], str):
            rep.schema(expected_type("STRING"), at(where, "Comment"))


def check_catch(chk: StateCheck, value: JSON) -> None:
    rep = chk.rep
    loc = at(chk.loc, "Catch")
    if not isinstance(value, list):
        rep.schema(expected_type("ARRAY"), loc)
        return
    for i, catcher in enumerate(value):
        where = at(loc, i)
        if not isinstance(catcher, dict):
            rep.schema(expected_type("OBJECT"), where)
            continue
        for key in catcher:
            if key not in _CATCH_FIELDS:
                rep.schema(not_supported(key), where)
            elif (key == "ResultPath" and chk.jsonata) or (key == "Output" and not chk.jsonata):
                rep.schema(wrong_language(chk.language, key), where)
        missing = [f for f in ("ErrorEquals", "Next") if f not in catcher]
        if missing:
            rep.schema(required(*missing), where)
        if "ErrorEquals" in catcher:
            check_error_equals(rep, catcher, where, i == len(value) - 1)
        if "Next" in catcher and not isinstance(catcher["Next"], str):
            rep.schema(expected_type("STRING"), at(where, "Next"))
        if "ResultPath" in catcher and not chk.jsonata:
            chk.result_path(catcher, at(where, "ResultPath"))
        if "Output" in catcher and chk.jsonata:
            check_jsonata_template(rep, catcher["Output"], at(where, "Output"))
        if "Assign" in catcher:
            check_assign(rep, catcher["Assign"], at(where, "Assign"), chk.jsonata)
        if "Comment" in catcher and not isinstance(catcher["Comment"], str):
            rep.schema(expected_type("STRING"), at(where, "Comment"))


# --- one state -----------------------------------------------------------------------------------


def check_state(
    rep: Report, state: Mapping[str, JSON], loc: str, jsonata: bool, downgraded: bool
) -> str | None:
    """Judge `state` (an object) at pointer `loc`; answer its Type when that is a valid one.

    `jsonata`: the state's effective query language. `downgraded`: the state asks for JSONPath in
    a JSONata machine; AWS reports only that for the language, so the fields of the other language
    are not named on top of it.
    """
    kind = state.get("Type")
    if kind is None:
        rep.schema(required("Type"), loc)
        return None
    if not isinstance(kind, str) or kind not in ALLOWED_FIELDS:
        rep.schema(one_of(*STATE_TYPES), at(loc, "Type"))
        return None
    chk = StateCheck(rep, state, loc, jsonata)
    allowed = ALLOWED_FIELDS[kind]
    fields: set[str] = set()  # the fields whose values are judged below
    for key in state:
        if key not in allowed:
            rep.schema(not_supported(key), loc)
        elif (key in JSONPATH_ONLY) if jsonata else (key in JSONATA_ONLY):
            if not downgraded:
                rep.schema(wrong_language(chk.language, key), loc)
        else:
            fields.add(key)

    if "Comment" in fields:
        chk.string("Comment")
    if "Next" in allowed:
        _check_next_end(chk)
    for field in ("InputPath", "OutputPath"):
        if field in fields:
            chk.path(field, nullable=True)
    if "ResultPath" in fields:
        chk.result_path(state, at(loc, "ResultPath"))
    for field in ("Parameters", "ResultSelector"):
        if field in fields:
            check_path_template(rep, state[field], at(loc, field))
    for field in ("Arguments", "Output"):
        if field in fields:
            check_jsonata_template(rep, state[field], at(loc, field))
    if "Assign" in fields:
        check_assign(rep, state["Assign"], at(loc, "Assign"), jsonata)
    if "Retry" in fields:
        check_retry(chk, state["Retry"])
    if "Catch" in fields:
        check_catch(chk, state["Catch"])
    _BY_TYPE[kind](chk, fields)
    return kind


def _check_next_end(chk: StateCheck) -> None:
    state = chk.state
    has_next = "Next" in state
    end = state.get("End")
    if "End" in state and not isinstance(end, bool):
        chk.rep.schema(expected_type("BOOLEAN"), at(chk.loc, "End"))
    if has_next and not isinstance(state["Next"], str):
        chk.rep.schema(expected_type("STRING"), at(chk.loc, "Next"))
    if has_next and end is True:
        chk.rep.schema(only_one("Next", "End"), chk.loc)
    elif not has_next and end is not True:
        chk.rep.schema(exactly_one("Next", "End"), chk.loc)


def _check_pass(chk: StateCheck, fields: set[str]) -> None:
    pass  # Result is any JSON value; the common fields were judged by check_state


def _check_succeed(chk: StateCheck, fields: set[str]) -> None:
    pass


def _check_task(chk: StateCheck, fields: set[str]) -> None:
    rep, state, loc = chk.rep, chk.state, chk.loc
    if "Resource" not in state:
        rep.schema(required("Resource"), loc)
    elif not isinstance(state["Resource"], str) or not state["Resource"]:
        rep.schema(expected_type("STRING"), at(loc, "Resource"))
    if "Credentials" in fields:
        credentials = state["Credentials"]
        if not isinstance(credentials, dict):
            rep.schema(expected_type("OBJECT"), at(loc, "Credentials"))
        else:
            if "RoleArn" not in credentials and "RoleArn.$" not in credentials:
                rep.schema("The field 'RoleArn' is required but was missing", at(loc, "Credentials"))
            chk.template(credentials, at(loc, "Credentials"))
    timeout = _seconds_pair(chk, fields, "TimeoutSeconds")
    heartbeat = _seconds_pair(chk, fields, "HeartbeatSeconds")
    # the spec: HeartbeatSeconds MUST be smaller than TimeoutSeconds (both literal)
    if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
        rep.schema(
            "The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'",
            at(loc, "HeartbeatSeconds"),
        )


def _seconds_pair(chk: StateCheck, fields: set[str], field: str) -> JSON:
    """TimeoutSeconds / HeartbeatSeconds and their Path variant; answers the literal, if any."""
    chk.exclusive(field, field + "Path")
    if field + "Path" in fields:
        chk.path(field + "Path", reference=True)
    if field not in fields:
        return None
    chk.integer(field, 1, MAX_SECONDS)
    value = chk.state[field]
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _check_wait(chk: StateCheck, fields: set[str]) -> None:
    rep, state, loc = chk.rep, chk.state, chk.loc
    present = [f for f in _WAIT_FIELDS if f in state]
    if len(present) > 1:
        rep.schema(only_one(*_WAIT_FIELDS), loc)
    elif not present:
        rep.schema(exactly_one(*_WAIT_FIELDS), loc)
    if "Seconds" in fields:
        chk.integer("Seconds", 0, MAX_SECONDS)
    if "Timestamp" in fields:
        value = state["Timestamp"]
        if chk.jsonata and isinstance(value, str) and value.startswith("{%"):
            check_jsonata_string(rep, value, at(loc, "Timestamp"))
        elif not isinstance(value, str):
            rep.schema(expected_type("STRING"), at(loc, "Timestamp"))
        elif not is_timestamp(value):
            rep.schema("String does not match RFC3339 timestamp", at(loc, "Timestamp"))
    for field in ("SecondsPath", "TimestampPath"):
        if field in fields:
            chk.path(field, reference=True)


def _check_fail(chk: StateCheck, fields: set[str]) -> None:
    for literal in ("Error", "Cause"):
        chk.exclusive(literal, literal + "Path")
        if literal in fields:
            value = chk.state[literal]
            if chk.jsonata and isinstance(value, str) and value.startswith("{%"):
                check_jsonata_string(chk.rep, value, at(chk.loc, literal))
            else:
                chk.string(literal)
        if literal + "Path" in fields:
            # AWS documents ErrorPath/CausePath as a reference path or an intrinsic function
            chk.path(literal + "Path", reference=True, intrinsic=True)


def _check_parallel(chk: StateCheck, fields: set[str]) -> None:
    branches = chk.state.get("Branches")
    if "Branches" not in chk.state:
        chk.rep.schema(required("Branches"), chk.loc)
    elif not isinstance(branches, list):
        chk.rep.schema(expected_type("ARRAY"), at(chk.loc, "Branches"))
    elif not branches:
        chk.rep.schema("Value cannot be empty", at(chk.loc, "Branches"))
    else:
        for i, branch in enumerate(branches):
            if not isinstance(branch, dict):
                chk.rep.schema(expected_type("OBJECT"), at(chk.loc, "Branches", i))


def _check_map(chk: StateCheck, fields: set[str]) -> None:
    rep, state, loc = chk.rep, chk.state, chk.loc
    processors = [f for f in ("ItemProcessor", "Iterator") if f in state]
    if len(processors) > 1:
        rep.schema(only_one("ItemProcessor", "Iterator"), loc)
    elif not processors:
        rep.schema(exactly_one("ItemProcessor", "Iterator"), loc)
    for field in processors:
        processor = state[field]
        if not isinstance(processor, dict):
            rep.schema(expected_type("OBJECT"), at(loc, field))
        elif "ProcessorConfig" in processor:
            _check_processor_config(rep, processor["ProcessorConfig"], at(loc, field, "ProcessorConfig"))

    for field, minimum, maximum in (
        ("MaxConcurrency", 0, None),
        ("ToleratedFailureCount", 0, None),
    ):
        chk.exclusive(field, field + "Path")
        if field in fields:
            chk.integer(field, minimum, maximum)
    chk.exclusive("ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
    if "ToleratedFailurePercentage" in fields:
        _check_percentage(chk)
    for field in (
        "MaxConcurrencyPath",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentagePath",
        "ItemsPath",
    ):
        if field in fields:
            chk.path(field, reference=True)
    if "Items" in fields:
        items = state["Items"]
        if isinstance(items, str):
            check_jsonata_string(rep, items, at(loc, "Items"))
        elif isinstance(items, list):
            check_jsonata_template(rep, items, at(loc, "Items"))
        else:
            rep.schema(expected_type("ARRAY"), at(loc, "Items"))
    # Parameters is the legacy spelling of ItemSelector: one or the other
    if chk.exclusive("ItemSelector", "Parameters") and "ItemSelector" in fields:
        chk.template(state["ItemSelector"], at(loc, "ItemSelector"))
    for field, allowed in (
        ("ItemReader", _ITEM_READER_FIELDS),
        ("ItemBatcher", _ITEM_BATCHER_FIELDS),
        ("ResultWriter", _RESULT_WRITER_FIELDS),
    ):
        if field in fields:
            _check_map_config(chk, field, allowed)
    if "Label" in fields:
        chk.string("Label")


def _check_percentage(chk: StateCheck) -> None:
    value = chk.state["ToleratedFailurePercentage"]
    where = at(chk.loc, "ToleratedFailurePercentage")
    if chk.jsonata and isinstance(value, str) and value.startswith("{%"):
        check_jsonata_string(chk.rep, value, where)
    elif not isinstance(value, int | float) or isinstance(value, bool):
        chk.rep.schema(expected_type("NUMBER"), where)
    elif value < 0:
        chk.rep.schema("Minimum value is 0", where)
    elif value > 100:
        chk.rep.schema("Maximum value is 100", where)


def _check_processor_config(rep: Report, config: JSON, loc: str) -> None:
    if not isinstance(config, dict):
        rep.schema(expected_type("OBJECT"), loc)
        return
    for key in config:
        if key not in _PROCESSOR_CONFIG_FIELDS:
            rep.schema(not_supported(key), loc)
    mode = config.get("Mode", "INLINE")
    if mode not in ("INLINE", "DISTRIBUTED"):
        rep.schema(one_of("INLINE", "DISTRIBUTED"), at(loc, "Mode"))
    execution_type = config.get("ExecutionType")
    if mode == "DISTRIBUTED" and execution_type is None:
        rep.schema(required("ExecutionType"), loc)
    elif mode == "INLINE" and "ExecutionType" in config:
        rep.schema(not_supported("ExecutionType"), loc)
    elif execution_type is not None and execution_type not in ("STANDARD", "EXPRESS"):
        rep.schema(one_of("STANDARD", "EXPRESS"), at(loc, "ExecutionType"))


def _check_map_config(chk: StateCheck, field: str, allowed: frozenset[str]) -> None:
    """ItemReader / ItemBatcher / ResultWriter: an object of known fields; payloads inside judged."""
    rep = chk.rep
    value = chk.state[field]
    loc = at(chk.loc, field)
    if not isinstance(value, dict):
        if not (chk.jsonata and isinstance(value, str) and value.startswith("{%")):
            rep.schema(expected_type("OBJECT"), loc)
        else:
            check_jsonata_string(rep, value, loc)
        return
    for key, item in value.items():
        if key not in allowed:
            rep.schema(not_supported(key), loc)
        elif key in ("Parameters", "Arguments") and (key == "Arguments") != chk.jsonata:
            rep.schema(wrong_language(chk.language, key), loc)
        elif key in {"Parameters", "BatchInput", "ReaderConfig"}:
            chk.template(item, at(loc, key))
        elif key == "Arguments":
            check_jsonata_template(rep, item, at(loc, key))
        elif key.endswith("Path"):
            check_path(rep, item, key, at(loc, key), reference=True)
        elif key.startswith("Max"):
            check_integer(rep, item, at(loc, key), 0, None, jsonata=chk.jsonata)
    if field == "ItemReader" and "Resource" not in value:
        rep.schema(required("Resource"), loc)


_BY_TYPE = {
    "Pass": _check_pass,
    "Task": _check_task,
    "Choice": check_choice,
    "Wait": _check_wait,
    "Succeed": _check_succeed,
    "Fail": _check_fail,
    "Parallel": _check_parallel,
    "Map": _check_map,
}
