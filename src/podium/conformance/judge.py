"""The verdicts: does an observed run agree with AWS's recording, level by level.

Levels (README "Levels of agreement"):
- outcome: the status, then the output (SUCCEEDED) or the error and cause;
- event_types: the ordered list of history event types, and event_types_unordered the same
  as a multiset when Parallel or Map branches may interleave;
- events: every normalised event, and events_unordered the same as a multiset.
io_case and express_sync have the outcome level only (AWS keeps no history of an EXPRESS
execution; an io_case recorded only the input and output), and so has test_state, whose outcome
is TestState's answer: the status, the output (SUCCEEDED, CAUGHT_ERROR), the error and cause
(FAILED, CAUGHT_ERROR, RETRIABLE) and the next state.

Each failing verdict has a `reason`: a short signature without run-specific text, so that
failures of the same cause are counted together in the report (the judge's wording).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from podium.conformance.cases import Case
from podium.conformance.matcher import JSON, Matcher, brief, decode_json_text, normalise_event

LEVELS = ("outcome", "event_types", "event_types_unordered", "events", "events_unordered")
KIND_LEVELS: dict[str, tuple[str, ...]] = {
    "execution": LEVELS,
    "io_case": ("outcome",),
    "express_sync": ("outcome",),
    "test_state": ("outcome",),
}
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    detail: str = ""
    reason: str = ""


PASS = Verdict(True)


@dataclass(frozen=True)
class Observation:
    """What DescribeExecution answered, or why there is no answer (`failure`)."""

    status: str | None = None
    output: str | None = None  # JSON text
    error: str | None = None
    cause: str | None = None
    failure: str | None = None  # podium could not run the case: the detail ...
    failure_reason: str | None = None  # ... and its signature
    next_state: str | None = None  # TestState's nextState

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Observation:
        return cls(
            status=record.get("status"),
            output=record.get("output"),
            error=record.get("error"),
            cause=record.get("cause"),
            failure=record.get("podium_error"),
            failure_reason=record.get("podium_error_reason"),
            next_state=record.get("nextState"),
        )


def judge_record(case: Case, record: dict[str, Any]) -> dict[str, Verdict]:
    """Every level of the case's kind, for a record as the runner writes it (JSON-shaped)."""
    matcher = Matcher(case.bare_tokens)
    observation = Observation.from_record(record)
    compare = compare_test_state if case.kind == "test_state" else compare_outcome
    verdicts = {"outcome": compare(case.expected, observation, matcher)}
    levels = KIND_LEVELS[case.kind]
    if "events" in levels:
        events = record.get("events")
        if events is None:
            why = Verdict(
                False, observation.failure or "no history", observation.failure_reason or "no history"
            )
            verdicts.update(dict.fromkeys(LEVELS[1:], why))
        else:
            history = list(events)
            if case.reverse_history:
                history.reverse()  # compared as it was asked for: reverseOrder=True
            verdicts.update(compare_events(case, history, matcher))
    return {level: verdicts[level] for level in levels}


def compare_outcome(expected: dict[str, Any], observed: Observation, matcher: Matcher) -> Verdict:
    if observed.failure is not None:
        return Verdict(False, observed.failure, observed.failure_reason or observed.failure)
    want, got = expected.get("status"), observed.status
    if want != got:
        return _status_differs(expected, observed)
    if want == "SUCCEEDED":
        return _compare_output(expected, observed, matcher)
    if want in FAILED_STATUSES:
        return _compare_failure(expected, observed, matcher)
    return PASS


def compare_test_state(expected: dict[str, Any], observed: Observation, matcher: Matcher) -> Verdict:
    """TestState's answer: the outcome as above, then for a handled error (CAUGHT_ERROR,
    RETRIABLE) the error and cause, a catcher's output, and in every case the next state."""
    verdict = compare_outcome(expected, observed, matcher)
    status = expected.get("status")
    if verdict.passed and status in ("CAUGHT_ERROR", "RETRIABLE"):
        verdict = _compare_failure(expected, observed, matcher)
    if verdict.passed and status == "CAUGHT_ERROR":
        verdict = _compare_output(expected, observed, matcher)
    if not verdict.passed:
        return verdict
    want, got = expected.get("nextState"), observed.next_state
    if matcher.differences(want, got, ("nextState",)):
        return Verdict(False, f"nextState: expected {want!r}, got {got!r}", "nextState differs")
    return PASS


def _compare_output(expected: dict[str, Any], observed: Observation, matcher: Matcher) -> Verdict:
    if observed.output is None:
        return Verdict(False, "output missing", "output missing")
    value = decode_json_text(observed.output, scalars=True)
    diffs = matcher.differences(expected.get("output"), value, ("output",))
    if diffs:
        return Verdict(False, "; ".join(map(str, diffs[:3])), "output differs")
    return PASS


def _status_differs(expected: dict[str, Any], observed: Observation) -> Verdict:
    want, got = expected.get("status"), observed.status
    if got == "RUNNING":
        # In virtual time RUNNING means nothing more could happen (no timer, no answer).
        return Verdict(False, "still RUNNING: the execution cannot progress", "timeout (still RUNNING)")
    extra = ""
    reason = f"status {want} -> {got}"
    if got == "FAILED" or observed.error:
        extra = f" (error {observed.error!r}: {brief(observed.cause, 120)})"
        reason += f" [{observed.error}]"
    else:
        if got == "SUCCEEDED":
            output = decode_json_text(observed.output, scalars=True) if observed.output is not None else None
            extra = f" (output {brief(output, 120)})"
        if want == "FAILED":
            reason += f" [expected {expected.get('error')}]"
    return Verdict(False, f"status: expected {want}, got {got}{extra}", reason)


def _compare_failure(expected: dict[str, Any], observed: Observation, matcher: Matcher) -> Verdict:
    messages: list[str] = []
    reason = ""
    if matcher.differences(expected.get("error"), observed.error, ("error",)):
        messages.append(f"error: expected {expected.get('error')!r}, got {observed.error!r}")
        reason = f"error {expected.get('error')} -> {observed.error}"
    want_cause, got_cause = expected.get("cause"), observed.cause
    # The corpus holds a JSON cause decoded; a plain-text cause stays text.
    got: JSON = (
        decode_json_text(got_cause, scalars=False) if isinstance(want_cause, dict | list) else got_cause
    )
    diffs = matcher.differences(want_cause, got, ("cause",))
    if diffs and isinstance(want_cause, str) and isinstance(got_cause, str):
        # A cause that is itself a JSON string ("\"text\"") was recorded decoded.
        decoded = decode_json_text(got_cause, scalars=True)
        if isinstance(decoded, str) and matcher.matches(want_cause, decoded):
            diffs = []
    if diffs:
        messages.append("cause: " + "; ".join(map(str, diffs[:2])))
        reason = reason or f"cause differs [{expected.get('error')}]"
    if messages:
        return Verdict(False, " | ".join(messages), reason)
    return PASS


def compare_events(case: Case, history: list[dict[str, Any]], matcher: Matcher) -> dict[str, Verdict]:
    expected = case.expected
    want_types = expected.get("event_types") or [e.get("type") for e in expected.get("events") or []]
    got_types = [e.get("type") for e in history]
    out: dict[str, Verdict] = {"event_types": _compare_types(want_types, got_types)}
    if case.concurrent and Counter(want_types) != Counter(got_types):
        missing, extra = Counter(want_types) - Counter(got_types), Counter(got_types) - Counter(want_types)
        out["event_types_unordered"] = Verdict(
            False, f"missing {dict(missing)}; unexpected {dict(extra)}", "event type multiset differs"
        )
    elif case.concurrent:
        out["event_types_unordered"] = PASS
    else:
        out["event_types_unordered"] = out["event_types"]
    want_events: list[dict[str, Any]] = expected.get("events") or []
    got_events = [normalise_event(e) for e in history]
    out["events"] = _compare_event_lists(want_events, got_events, matcher)
    if case.concurrent and not out["events"].passed:
        out["events_unordered"] = _compare_event_multisets(want_events, got_events, matcher)
    else:
        out["events_unordered"] = out["events"]
    return out


def _compare_types(want: list[Any], got: list[Any]) -> Verdict:
    if want == got:
        return PASS
    i = next((i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), min(len(want), len(got)))
    a = want[i] if i < len(want) else "<end>"
    b = got[i] if i < len(got) else "<end>"
    return Verdict(
        False,
        f"{len(want)} vs {len(got)} events; first difference at #{i + 1}: expected {a}, got {b}",
        f"event types: expected {a}, got {b}",
    )


def _compare_event_lists(want: list[dict[str, Any]], got: list[dict[str, Any]], matcher: Matcher) -> Verdict:
    counts = f"{len(want)} vs {len(got)} events"
    for i, (w, g) in enumerate(zip(want, got, strict=False)):
        diffs = matcher.differences(w, g, ("events", i))
        if not diffs:
            continue
        wt, gt = w.get("type"), g.get("type")
        if wt != gt:
            reason = f"event type: expected {wt}, got {gt}"
        else:
            # events[i].<details key>.<field>: names the field, not the index.
            reason = f"event details: {wt}." + ".".join(str(x) for x in diffs[0].path[2:4])
        detail = "; ".join(map(str, diffs[:2]))
        return Verdict(False, f"{counts}; event #{i + 1} ({wt}): {detail}", reason)
    if len(want) == len(got):
        return PASS
    i = min(len(want), len(got))
    if len(got) > i:
        return Verdict(
            False,
            f"{counts}; unexpected extra event #{i + 1} {got[i].get('type')}",
            f"extra event {got[i].get('type')}",
        )
    return Verdict(
        False,
        f"{counts}; history ends before expected event #{i + 1} {want[i].get('type')}",
        f"missing event {want[i].get('type')}",
    )


def _compare_event_multisets(
    want: list[dict[str, Any]], got: list[dict[str, Any]], matcher: Matcher
) -> Verdict:
    """Every expected event matches a distinct observed one (greedily, in expected order)."""
    used = [False] * len(got)
    for i, w in enumerate(want):
        hit = next((j for j, g in enumerate(got) if not used[j] and matcher.matches(w, g)), None)
        if hit is not None:
            used[hit] = True
            continue
        wt = w.get("type")
        nearest = next((j for j, g in enumerate(got) if not used[j] and g.get("type") == wt), None)
        if nearest is None:
            return Verdict(False, f"no observed event for expected #{i + 1} {wt}", f"missing event {wt}")
        diffs = matcher.differences(w, got[nearest], ("events", nearest))
        detail = "; ".join(map(str, diffs[:2]))
        return Verdict(
            False,
            f"no observed match for expected #{i + 1} {wt}; nearest #{nearest + 1}: {detail}",
            f"event details: {wt}." + ".".join(str(x) for x in diffs[0].path[2:4]),
        )
    extra = [got[j].get("type") for j in range(len(got)) if not used[j]]
    if extra:
        return Verdict(False, f"unexpected extra events {extra[:5]}", f"extra event {extra[0]}")
    return PASS
