"""Running a case in-process: parse the definition, simulate the execution, record, judge.

A case runs in the simulator (podium.runtime.simulator): the interpreter the engine drives,
with virtual time, so a Wait of an hour costs nothing, and the registered Python functions
answering Lambda tasks at once. What the run produced is written down as the judge's
`--observed` record (DescribeExecution's fields and GetExecutionHistory's events) and judged
from that record after a JSON round trip: the figures printed here are then those the judge
prints for the same file, by construction.

Names follow the judge: the state machine `podium-conf-<seq>-<12 hex>` and the execution a
UUID, so that ARNs have the shape the corpus's placeholders stand for.

A `test_state` case is a TestState request (`test_state_request`): it is checked against the
API's shapes and answered by the TestState action itself (podium.service.teststate), with the
registered functions as its only connector, as a server would answer it; its record adds
`nextState` and `inspectionData` to the judge's fields.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.conformance.cases import Case, resolve, skip_reason
from podium.conformance.judge import Verdict, judge_record
from podium.conformance.matcher import JSON

if TYPE_CHECKING:
    from podium.api.shapes import ApiShapes
    from podium.connectors.functions import FunctionRegistry

Function = Callable[[Any], Any]

_RESULT_FIELDS = ("status", "output", "error", "cause", "events")
# The role every test_state request names: the corpus leaves the recording's role out, and the
# tests that recorded it gave one (but for those of states that need none).
TEST_STATE_ROLE_ARN = "arn:aws:iam::000000000000:role/podium"
_CONFORMANCE_DIR = Path(__file__).resolve().parent
_PODIUM_DIR = _CONFORMANCE_DIR.parent


@dataclass
class CaseResult:
    case: Case
    record: dict[str, Any]
    skipped: str | None = None
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def attempted(self) -> bool:
        return self.skipped is None

    def passed(self, level: str) -> bool | None:
        """None when the level does not apply (the kind has no such level, or the case was skipped)."""
        verdict = self.verdicts.get(level)
        return None if verdict is None else verdict.passed

    def as_record(self) -> dict[str, Any]:
        """The record for --json: the judge's --observed fields, then this runner's verdicts."""
        out = dict(self.record)
        out["pure"] = self.case.pure
        if self.attempted:
            out["levels"] = {lv: "pass" if v.passed else "fail" for lv, v in self.verdicts.items()}
            out["reasons"] = {lv: v.reason for lv, v in self.verdicts.items() if not v.passed}
            out["diffs"] = {lv: v.detail for lv, v in self.verdicts.items() if not v.passed}
            out["elapsed_s"] = round(self.elapsed_s, 4)
        return out


@dataclass
class RunResults:
    results: list[CaseResult]
    seed: int
    wall_s: float


def run_cases(
    cases: Iterable[Case],
    functions: FunctionRegistry | Mapping[str, Function] | None = None,
    seed: int | None = None,
) -> RunResults:
    """Run (or skip) every case. `functions`: a FunctionRegistry or a mapping name -> callable.

    `seed` makes the runs reproducible: each execution gets its own seed derived from it and
    the case's name, so a case re-run alone (--name-contains) behaves the same.
    """
    registry = _registry(functions)
    names = registry.names() if registry is not None else []
    base_seed = secrets.randbits(32) if seed is None else seed
    started = time.perf_counter()
    results = [
        run_case(case, registry, names, seq, case_seed(base_seed, case.name))
        for seq, case in enumerate(cases)
    ]
    return RunResults(results, base_seed, time.perf_counter() - started)


def case_seed(base: int, name: str) -> int:
    digest = hashlib.sha256(f"{base}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def run_case(
    case: Case, registry: FunctionRegistry | None, names: list[str], seq: int, seed: int
) -> CaseResult:
    why = skip_reason(case, names)
    if why is not None:
        record = {"name": case.name, "kind": case.kind, "skipped": why, **dict.fromkeys(_RESULT_FIELDS)}
        return CaseResult(case, record, skipped=why)
    t0 = time.perf_counter()
    definition, input_value = resolve(case, names)
    try:
        if case.kind == "test_state":
            record = _test_state(case, definition, input_value, registry)
        else:
            record = _execute(case, definition, input_value, registry=registry, seq=seq, seed=seed)
        # Judge what would be written: JSON has no tuples, and a value that cannot be
        # written at all is a failure of podium, not of the runner.
        record = json.loads(json.dumps(record))
    except Exception as exc:  # a podium bug fails this case, never the run
        record = _failure_record(case, *_describe_exception(exc))
    elapsed = time.perf_counter() - t0
    return CaseResult(case, record, verdicts=judge_record(case, record), elapsed_s=elapsed)


def _execute(
    case: Case, definition: JSON, input_value: JSON, *, registry: FunctionRegistry | None, seq: int, seed: int
) -> dict[str, Any]:
    # Imported here so that the corpus, the matcher and the report stay usable (for judging a
    # file) even when the interpreter cannot be imported.
    from podium.arns import ArnFactory
    from podium.asl.errors import DefinitionError
    from podium.asl.parser import parse_definition
    from podium.core.context import iso_millis
    from podium.core.messages import ExecutionInfo
    from podium.runtime.simulator import simulate

    try:
        # As CreateStateMachine receives it: JSON text.
        machine = parse_definition(json.dumps(definition))
    except DefinitionError as exc:
        codes = sorted({d.code for d in exc.diagnostics}) or ["?"]
        first = exc.diagnostics[0] if exc.diagnostics else exc
        return _failure_record(
            case, f"definition rejected: {first}", f"definition rejected: {', '.join(codes[:2])}"
        )

    arns = ArnFactory()
    machine_name = f"podium-conf-{seq}-{uuid.uuid4().hex[:12]}"
    execution_name = str(uuid.uuid4())
    express = case.kind == "express_sync"
    execution_arn = (arns.express_execution if express else arns.execution)(machine_name, execution_name)
    start_ms = int(time.time() * 1000)
    info = ExecutionInfo(
        execution_arn=execution_arn,
        name=execution_name,
        state_machine_arn=arns.state_machine(machine_name),
        state_machine_name=machine_name,
        start_time=iso_millis(start_ms),
        redrive_count=None if express else 0,
    )
    # A copy through JSON: the input as StartExecution's JSON text would carry it.
    run = simulate(
        machine,
        json.loads(json.dumps(input_value)),
        functions=registry,
        info=info,
        seed=seed,
        start_ms=start_ms,
    )
    outcome = run.outcome
    record: dict[str, Any] = {
        "name": case.name,
        "kind": case.kind,
        "skipped": None,
        "status": run.status,
        "output": outcome.output if outcome else None,
        "error": outcome.error if outcome else None,
        "cause": outcome.cause if outcome else None,
        # AWS keeps no history of an EXPRESS execution.
        "events": None if express else [event.to_aws() for event in run.events],
    }
    return record


def state_test_request(case: Case, definition: JSON, input_value: JSON) -> dict[str, Any]:
    """The TestState request of a test_state case, as a client sends it (JSON members as text).

    An input the recording did not give (null in the corpus) is left out: TestState's default
    input, {}, is what the state saw.
    """
    request: dict[str, Any] = {"definition": json.dumps(definition), "roleArn": TEST_STATE_ROLE_ARN}
    if input_value is not None:
        request["input"] = json.dumps(input_value)
    for key, value in case.test_state_request.items():
        # The corpus holds the JSON members (variables, context) decoded; the API takes text.
        request[key] = (
            json.dumps(value) if key in ("variables", "context") and not isinstance(value, str) else value
        )
    return request


def _test_state(
    case: Case, definition: JSON, input_value: JSON, registry: FunctionRegistry | None
) -> dict[str, Any]:
    from podium.api.errors import ApiError
    from podium.connectors.functions import FunctionConnector, FunctionRegistry
    from podium.service.teststate import StateTestSettings, run_test_state

    connector = FunctionConnector(registry if registry is not None else FunctionRegistry())
    try:
        params = _api_shapes().check_input("TestState", state_test_request(case, definition, input_value))
        response = run_test_state(params, StateTestSettings(connectors=(connector,)))
    except ApiError as exc:
        return _failure_record(
            case, f"TestState refused: {exc.type}: {exc.message}", f"TestState refused: {exc.type}"
        )
    return state_test_record(case, response)


@functools.cache
def _api_shapes() -> ApiShapes:
    from podium.api.shapes import ApiShapes

    return ApiShapes.load()


def state_test_record(case: Case, response: dict[str, Any]) -> dict[str, Any]:
    """The record of a TestState response: the judge's fields, then nextState and inspectionData."""
    return {
        "name": case.name,
        "kind": case.kind,
        "skipped": None,
        "status": response.get("status"),
        "output": response.get("output"),
        "error": response.get("error"),
        "cause": response.get("cause"),
        "events": None,
        "nextState": response.get("nextState"),
        "inspectionData": response.get("inspectionData"),
    }


def _failure_record(case: Case, detail: str, reason: str) -> dict[str, Any]:
    """A case podium could not run: no status, no history, and why."""
    return {
        "name": case.name,
        "kind": case.kind,
        "skipped": None,
        "status": None,
        "output": None,
        "error": None,
        "cause": None,
        "events": None,
        "podium_error": detail,
        "podium_error_reason": reason,
    }


def _describe_exception(exc: Exception) -> tuple[str, str]:
    """(detail, reason) for an exception podium raised.

    The detail is the exception's text and where podium raised it. The reason, by which the
    report counts failures, leaves the text out when the place is known: one bug raising with
    a different message per case (the state's error name) is still one line of the report.
    """
    message = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    frames = traceback.extract_tb(exc.__traceback__)
    # The innermost frame inside podium (not this runner) names the code to fix.
    ours = [f for f in frames if _in_podium(f.filename)]
    kind = type(exc).__name__
    if not ours:
        text = f"podium raised {kind}: {message}"
        return text, text
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} in {ours[-1].name}"
    return f"podium raised {kind}: {message} (at {where})", f"podium raised {kind} at {where}"


def _in_podium(filename: str) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(_PODIUM_DIR) and not path.is_relative_to(_CONFORMANCE_DIR)


def _registry(functions: FunctionRegistry | Mapping[str, Function] | None) -> FunctionRegistry | None:
    if functions is None:
        return None
    from podium.connectors.functions import FunctionRegistry

    if isinstance(functions, FunctionRegistry):
        return functions
    if isinstance(functions, Mapping):
        return FunctionRegistry(dict(functions))
    raise TypeError(
        f"functions: a FunctionRegistry or a mapping of name -> callable, not {type(functions).__name__}"
    )
