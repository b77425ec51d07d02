"""DescribeMapRun and ListMapRuns: the runs of distributed Map states, as the core keeps them.

podium runs a distributed Map's iterations inside its execution (no child executions), and the
core keeps each run's figures as it goes (podium.core.mapping.MapRun). They are read here by
replaying the execution's journal through a fresh interpreter: no side effect, and the same
figures whether the execution still runs or ended long ago. Child workflow executions counts
are the item counts, one iteration being one child here; nothing is written by a ResultWriter.
"""

from __future__ import annotations

from typing import Any

from podium.api.errors import InvalidArn, ResourceNotFound
from podium.asl.parser import parse_definition
from podium.core.interpreter import Interpreter
from podium.core.mapping import MapRun
from podium.service.arns import parse_arn
from podium.service.catalog import decode_token, encode_token, page_response, page_size, seconds
from podium.service.executions import execution_of
from podium.service.registry import Params, Response, Service, action
from podium.store.records import ExecutionRecord


def _map_runs(service: Service, record: ExecutionRecord) -> list[MapRun]:
    interpreter = Interpreter(parse_definition(record.definition), payload_limit=service.payload_limit)
    for signal, _committed in service.store.journal_entries(record.arn):
        interpreter.apply(signal)
    return sorted(interpreter.map_runs.values(), key=lambda run: (run.start_ms, run.arn))


def _find(service: Service, map_run_arn: str) -> tuple[ExecutionRecord, MapRun]:
    """The map run and its execution. Its ARN names the state machine, not the execution, so the
    machine's executions are searched (by their MapRunStarted events) newest first."""
    arn = parse_arn(map_run_arn)
    if arn.resource_type != "mapRun" or len(arn.resource) != 2 or "/" not in arn.resource[0]:
        raise InvalidArn(f"Invalid Arn: '{map_run_arn}'")
    machine_name = arn.resource[0].split("/", 1)[0]
    machine_arn = f"arn:{arn.partition}:states:{arn.region}:{arn.account}:stateMachine:{machine_name}"
    for record in service.store.list_executions(machine_arn):
        events = service.store.history(record.arn)
        if any(
            e.type == "MapRunStarted" and (e.details or {}).get("mapRunArn") == map_run_arn for e in events
        ):
            for run in _map_runs(service, record):
                if run.arn == map_run_arn:
                    return record, run
    raise ResourceNotFound(f"Resource not found: '{map_run_arn}'")


def _counts(run: MapRun) -> dict[str, Any]:
    pending = max(run.total - run.succeeded - run.failed - run.aborted - run.running, 0)
    return {
        "pending": pending,
        "running": run.running,
        "succeeded": run.succeeded,
        "failed": run.failed,
        "timedOut": 0,
        "aborted": run.aborted,
        "total": run.total,
        "resultsWritten": 0,
        "failuresNotRedrivable": 0,
        "pendingRedrive": 0,
    }


@action("DescribeMapRun")
def describe_map_run(service: Service, params: Params) -> Response:
    record, run = _find(service, params["mapRunArn"])
    out: dict[str, Any] = {
        "mapRunArn": run.arn,
        "executionArn": record.arn,
        "status": run.status,
        "startDate": seconds(run.start_ms),
        "maxConcurrency": run.max_concurrency,
        "toleratedFailurePercentage": run.tolerated_failure_percentage,
        "toleratedFailureCount": run.tolerated_failure_count,
        "itemCounts": _counts(run),
        "executionCounts": _counts(run),
        "redriveCount": run.redrive_count,
    }
    if run.stop_ms is not None:
        out["stopDate"] = seconds(run.stop_ms)
    if run.redrive_ms is not None:
        out["redriveDate"] = seconds(run.redrive_ms)
    return out


@action("ListMapRuns")
def list_map_runs(service: Service, params: Params) -> Response:
    record = execution_of(service, params["executionArn"])
    runs = _map_runs(service, record)
    kind = f"map-runs:{record.arn}"
    after = decode_token(params.get("nextToken"), kind)
    if after is not None:
        arns = [run.arn for run in runs]
        runs = runs[arns.index(after) + 1 :] if after in arns else []
    size = page_size(params)
    page = runs[:size]
    token = encode_token(kind, page[-1].arn) if len(runs) > size else None
    items = []
    for run in page:
        item: dict[str, Any] = {
            "executionArn": record.arn,
            "mapRunArn": run.arn,
            "stateMachineArn": f"{record.state_machine_arn}/{run.label}",
            "startDate": seconds(run.start_ms),
        }
        if run.stop_ms is not None:
            item["stopDate"] = seconds(run.stop_ms)
        items.append(item)
    return page_response("mapRuns", items, token)
