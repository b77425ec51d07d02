"""One attempt of a Task state: schedule it, follow its life outside, record it as AWS does.

A task leaves as an InvokeTask command and its life comes back as signals:

    TaskSubmitted  the service accepted it. An activity is queued: only now is it recorded as
                   ActivityScheduled and does its TimeoutSeconds start, since AWS fails a Task
                   on an activity that does not exist before scheduling anything. A callback
                   (`.waitForTaskToken`) or job (`.sync`) request was delivered: TaskSubmitted
                   with the service's response.
    TaskStarted    a worker took an activity task: ActivityStarted, and HeartbeatSeconds starts
                   (a task waiting in the queue has no worker to send heartbeats).
    TaskHeartbeat  restarts the heartbeat clock.
    TaskSucceeded / TaskFailed   the outcome. A TaskFailed before an activity was scheduled is the
                   queue refusing it (no such activity): States.Runtime, no Activity* event.
    TimerFired     TimeoutSeconds or HeartbeatSeconds ran out: *TimedOut, States.Timeout.

Every phase is at most once: dispatch is at-least-once, so a connector may report twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podium.asl.errors import ErrorName, EvaluationError
from podium.asl.jsontext import to_json_text
from podium.asl.model import JSON, TaskState
from podium.core.context import Frame
from podium.core.messages import (
    InvokeTask,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSubmitted,
    TaskSucceeded,
    TimerFired,
)
from podium.core.resources import IntegrationPattern, ResourceFamily, ResourceKind
from podium.core.scheduler import Await

if TYPE_CHECKING:
    from podium.core.interpreter import Interpreter, Step, _StateRun

_NO_DETAILS = {"truncated": False}

# The phases of a task in flight, as the runtime needs them after a restart: a task still
# "scheduled" is handed to its connector again; a later phase is only re-attached.
SCHEDULED = "scheduled"
SUBMITTED = "submitted"
STARTED = "started"


def invoke(
    interp: Interpreter,
    state: TaskState,
    kind: ResourceKind,
    params: JSON,
    timeout: int | None,
    heartbeat: int | None,
    frame: Frame,
    run: _StateRun,
    task_id: str,
    token: str,
) -> Step:
    from podium.core.interpreter import StateFailure, _error_details, _too_large_cause

    family = kind.family
    activity = family == ResourceFamily.ACTIVITY
    fiber = interp._current_fiber()
    interp.scheduler.subscribe(fiber, task_id)
    scheduled: dict[str, Any]
    if family == ResourceFamily.TASK:
        scheduled = {
            "resourceType": kind.resource_type,
            "resource": kind.resource,
            "region": interp.info.region if interp.info else "us-east-1",
            "parameters": to_json_text(params),
        }
    else:
        scheduled = {"resource": state.resource, "input": to_json_text(params), "inputDetails": _NO_DETAILS}
    if timeout is not None and (state.timeout_seconds is not None or state.timeout_seconds_path is not None):
        scheduled["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        scheduled["heartbeatInSeconds"] = heartbeat
    prefix = family.value
    interp._command(
        InvokeTask(
            task_id,
            resource=state.resource,
            payload=params,
            task_token=token,
            timeout_seconds=timeout,
            heartbeat_seconds=heartbeat,
            state_name=state.name,
        )
    )
    interp._task_phase[task_id] = SCHEDULED
    resource_details = (
        {"resourceType": kind.resource_type, "resource": kind.resource}
        if family == ResourceFamily.TASK
        else {}
    )
    # timer id -> the names its timeout answers to besides States.Timeout
    timers: dict[str, tuple[str, ...]] = {}
    hb_timer: str | None = None

    def arm_timeout() -> None:
        if timeout is not None:
            timers[interp._arm(fiber, interp._now_ms + timeout * 1000)] = ()

    def arm_heartbeat() -> None:
        nonlocal hb_timer
        if heartbeat is None:
            return
        if hb_timer is not None:
            interp._disarm(fiber, hb_timer)
            del timers[hb_timer]
        hb_timer = interp._arm(fiber, interp._now_ms + heartbeat * 1000)
        timers[hb_timer] = (ErrorName.HEARTBEAT_TIMEOUT.value,)

    if activity:
        activity_scheduled = False
        activity_started = False
    else:
        interp._emit(frame, f"{prefix}Scheduled", scheduled)
        interp._emit(frame, f"{prefix}Started", resource_details or None)
        arm_timeout()
        arm_heartbeat()
    submits = family == ResourceFamily.TASK and kind.pattern in (
        IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        IntegrationPattern.SYNC,
    )
    submitted = False
    try:
        while True:
            message = yield Await((task_id, *timers))
            value = message.value
            if isinstance(value, TaskSubmitted):
                if activity and not activity_scheduled:
                    activity_scheduled = True
                    interp._task_phase[task_id] = SUBMITTED
                    interp._emit(frame, "ActivityScheduled", scheduled)
                    arm_timeout()
                elif submits and not submitted:
                    submitted = True
                    interp._task_phase[task_id] = SUBMITTED
                    details = {
                        **resource_details,
                        "output": to_json_text(value.output),
                        "outputDetails": _NO_DETAILS,
                    }
                    interp._emit(frame, "TaskSubmitted", details)
                continue
            if isinstance(value, TaskStarted):
                if activity and activity_scheduled and not activity_started:
                    activity_started = True
                    interp._task_phase[task_id] = STARTED
                    interp._emit(
                        frame,
                        "ActivityStarted",
                        {"workerName": value.worker_name} if value.worker_name else {},
                    )
                    arm_heartbeat()
                continue
            if isinstance(value, TaskHeartbeat):
                if hb_timer is not None:
                    arm_heartbeat()
                continue
            if isinstance(value, TaskFailed) and activity and not activity_scheduled:
                # The queue refused the task (no such activity): AWS fails the state before
                # scheduling anything, with the "error while executing the state" prefix.
                raise EvaluationError(ErrorName.RUNTIME.value, value.cause)
            # A TaskSucceeded's output is encoded once: for the limit, then for its event.
            output_text = to_json_text(value.output) if isinstance(value, TaskSucceeded) else ""
            if isinstance(value, TaskSucceeded) and interp._text_too_large(output_text):
                # AWS fails the task itself (TaskFailed, not TaskSucceeded), naming the
                # function ARN, or the service of an integration ("lambda"), as "the state/task".
                service = family == ResourceFamily.TASK and kind.resource_type not in ("function", "unknown")
                cause = _too_large_cause(kind.resource_type if service else state.resource)
                error = ErrorName.DATA_LIMIT_EXCEEDED.value
                interp._emit(frame, f"{prefix}Failed", {**resource_details, **_error_details(error, cause)})
                raise StateFailure(error, cause)
            if isinstance(value, TaskSucceeded):
                succeeded = {
                    **resource_details,
                    "output": output_text,
                    "outputDetails": _NO_DETAILS,
                }
                interp._emit(frame, f"{prefix}Succeeded", succeeded)
                return value.output
            if isinstance(value, TaskFailed):
                failed = {**resource_details, **_error_details(value.error, value.cause)}
                interp._emit(frame, f"{prefix}Failed", failed)
                raise StateFailure(value.error, value.cause)
            if isinstance(value, TimerFired):
                # AWS records a heartbeat timeout as States.Timeout too (TaskTimedOut and
                # ExecutionFailed); only Retry/Catch tell it apart, by States.HeartbeatTimeout.
                error = ErrorName.TIMEOUT.value
                interp._emit(frame, f"{prefix}TimedOut", {**resource_details, "error": error})
                raise StateFailure(error, None, aliases=timers[value.timer_id], shown_cause="")
    finally:
        interp.scheduler.unsubscribe(fiber, task_id)
        interp._retire(task_id)
        for timer_id in list(timers):
            interp._disarm(fiber, timer_id)
