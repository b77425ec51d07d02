"""RedriveExecution: run an execution that ended FAILED, TIMED_OUT or ABORTED again from where
it stopped (podium.core.redrive says what that means inside Parallel and Map states).

AWS's conditions, each refused with ExecutionNotRedrivable and the reason DescribeExecution
gives as redriveStatusReason: not RUNNING or SUCCEEDED, ended within the last 14 days, open for
less than a year, fewer than 24,999 history events. `clientToken` makes the call idempotent: a
token among the last 10 that redrove the execution gets the same redriveDate again.
"""

from __future__ import annotations

import threading
from collections import deque

from podium.api.errors import ExecutionNotRedrivable
from podium.service.catalog import seconds
from podium.service.executions import execution_of, not_redrivable_reason
from podium.service.registry import Params, Response, Service, action
from podium.store.errors import ConflictError, ExecutionNotRedrivableError

_TOKENS = "podium.redrive_client_tokens"
_LOCK = "podium.redrive_lock"
_KEPT_TOKENS = 10


@action("RedriveExecution")
def redrive_execution(service: Service, params: Params) -> Response:
    arn: str = params["executionArn"]
    token: str | None = params.get("clientToken")
    lock: threading.Lock = service.extras.setdefault(_LOCK, threading.Lock())
    with lock:  # one redrive at a time, so that a client token is seen before it is reused
        record = execution_of(service, arn)
        recent: dict[str, deque[tuple[str, int]]] = service.extras.setdefault(_TOKENS, {})
        if token is not None:
            for used, redrive_ms in recent.get(arn, ()):
                if used == token:
                    return {"redriveDate": seconds(redrive_ms)}
        reason = not_redrivable_reason(service, record)
        if reason is not None:
            raise ExecutionNotRedrivable(f"{reason}: '{arn}'")
        try:
            reopened = service.engine.redrive(arn)
        except (ConflictError, ExecutionNotRedrivableError):
            current = execution_of(service, arn)
            raise ExecutionNotRedrivable(f"{not_redrivable_reason(service, current)}: '{arn}'") from None
        redrive_ms = reopened.redrive_ms if reopened.redrive_ms is not None else reopened.start_ms
        if token is not None:
            recent.setdefault(arn, deque(maxlen=_KEPT_TOKENS)).append((token, redrive_ms))
    return {"redriveDate": seconds(redrive_ms)}
