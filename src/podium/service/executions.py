"""Executions: StartExecution, StopExecution, DescribeExecution, DescribeStateMachineForExecution,
ListExecutions, as AWS's API reference describes them.

StartExecution takes a state machine, version or alias ARN; STANDARD executions run on the
durable engine, EXPRESS ones on the in-memory engine (AWS keeps no history of them, and
Describe/Stop/List/GetExecutionHistory do not support them: ExecutionDoesNotExist here). A
STANDARD StartExecution is idempotent: the same name and input while the execution runs gives
the same executionArn and startDate; otherwise ExecutionAlreadyExists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from podium.api.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidExecutionInput,
    InvalidToken,
    StateMachineTypeNotSupported,
    ValidationException,
)
from podium.core.messages import StartExecution
from podium.runtime.engine import Engine, ExecutionAlreadyExistsError, Starting
from podium.service.arns import (
    check_name,
    parse_arn,
    parse_state_machine_arn,
    resolve_state_machine,
    state_machine_does_not_exist,
)
from podium.service.catalog import (
    decode_token,
    encode_token,
    now_ms,
    page_response,
    page_size,
    revision_of,
    seconds,
)
from podium.service.engines import engine_for
from podium.service.registry import Params, Response, Service, action, loop_action
from podium.store.errors import ExecutionDoesNotExistError
from podium.store.records import EXECUTION_STATUSES, ExecutionRecord, StateMachineRecord

REDRIVABLE_PERIOD = timedelta(days=14)
MAX_OPEN_TIME = timedelta(days=365)
HISTORY_EVENT_LIMIT = 24_999


# --- ARNs and records ------------------------------------------------------------------------


def check_execution_arn(text: str) -> None:
    """InvalidArn unless `text` is an execution ARN (`execution:` or `express:`)."""
    arn = parse_arn(text)
    if arn.resource_type not in ("execution", "express"):
        raise InvalidArn(
            f"Invalid Arn: 'Resource type not valid in this context: {arn.resource_type.lower()}'"
        )
    if len(arn.resource) != 2 or not all(arn.resource):
        raise InvalidArn(f"Invalid Arn: '{text}'")


def execution_of(service: Service, arn: str) -> ExecutionRecord:
    """The STANDARD execution an ARN names; ExecutionDoesNotExist otherwise (EXPRESS ones included)."""
    check_execution_arn(arn)
    record = service.store.get_execution(arn) if ":express:" not in arn else None
    if record is None:
        raise ExecutionDoesNotExist(f"Execution Does Not Exist: '{arn}'")
    return record  # type: ignore[no-any-return]


def parse_input(service: Service, text: str | None) -> tuple[str, Any]:
    """StartExecution's input: its JSON text and value; InvalidExecutionInput if not JSON or too large."""
    if text is None:
        return "{}", {}
    if len(text.encode()) > service.payload_limit:
        limit = service.payload_limit
        raise InvalidExecutionInput(
            f"Invalid State Machine Execution Input: 'Input size exceeds the maximum of {limit} bytes'"
        )
    try:
        return text, json.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None


def redrive_status(service: Service, record: ExecutionRecord) -> tuple[str, str | None]:
    """(redriveStatus, redriveStatusReason) as DescribeExecution shows them."""
    reason = not_redrivable_reason(service, record)
    return ("NOT_REDRIVABLE", reason) if reason is not None else ("REDRIVABLE", None)


def not_redrivable_reason(service: Service, record: ExecutionRecord) -> str | None:
    """Why RedriveExecution would refuse, in the API reference's words; None if it would not."""
    if record.status in ("RUNNING", "SUCCEEDED"):
        return f"Execution is {record.status} and cannot be redriven"
    now = now_ms(service)
    if record.stop_ms is not None and now - record.stop_ms > REDRIVABLE_PERIOD.total_seconds() * 1000:
        return "Execution redrivable period exceeded"
    if now - record.start_ms > MAX_OPEN_TIME.total_seconds() * 1000:
        return "Execution has exceeded the max execution time"
    if service.store.event_count(record.arn) >= HISTORY_EVENT_LIMIT:
        return "Execution history event limit exceeded"
    return None


def _common(record: ExecutionRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "executionArn": record.arn,
        "stateMachineArn": record.state_machine_arn,
        "name": record.name,
        "status": record.status,
        "startDate": seconds(record.start_ms),
    }
    if record.stop_ms is not None:
        out["stopDate"] = seconds(record.stop_ms)
    return out


def _qualifiers(record: ExecutionRecord, out: dict[str, Any]) -> None:
    if record.state_machine_version_arn is not None:
        out["stateMachineVersionArn"] = record.state_machine_version_arn
    if record.state_machine_alias_arn is not None:
        out["stateMachineAliasArn"] = record.state_machine_alias_arn
    out["redriveCount"] = record.redrive_count
    if record.redrive_ms is not None:
        out["redriveDate"] = seconds(record.redrive_ms)


# --- actions ---------------------------------------------------------------------------------


@action("StartExecution")
def start_execution(service: Service, params: Params) -> Response:
    request = _start_request(service, params)
    try:
        record = request.engine.start_execution(request.machine.arn, **request.arguments)
    except ExecutionAlreadyExistsError as exc:
        raise ExecutionAlreadyExists(str(exc)) from None
    return _start_response(record)


@loop_action("StartExecution")
async def start_execution_on_loop(service: Service, params: Params) -> Response:
    """StartExecution on the event loop: the first step computed there, its commit awaited.

    A first step of many states (an inline Map over a long list of Pass states, say) would
    hold every other request up while it is computed: once a machine's first step wrote more
    than HEAVY_FIRST_STEP_EVENTS events, its next starts are computed on a thread, until one
    of them is light again. (A count of events, not a clock: a busy machine's clock would
    count the time this thread waited for the CPU.)
    """
    request = _start_request(service, params)
    heavy: set[str] = service.extras.setdefault(HEAVY_FIRST_STEPS, set())
    key = request.machine.revision_id
    if key in heavy:
        starting = await asyncio.to_thread(_prepare, request)
    else:
        starting = _prepare(request)
    if len(starting.first.events) > HEAVY_FIRST_STEP_EVENTS:
        heavy.add(key)
    else:
        heavy.discard(key)
    loop = asyncio.get_running_loop()
    started: asyncio.Future[ExecutionRecord] = loop.create_future()

    def done(record: ExecutionRecord | None, error: BaseException | None) -> None:
        # From the writing thread. A loop already closed (the server stopped meanwhile) has
        # nobody waiting: the start stands, as one whose client went away.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, started, record, error)

    request.engine.submit_start(starting, done)
    try:
        record = await started
    except ExecutionAlreadyExistsError as exc:
        raise ExecutionAlreadyExists(str(exc)) from None
    return _start_response(record)


def _settle(
    started: asyncio.Future[ExecutionRecord], record: ExecutionRecord | None, error: BaseException | None
) -> None:
    if started.cancelled():  # the request went away (a server stopping): the start stands
        return
    if error is not None:
        started.set_exception(error)
    else:
        started.set_result(record)  # type: ignore[arg-type]


# About 1 to 2 ms of interpreting on this project's benchmark machine (5 to 8 us an event, an
# inline Map of Pass states or a chain of them): past it, a machine's first steps are computed
# off the event loop.
HEAVY_FIRST_STEP_EVENTS = 250
HEAVY_FIRST_STEPS = "podium.heavy_first_steps"  # Service.extras: the revision ids of such machines


@dataclass(frozen=True)
class _StartRequest:
    """A StartExecution checked and resolved, before its first step is computed."""

    engine: Engine
    machine: StateMachineRecord
    arguments: dict[str, Any]


def _prepare(request: _StartRequest) -> Starting:
    return request.engine.prepare_start(request.machine.arn, **request.arguments)


def _start_request(service: Service, params: Params) -> _StartRequest:
    arn: str = params["stateMachineArn"]
    parsed = parse_state_machine_arn(arn)
    if parsed.qualifier is None and "/" in parsed.name:
        raise ValidationException(
            f"Invalid Arn: 'A Distributed Map state's ARN cannot be used to start an execution: {arn}'"
        )
    resolved = resolve_state_machine(service, arn)
    name = params.get("name")
    if name is not None:
        check_name(name)
    input_text, input_value = parse_input(service, params.get("input"))
    engine_for(service, "")  # the EXPRESS engine exists once the engines are attached
    engine = service.express_engine if resolved.type == "EXPRESS" else service.engine
    arguments = {
        "input_value": input_value,
        "name": name,
        "input_text": input_text,
        "machine": resolved.machine,
        "version_arn": resolved.version_arn,
        "alias_arn": resolved.alias_arn,
    }
    return _StartRequest(engine, resolved.machine, arguments)


def _start_response(record: ExecutionRecord) -> Response:
    return {"executionArn": record.arn, "startDate": seconds(record.start_ms)}


@action("StopExecution")
def stop_execution(service: Service, params: Params) -> Response:
    record = execution_of(service, params["executionArn"])
    if record.status == "RUNNING":
        record = service.engine.stop_execution(record.arn, params.get("error"), params.get("cause"))
    stop_ms = record.stop_ms if record.stop_ms is not None else now_ms(service)
    return {"stopDate": seconds(stop_ms)}


@action("DescribeExecution")
def describe_execution(service: Service, params: Params) -> Response:
    record = execution_of(service, params["executionArn"])
    out = _common(record)
    out["input"] = record.input
    out["inputDetails"] = {"included": True}
    if record.status == "SUCCEEDED" and record.output is not None:
        out["output"] = record.output
        out["outputDetails"] = {"included": True}
    if record.error is not None:
        out["error"] = record.error
    if record.cause is not None:
        out["cause"] = record.cause
    _qualifiers(record, out)
    status, reason = redrive_status(service, record)
    out["redriveStatus"] = status
    if reason is not None:
        out["redriveStatusReason"] = reason
    return out


@action("DescribeStateMachineForExecution")
def describe_state_machine_for_execution(service: Service, params: Params) -> Response:
    record = execution_of(service, params["executionArn"])
    store = service.store
    role_arn = None
    entries = store.journal_entries(record.arn)
    if entries and isinstance(entries[0][0], StartExecution):
        role_arn = entries[0][0].info.role_arn
    machine = store.get_state_machine(record.state_machine_arn)
    version = (
        store.get_version(record.state_machine_version_arn) if record.state_machine_version_arn else None
    )
    out: dict[str, Any] = {
        "stateMachineArn": record.state_machine_arn,
        "name": parse_state_machine_arn(record.state_machine_arn).name,
        "definition": record.definition,  # what the execution ran, whatever happened to the machine since
        "roleArn": role_arn or (machine.role_arn if machine else ""),
    }
    if version is not None:
        out["updateDate"] = seconds(version.created_ms)
        revision = revision_of(version.revision_id)
    elif machine is not None:
        out["updateDate"] = seconds(machine.updated_ms or machine.created_ms)
        revision = revision_of(machine.revision_id) if machine.definition == record.definition else None
    else:
        out["updateDate"] = seconds(record.start_ms)
        revision = None
    if revision is not None:
        out["revisionId"] = revision
    logging = machine.logging_configuration if machine is not None else None
    out["loggingConfiguration"] = (
        json.loads(logging) if logging else {"level": "OFF", "includeExecutionData": False}
    )
    tracing = machine.tracing_configuration if machine is not None else None
    out["tracingConfiguration"] = json.loads(tracing) if tracing else {"enabled": False}
    return out


@action("ListExecutions")
def list_executions(service: Service, params: Params) -> Response:
    arn = params.get("stateMachineArn")
    map_run_arn = params.get("mapRunArn")
    if (arn is None) == (map_run_arn is None):
        raise ValidationException("Must provide a StateMachine ARN or MapRun ARN, but not both")
    status = params.get("statusFilter")
    if status is not None and status not in EXECUTION_STATUSES and status != "PENDING_REDRIVE":
        raise ValidationException(f"Invalid status filter: {status}")
    if arn is None:
        # A distributed Map's iterations run inside its execution here: they are no executions.
        parse_arn(str(map_run_arn))
        return {"executions": []}
    if status == "PENDING_REDRIVE":
        raise ValidationException("The PENDING_REDRIVE status filter can only be used with a MapRun ARN")
    parsed = parse_state_machine_arn(arn)
    machine = service.store.get_state_machine(parsed.machine_arn)
    if machine is None:
        raise state_machine_does_not_exist(arn)
    if parsed.qualifier is not None:
        qualified = (
            service.store.get_version(arn) if parsed.version is not None else service.store.get_alias(arn)
        )
        if qualified is None:
            raise state_machine_does_not_exist(arn)
    if machine.type == "EXPRESS":
        raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
    redrive_filter = params.get("redriveFilter")
    size = page_size(params)
    after = decode_token(params.get("nextToken"), "executions")
    found: list[ExecutionRecord] = []
    while len(found) <= size:
        try:
            batch = service.store.list_executions(
                parsed.machine_arn,
                status,
                version_arn=arn if parsed.version is not None else None,
                alias_arn=arn if parsed.alias is not None else None,
                limit=size + 1,
                after_arn=after,
            )
        except ExecutionDoesNotExistError:  # a token naming an execution that is not there
            raise InvalidToken("Invalid Token: 'Invalid token'") from None
        if not batch:
            break
        after = batch[-1].arn
        for record in batch:
            if redrive_filter == "REDRIVEN" and record.redrive_count == 0:
                continue
            if redrive_filter == "NOT_REDRIVEN" and record.redrive_count > 0:
                continue
            found.append(record)
        if len(batch) <= size:
            break
    page = found[:size]
    token = encode_token("executions", page[-1].arn) if len(found) > size else None
    items = []
    for record in page:
        item = _common(record)
        _qualifiers(record, item)
        items.append(item)
    return page_response("executions", items, token)
