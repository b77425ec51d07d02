"""The worker side: GetActivityTask, SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.

A task token names its execution and task and carries an HMAC under that execution's secret
(podium.core.tokens). A token podium did not hand out is InvalidToken; a genuine token whose
task has closed (answered, timed out, its execution ended) is TaskTimedOut, which AWS's API
reference defines as "the task associated with the token has already been closed".
"""

from __future__ import annotations

import json
from typing import Any

from podium.api.errors import ActivityDoesNotExist, InvalidOutput, InvalidToken, TaskTimedOut
from podium.core import tokens
from podium.core.messages import Signal, TaskFailed, TaskHeartbeat, TaskSucceeded
from podium.runtime.task_tokens import TokenStatus
from podium.service.arns import parse_activity_arn
from podium.service.engines import LONG_POLL, activity_queues, engine_for
from podium.service.registry import Params, Response, Service, action


@action("GetActivityTask")
def get_activity_task(service: Service, params: Params) -> Response:
    arn: str = params["activityArn"]
    parse_activity_arn(arn)
    if service.store.get_activity(arn) is None:
        raise ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")
    timeout = float(service.extras.get(LONG_POLL, 60.0))
    task = activity_queues(service).take(arn, timeout)
    if task is None:
        # "If no task is available within 60 seconds, the poll returns a taskToken with a null string"
        return {}
    task.start(params.get("workerName"))
    return {"taskToken": task.token, "input": task.input}


@action("SendTaskSuccess")
def send_task_success(service: Service, params: Params) -> Response:
    text: str = params["output"]
    if len(text.encode()) > service.payload_limit:
        raise InvalidOutput(
            f"Invalid Output: 'Output size exceeds the maximum of {service.payload_limit} bytes'"
        )
    try:
        output: Any = json.loads(text)
    except ValueError as exc:
        raise InvalidOutput(f"Invalid Output: '{exc}'") from None
    _answer(service, params["taskToken"], lambda task_id: TaskSucceeded(0, task_id, output))
    return {}


@action("SendTaskFailure")
def send_task_failure(service: Service, params: Params) -> Response:
    error, cause = params.get("error"), params.get("cause")
    _answer(service, params["taskToken"], lambda task_id: TaskFailed(0, task_id, error, cause))
    return {}


@action("SendTaskHeartbeat")
def send_task_heartbeat(service: Service, params: Params) -> Response:
    _answer(service, params["taskToken"], lambda task_id: TaskHeartbeat(0, task_id))
    return {}


def _answer(service: Service, token: str, signal: Any) -> None:
    parts = tokens.parse(token)
    if parts is None:
        raise InvalidToken("Invalid Token: 'Invalid token'")
    engine = engine_for(service, parts.execution_arn)
    status, ref = engine.lookup_task(token)
    if status is TokenStatus.INVALID or (ref is None and status is TokenStatus.OPEN):
        raise InvalidToken("Invalid Token: 'Invalid token'")
    if status is TokenStatus.CLOSED or ref is None:
        raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
    answer: Signal = signal(ref.task_id)
    engine.deliver(ref.execution_arn, answer)
