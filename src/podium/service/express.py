"""StartSyncExecution: run an EXPRESS execution to its end and answer with its result.

It runs on the in-memory engine; the response is AWS's: status SUCCEEDED, FAILED or TIMED_OUT,
output or error and cause, and billingDetails (Express bills at least 64 MB, in 100 ms
increments of duration). A STANDARD state machine is StateMachineTypeNotSupported. A
synchronous Express execution lasts at most five minutes: one still running then is stopped
and reported TIMED_OUT.
"""

from __future__ import annotations

import math

from podium.api.errors import StateMachineTypeNotSupported
from podium.core.messages import StopExecution
from podium.runtime.engine import ExecutionAlreadyExistsError
from podium.service.arns import check_name, resolve_state_machine
from podium.service.catalog import seconds
from podium.service.engines import engine_for
from podium.service.executions import parse_input
from podium.service.registry import Params, Response, Service, action

SYNC_LIMIT_SECONDS = 300.0
BILLED_MEMORY_MB = 64
BILLING_INCREMENT_MS = 100


@action("StartSyncExecution")
def start_sync_execution(service: Service, params: Params) -> Response:
    from podium.api.errors import InvalidName

    resolved = resolve_state_machine(service, params["stateMachineArn"])
    if resolved.type != "EXPRESS":
        raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
    name = params.get("name")
    if name is not None:
        check_name(name)
    input_text, input_value = parse_input(service, params.get("input"))
    engine = engine_for(service, ":express:")
    try:
        started = engine.start_execution(
            resolved.arn,
            input_value,
            name=name,
            input_text=input_text,
            machine=resolved.machine,
            version_arn=resolved.version_arn,
            alias_arn=resolved.alias_arn,
        )
    except ExecutionAlreadyExistsError:
        raise InvalidName(f"Invalid Name: '{name}' (an execution of that name is running)") from None
    record = engine.wait(started.arn, timeout=SYNC_LIMIT_SECONDS)
    if record.status == "RUNNING":
        engine.deliver(record.arn, StopExecution(0, "States.Timeout", None))
        record = engine.wait(record.arn, timeout=10)
    status = {"SUCCEEDED": "SUCCEEDED", "TIMED_OUT": "TIMED_OUT"}.get(record.status, "FAILED")
    stop_ms = record.stop_ms if record.stop_ms is not None else record.start_ms
    out: dict[str, object] = {
        "executionArn": record.arn,
        "stateMachineArn": record.state_machine_arn,
        "name": record.name,
        "startDate": seconds(record.start_ms),
        "stopDate": seconds(stop_ms),
        "status": status,
        "input": record.input,
        "inputDetails": {"included": True},
    }
    if status == "SUCCEEDED":
        out["output"] = record.output
        out["outputDetails"] = {"included": True}
    else:
        if record.error is not None:
            out["error"] = record.error
        if record.cause is not None:
            out["cause"] = record.cause
    duration = max(stop_ms - record.start_ms, 1)
    out["billingDetails"] = {
        "billedMemoryUsedInMB": BILLED_MEMORY_MB,
        "billedDurationInMilliseconds": math.ceil(duration / BILLING_INCREMENT_MS) * BILLING_INCREMENT_MS,
    }
    return out
