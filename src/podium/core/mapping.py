"""The Map state: items, selection, batching, concurrency and tolerated failures.

Inline iterations are recorded in the execution's own history (MapIterationStarted, the
iteration's states, MapIterationSucceeded). A DISTRIBUTED Map runs its iterations here too,
locally, but as AWS records it: a map run (MapRunStarted/MapRunSucceeded) whose iterations
are child runs with no events in the parent's history.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium.asl import jsonata, paths, payload
from podium.asl.errors import ErrorName, EvaluationError
from podium.asl.jsontext import to_json_text
from podium.asl.model import JSON, MapState, QueryLanguage
from podium.core import dataflow
from podium.core.context import Frame
from podium.core.redrive import BranchProgress, ResumePoint
from podium.core.scheduler import Await, Cancelled, Fiber

if TYPE_CHECKING:
    from podium.core.interpreter import Interpreter, Step, _StateRun

_RUNTIME = ErrorName.RUNTIME.value
_QUERY = ErrorName.QUERY_EVALUATION_ERROR.value
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


@dataclass
class MapRun:
    """What DescribeMapRun shows of a distributed Map's run: kept by the core as it goes."""

    arn: str
    label: str
    start_ms: int
    max_concurrency: int
    tolerated_failure_count: int
    tolerated_failure_percentage: float
    total: int
    succeeded: int = 0
    failed: int = 0
    aborted: int = 0
    running: int = 0
    status: str = "RUNNING"  # RUNNING | SUCCEEDED | FAILED | ABORTED
    stop_ms: int | None = None
    redrive_count: int = 0
    redrive_ms: int | None = None

    def end(self, status: str, now_ms: int, still_running: int) -> None:
        self.status = status
        self.stop_ms = now_ms
        self.aborted += still_running
        self.running = 0


def run_map(interp: Interpreter, state: MapState, raw_input: JSON, frame: Frame, run: _StateRun) -> Step:
    from podium.core.interpreter import StateFailure

    jsonata_state = state.query_language == QueryLanguage.JSONATA
    scope = interp._scope(raw_input, frame, run)
    read = state.item_reader is not None and interp.reader_items is not None
    if jsonata_state:
        effective = raw_input
        items = list(interp.reader_items or ()) if read else _jsonata_items(state, scope, raw_input)
    else:
        effective = dataflow.input_path(state.input_path, raw_input, scope)
        interp._inspect("afterInputPath", effective)
        scope = interp._scope(effective, frame, run)
        if read:
            items = list(interp.reader_items or ())
        else:
            items = _jsonpath_items(state, scope, effective)
            interp._inspect("afterItemsPath", items)
    max_concurrency = (
        _map_integer("MaxConcurrency", state.max_concurrency, state.max_concurrency_path, scope) or 0
    )
    tolerated_count = _map_integer(
        "ToleratedFailureCount",
        state.tolerated_failure_count,
        state.tolerated_failure_count_path,
        scope,
    )
    tolerated_pct = _number_field(
        state,
        "ToleratedFailurePercentage",
        state.tolerated_failure_percentage,
        state.tolerated_failure_percentage_path,
        scope,
    )
    interp._inspect("maxConcurrency", max_concurrency)
    if tolerated_count is not None:
        interp._inspect("toleratedFailureCount", tolerated_count)
    if tolerated_pct is not None:
        interp._inspect("toleratedFailurePercentage", tolerated_pct)
    if interp.children_stub is not None:  # TestState: a mock stands in for the iterations
        inputs = _iteration_inputs(interp, state, items, effective, frame, run)
        return interp.children_stub(state, len(inputs), tolerated_count, tolerated_pct)
    distributed = state.processor_mode == "DISTRIBUTED"
    resumed = run.resumed.progress if run.resumed is not None else None
    if isinstance(resumed, BranchProgress):
        # A redrive: the iterations that succeeded keep their results, the others run again.
        progress = resumed
        inputs = progress.inputs
        map_run = interp.map_runs.get(str(progress.extra.get("mapRunArn")))
        if map_run is not None:
            assert interp.info is not None
            map_run.status, map_run.stop_ms = "RUNNING", None
            map_run.redrive_count, map_run.redrive_ms = map_run.redrive_count + 1, interp._now_ms
            map_run.failed = map_run.aborted = 0  # those run again
            redriven = {"mapRunArn": map_run.arn, "redriveCount": map_run.redrive_count}
            interp._emit(frame, "MapRunRedriven", redriven)
    else:
        inputs = _iteration_inputs(interp, state, items, effective, frame, run)
        progress = BranchProgress.of(inputs)
        interp._emit(frame, "MapStateStarted", {"length": len(items)})
        map_run = None
        if distributed:
            arn = _map_run_arn(interp, state)
            progress.extra["mapRunArn"] = arn
            map_run = MapRun(
                arn,
                state.label or state.name,
                interp._now_ms,
                max_concurrency,
                tolerated_count or 0,
                tolerated_pct or 0.0,
                len(inputs),
            )
            interp.map_runs[arn] = map_run
            interp._emit(frame, "MapRunStarted", {"mapRunArn": arn})
    run.progress = progress
    processor = state.item_processor
    assert processor is not None

    def iteration(index: int, value: JSON, child: Frame, resume: ResumePoint | None) -> Step:
        details = {"index": index, "name": state.name}
        if not distributed and resume is None:  # a resumed iteration is still open: not started again
            interp._emit(child, "MapIterationStarted", details)
        try:
            output = yield from interp._run_program(processor, value, child, resume)
        except StateFailure:
            if not distributed:
                interp._emit(child, "MapIterationFailed", details)
            raise
        except Cancelled:
            if not distributed and interp.outcome is None:  # not when the execution itself ends
                interp._emit(child, "MapIterationAborted", details)
            raise
        if not distributed:
            interp._emit(child, "MapIterationSucceeded", details)
        return output

    parent = interp._current_fiber()
    key = interp._new_id("join")
    interp.scheduler.subscribe(parent, key)
    results = progress.results
    running: list[Fiber] = []
    queue = progress.pending()
    next_pos = 0
    finished = 0
    failures = 0
    tolerant = distributed or tolerated_count is not None or tolerated_pct is not None

    def new_frame() -> Frame:
        child = frame.child()
        child.record = frame.record and not distributed
        return child

    def spawn_next() -> None:
        nonlocal next_pos
        index = queue[next_pos]
        next_pos += 1
        child, resume = interp._branch_frame(progress, index, new_frame)

        def done(fiber: Fiber, result: Any, error: BaseException | None) -> None:
            interp.scheduler.deliver(key, (index, fiber, result, error))

        body = iteration(index, inputs[index], child, resume)
        running.append(interp.scheduler.spawn(body, f"{state.name}-{index}", done))
        if map_run is not None:
            map_run.running = len(running)

    try:
        while next_pos < len(queue) and (max_concurrency <= 0 or len(running) < max_concurrency):
            spawn_next()
        while finished < len(queue):
            message = yield Await((key,))
            index, fiber, result, error = message.value
            running.remove(fiber)
            finished += 1
            if map_run is not None:
                map_run.running = len(running)
                if error is None:
                    map_run.succeeded += 1
                elif isinstance(error, StateFailure):
                    map_run.failed += 1
            if error is None:
                results[index] = result
                progress.done[index] = True
            elif isinstance(error, StateFailure):
                failures += 1
                results[index] = error.error_output()
                if not tolerant or tolerance_exceeded(failures, len(inputs), tolerated_count, tolerated_pct):
                    for other in list(running):
                        interp.scheduler.cancel(other)
                    if distributed or tolerant:
                        failure = StateFailure(
                            ErrorName.EXCEED_TOLERATED_FAILURE_THRESHOLD.value, THRESHOLD_CAUSE
                        )
                    else:
                        failure = error
                    if map_run is not None:
                        map_run.end("FAILED", interp._now_ms, len(running))
                    if distributed:
                        interp._emit(frame, "MapRunFailed", {"error": failure.error, "cause": failure.cause})
                    raise failure
            else:
                raise error
            while next_pos < len(queue) and (max_concurrency <= 0 or len(running) < max_concurrency):
                spawn_next()
    except Cancelled:
        if map_run is not None:
            map_run.end("ABORTED", interp._now_ms, len(running))
        for other in list(running):
            interp.scheduler.cancel(other)
        raise
    finally:
        interp.scheduler.unsubscribe(parent, key)
    if map_run is not None:
        map_run.end("SUCCEEDED", interp._now_ms, 0)
    if distributed:
        interp._emit(frame, "MapRunSucceeded")
    interp._emit(frame, "MapStateSucceeded")
    return list(results)


def tolerance_exceeded(failures: int, total: int, count: int | None, pct: float | None) -> bool:
    """Whether the failures so far break the tolerated threshold.

    With neither field the threshold is 0 failures; with both, exceeding either one fails the
    map ("If you specify both values, the workflow fails when it exceeds either value").
    """
    if count is None and pct is None:
        return failures > 0
    over_count = count is not None and failures > count
    over_pct = pct is not None and total > 0 and failures * 100.0 / total > pct
    return over_count or over_pct


def _jsonpath_items(state: MapState, scope: Any, effective: JSON) -> list[JSON]:
    if state.item_reader is not None:
        raise EvaluationError(
            ErrorName.ITEM_READER_FAILED.value, "ItemReader sources are not available to podium yet."
        )
    path = state.items_path or "$"
    value = effective if path == "$" else paths.read_path(path, scope, field="ItemsPath")
    if not isinstance(value, list):
        from podium.core.interpreter import StateFailure

        shown = path[1:] if path.startswith("$$") else path
        raise StateFailure(_RUNTIME, f'Reference path "{shown}" must point to array.')
    return value


def _jsonata_items(state: MapState, scope: Any, raw_input: JSON) -> list[JSON]:
    items = state.items
    if items is None:
        if not isinstance(raw_input, list):
            raise EvaluationError(
                _QUERY, f"Map state input must be an array but was: {to_json_text(raw_input)}"
            )
        return raw_input
    if jsonata.is_jsonata_expression(items):
        value = jsonata.evaluate_expression(items, scope, field="Items")
    else:
        value = jsonata.resolve_template(items, scope, field="Items")
    if not isinstance(value, list):
        expression = items.strip()[2:-2].strip() if isinstance(items, str) else to_json_text(items)
        raise EvaluationError(
            _QUERY,
            f"The JSONata expression '{expression}' specified for the field 'Items' returned an unexpected "
            f"result type. Expected 'array', but was '{jsonata.json_type_name(value)}' "
            f"for value: {to_json_text(value)}",
            location="Items",
        )
    return value


def _iteration_inputs(
    interp: Interpreter, state: MapState, items: list[JSON], effective: JSON, frame: Frame, run: _StateRun
) -> list[JSON]:
    selector = state.item_selector or state.parameters
    values = items
    if selector is not None:
        values = []
        for index, item in enumerate(items):
            scope = interp._scope(effective, frame, run, map_item={"Index": index, "Value": item})
            if state.query_language == QueryLanguage.JSONATA:
                values.append(jsonata.resolve_template(selector.value, scope, field="ItemSelector"))
            else:
                values.append(payload.resolve_template(selector.value, scope))
        interp._inspect("afterItemSelector", values)
    batcher = state.item_batcher
    if batcher is None:
        return values
    scope = interp._scope(effective, frame, run)
    max_items = _map_integer(
        "MaxItemsPerBatch",
        batcher.max_items_per_batch,
        batcher.max_items_per_batch_path,
        scope,
    )
    max_bytes = _map_integer(
        "MaxInputBytesPerBatch",
        batcher.max_input_bytes_per_batch,
        batcher.max_input_bytes_per_batch_path,
        scope,
    )
    batch_input = None
    if batcher.batch_input is not None:
        if state.query_language == QueryLanguage.JSONATA:
            batch_input = jsonata.resolve_template(batcher.batch_input.value, scope, field="BatchInput")
        else:
            batch_input = payload.resolve_template(batcher.batch_input.value, scope)
    batches: list[JSON] = []
    current: list[JSON] = []
    size = 0
    for value in values:
        value_size = len(to_json_text(value).encode())
        full = (max_items and len(current) >= max_items) or (
            max_bytes and current and size + value_size > max_bytes
        )
        if full:
            batches.append(_batch(current, batch_input))
            current, size = [], 0
        current.append(value)
        size += value_size
    if current:
        batches.append(_batch(current, batch_input))
    interp._inspect("afterItemBatcher", batches)
    return batches


def _batch(items: list[JSON], batch_input: JSON) -> JSON:
    out: dict[str, JSON] = {"Items": items}
    if batch_input is not None:
        out["BatchInput"] = batch_input
    return out


def _map_integer(name: str, literal: JSON, path: str | None, scope: Any) -> int | None:
    """A Map's integer fields: non-negative, and AWS reads "12" from a path as 12."""
    return dataflow.integer_field(name, literal, path, scope, minimum=0, numeric_strings=True)


def _number_field(state: MapState, name: str, literal: JSON, path: str | None, scope: Any) -> float | None:
    if path is not None:
        value = paths.read_path(path, scope, field=f"{name}Path")
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)  # AWS accepts a number written as a string here
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            shown = value if isinstance(value, str) else to_json_text(value)
            raise EvaluationError(
                _RUNTIME,
                f'The {name}Path field refers to value "{shown}" which is not a valid number: {path}',
            )
        return float(value)
    if literal is None:
        return None
    if jsonata.is_jsonata_expression(literal):
        value = jsonata.evaluate_expression(literal, scope, field=name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return float(literal)


def _map_run_arn(interp: Interpreter, state: MapState) -> str:
    info = interp.info
    assert info is not None
    label = state.label or state.name
    token = f"{interp._random.getrandbits(128):032x}"
    run_id = f"{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:]}"
    return f"arn:aws:states:{info.region}:{info.account}:mapRun:{info.state_machine_name}/{label}:{run_id}"
