"""Wait: a timer until now + Seconds, or until Timestamp (at once if it has passed); the *Path
forms read the input, failing with AWS's States.Runtime texts when it does not fit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.driver import T0, Run, machine


def waiting(**fields: Any) -> dict[str, Any]:
    return machine("Nap", {"Nap": {"Type": "Wait", "End": True, **fields}})


def test_seconds_arms_a_timer_and_the_state_exits_when_it_fires() -> None:
    run = Run(waiting(Seconds=10), {"k": 1})
    assert run.fire_times() == [10]
    assert run.types()[-1] == "WaitStateEntered"
    run.fire_timer()
    assert run.history()[-2:] == [
        ("WaitStateExited", {"name": "Nap", "output": {"k": 1}}),
        ("ExecutionSucceeded", {"output": {"k": 1}}),
    ]
    assert run.events[-1].timestamp == (T0 + 10_000) / 1000


def test_seconds_path_reads_the_wait_from_the_input() -> None:
    run = Run(waiting(SecondsPath="$.input.waitSeconds"), {"input": {"waitSeconds": 7}})
    assert run.fire_times() == [7]


def test_timestamp_waits_until_that_instant() -> None:
    run = Run(waiting(Timestamp="2023-11-14T22:14:20Z"), {})  # T0 + 60 s
    assert run.fire_times() == [60]


def test_timestamp_path_in_the_past_fires_at_once() -> None:
    run = Run(waiting(TimestampPath="$.when"), {"when": "2016-03-14T01:59:00Z"})
    (timer,) = run.timers()
    assert timer.fire_at_ms == run.now_ms == T0
    run.fire_timer()
    assert run.status == "SUCCEEDED"
    assert run.t == 0


def test_a_wait_of_zero_seconds_still_passes_through_a_timer() -> None:
    run = Run(waiting(SecondsPath="$.s"), {"s": 0})
    assert run.fire_times() == [0]
    run.fire_timer()
    assert run.status == "SUCCEEDED"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-1, "The SecondsPath parameter references a negative value: $.input.waitSeconds == -1"),
        (1.5, "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5"),
    ],
)
def test_seconds_path_values_that_are_not_a_non_negative_integer(value: Any, text: str) -> None:
    run = Run(waiting(SecondsPath="$.input.waitSeconds"), {"input": {"waitSeconds": value}})
    assert run.types() == ["ExecutionStarted", "WaitStateEntered", "ExecutionFailed"]
    assert run.details("ExecutionFailed") == {
        "error": "States.Runtime",
        "cause": f"An error occurred while executing the state 'Nap' (entered at the event id #2). {text}",
    }
    assert run.issued == {}


def test_seconds_path_to_nothing() -> None:
    run = Run(waiting(SecondsPath="$.missing"), {})
    assert run.details("ExecutionFailed")["cause"].endswith(
        "The SecondsPath parameter does not reference an input value: $.missing"
    )


@pytest.mark.parametrize(
    "value",
    [
        "2016-12-05T21:29:29",
        "2016-12-05 21:29:29Z",
        "05-12-2016T21:29:29Z",
        "2016-13-05T21:29:29Z",
        "2016-12-05T25:29:29Z",
    ],
)
def test_timestamp_path_values_that_are_not_iso_8601_with_an_offset(value: str) -> None:
    run = Run(waiting(TimestampPath="$.TimestampValue"), {"TimestampValue": value})
    assert run.details("ExecutionFailed") == {
        "error": "States.Runtime",
        "cause": "An error occurred while executing the state 'Nap' (entered at the event id #2). "
        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
        f"format string: $.TimestampValue == {value}",
    }


def test_a_wait_too_far_in_the_future_fails() -> None:
    run = Run(waiting(TimestampPath="$.when"), {"when": "2100-01-01T00:00:00Z"})
    assert run.details("ExecutionFailed")["cause"].endswith("Wait state delay is too long.")


def test_the_state_entered_time_is_the_time_the_wait_began() -> None:
    definition = machine(
        "Nap",
        {
            "Nap": {"Type": "Wait", "Seconds": 90, "Next": "Look"},
            "Look": {"Type": "Pass", "Parameters": {"entered.$": "$$.State.EnteredTime"}, "End": True},
        },
    )
    run = Run(definition, {})
    run.fire_timer()
    assert run.output() == {"entered": "2023-11-14T22:14:50.000Z"}  # T0 + 90 s
