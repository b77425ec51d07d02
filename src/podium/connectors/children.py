"""Child executions: a Task state that starts an execution of a state machine.

Resources, as Step Functions names them:

    arn:aws:states:::states:startExecution                   start it; the result is StartExecution's
                                                             response (ExecutionArn, StartDate)
    arn:aws:states:::states:startExecution.sync              start it and wait: the result is the
                                                             child's DescribeExecution, Input and
                                                             Output as JSON text
    arn:aws:states:::states:startExecution.sync:2            the same, Input and Output as JSON
    arn:aws:states:::states:startExecution.waitForTaskToken  start it; wait for SendTaskSuccess
    arn:aws:states:::aws-sdk:sfn:startExecution              the SDK integration (request-response)

Parameters are StartExecution's: StateMachineArn (a state machine, version or alias ARN),
Input (JSON text, or a JSON value that is serialised; none is "{}") and Name. To link the
child to its parent, the definition passes `"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$":
"$$.Execution.Id"` inside Input, as AWS documents; podium keeps it in the child's input.

A failed child fails a `.sync` task with States.TaskFailed, the cause being the child's
DescribeExecution (with its Error and Cause) as JSON text, as AWS records it. Without a Name,
the child's name is derived from the task token: a task sent again after a crash starts (or
finds) the same child, never a second one. The child's end reaches the parent through the
engine's end listener; after a restart the parent's task re-attaches (`resume`), and a child
that ended meanwhile answers at once. When the parent no longer waits (stopped, timed out), a
running `.sync` child is stopped too.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from podium.asl.jsontext import to_json_text
from podium.connectors.base import Reply
from podium.core.messages import InvokeTask, StopExecution, TaskFailed, TaskSubmitted, TaskSucceeded
from podium.runtime.entropy import ENTROPY
from podium.store.records import ExecutionRecord, StateMachineRecord

if TYPE_CHECKING:
    from podium.runtime.engine import Engine

# (what runs, its version ARN, its alias ARN) for a StateMachineArn; None when it names nothing
Resolver = Callable[[str], "tuple[StateMachineRecord, str | None, str | None] | None"]

_OPTIMISED = re.compile(r"^arn:aws[\w-]*:states:::states:startExecution(\.sync(:2)?|\.waitForTaskToken)?$")
_SDK = re.compile(r"^arn:aws[\w-]*:states:::aws-sdk:sfn:startExecution$")


@dataclass(frozen=True)
class _Waiter:
    task_id: str
    token: str
    reply: Reply
    json_payloads: bool  # .sync:2: Input and Output as JSON, not JSON text


class _CallFailedError(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


class ChildExecutionConnector:
    def __init__(self, engine: Engine, resolve: Resolver | None = None) -> None:
        self.engine = engine
        self.resolve = resolve or self._by_state_machine_arn
        self._lock = threading.Lock()
        self._waiters: dict[str, list[_Waiter]] = {}  # child ARN -> parents' .sync tasks
        self._children: dict[str, str] = {}  # parent task token -> child ARN
        engine.on_execution_end(self._ended)

    def accepts(self, resource: str) -> bool:
        return bool(_OPTIMISED.match(resource) or _SDK.match(resource))

    # --- dispatch -------------------------------------------------------------------------

    def invoke(self, command: InvokeTask, reply: Reply) -> None:
        sdk = bool(_SDK.match(command.resource))
        try:
            child = self._start(command, sdk)
        except _CallFailedError as failed:
            reply(TaskFailed(0, command.command_id, failed.error, failed.cause))
            return
        response: dict[str, Any] = {"ExecutionArn": child.arn, "StartDate": child.start_ms}
        if not sdk:
            response = _with_sdk_metadata(response, child)
        resource = command.resource
        if resource.endswith(".waitForTaskToken"):
            reply(TaskSubmitted(0, command.command_id, response))
        elif ".sync" in resource:
            reply(TaskSubmitted(0, command.command_id, response))
            self._wait_for(child.arn, command, reply)
        else:
            reply(TaskSucceeded(0, command.command_id, response))

    def resume(self, command: InvokeTask, reply: Reply, phase: str) -> None:
        """After a restart: a `.sync` task waits for its child again (which may have ended meanwhile)."""
        if ".sync" not in command.resource:
            return  # a callback waits for its token, which needs nothing from here
        params = command.payload if isinstance(command.payload, dict) else {}
        resolved = self.resolve(str(params.get("StateMachineArn", "")))
        if resolved is None:
            return
        name = params.get("Name") or _derived_name(command.task_token)
        self._wait_for(self.engine.arns.execution(resolved[0].name, str(name)), command, reply)

    def cancel(self, command: InvokeTask) -> None:
        with self._lock:
            child_arn = self._children.pop(command.task_token, None)
            if child_arn is None:
                return
            waiters = self._waiters.get(child_arn, [])
            waiters[:] = [w for w in waiters if w.token != command.task_token]
        record = self.engine.store.get_execution(child_arn)
        if record is not None and record.status == "RUNNING":
            # The parent no longer waits (stopped, timed out): the child is stopped with it.
            self.engine.deliver(child_arn, StopExecution(0))

    # --- the child ------------------------------------------------------------------------

    def _start(self, command: InvokeTask, sdk: bool) -> ExecutionRecord:
        from podium.runtime.engine import ExecutionAlreadyExistsError

        params = command.payload if isinstance(command.payload, dict) else {}
        machine_arn = params.get("StateMachineArn")
        resolved = self.resolve(machine_arn) if isinstance(machine_arn, str) else None
        if resolved is None:
            raise _failure(sdk, "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{machine_arn}'")
        machine, version_arn, alias_arn = resolved
        given = params.get("Input")
        if given is None:
            input_text = (
                "{}"  # "If you don't include any JSON input data, you still must include the two braces"
            )
        elif isinstance(given, str):
            input_text = given
        else:
            input_text = to_json_text(given)
        try:
            input_value = json.loads(input_text)
        except ValueError:
            raise _failure(
                sdk, "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{input_text}'"
            ) from None
        name = params.get("Name") or _derived_name(command.task_token)
        try:
            return self.engine.start_execution(
                machine.arn,
                input_value,
                name=str(name),
                input_text=input_text,
                machine=machine,
                version_arn=version_arn,
                alias_arn=alias_arn,
            )
        except ExecutionAlreadyExistsError as exists:
            if exists.record.state_machine_arn == machine.arn and _same_json(exists.record.input, input_text):
                return exists.record  # ours: this task was sent again after a crash
            raise _failure(sdk, "ExecutionAlreadyExists", str(exists)) from None
        except ValueError as invalid:
            raise _failure(sdk, "InvalidName", str(invalid)) from None

    def _wait_for(self, child_arn: str, command: InvokeTask, reply: Reply) -> None:
        waiter = _Waiter(command.command_id, command.task_token, reply, command.resource.endswith(":2"))
        with self._lock:
            self._waiters.setdefault(child_arn, []).append(waiter)
            self._children[command.task_token] = child_arn
        record = self.engine.store.get_execution(child_arn)
        if record is not None and record.status != "RUNNING":
            self._ended(child_arn)  # it ended before we were listening (a restart)

    def _ended(self, child_arn: str) -> None:
        with self._lock:
            waiters = self._waiters.pop(child_arn, [])
            for waiter in waiters:
                self._children.pop(waiter.token, None)
        if not waiters:
            return
        record = self.engine.store.get_execution(child_arn)
        if record is None or record.status == "RUNNING":
            return
        for waiter in waiters:
            waiter.reply(_outcome(record, waiter))

    def _by_state_machine_arn(self, arn: str) -> tuple[StateMachineRecord, str | None, str | None] | None:
        machine = self.engine.store.get_state_machine(arn)
        return None if machine is None else (machine, None, None)


def _outcome(child: ExecutionRecord, waiter: _Waiter) -> TaskSucceeded | TaskFailed:
    """The child's DescribeExecution as the optimised integration shows it (keys in AWS's order)."""

    def payload(text: str | None) -> Any:
        if text is None or not waiter.json_payloads:
            return text
        try:
            return json.loads(text)
        except ValueError:
            return text

    described: dict[str, Any] = {}
    if child.status != "SUCCEEDED":
        if child.cause is not None:
            described["Cause"] = child.cause
        if child.error is not None:
            described["Error"] = child.error
    described["ExecutionArn"] = child.arn
    described["Input"] = payload(child.input)
    described["InputDetails"] = {"Included": True}
    described["Name"] = child.name
    if child.status == "SUCCEEDED":
        described["Output"] = payload(child.output)
        described["OutputDetails"] = {"Included": True}
    # AWS has shown the redrive fields here since redrives exist (recorded in 2025; the 2023
    # recordings of the corpus predate them).
    described["RedriveCount"] = child.redrive_count
    if child.redrive_ms is not None:
        described["RedriveDate"] = child.redrive_ms
    if child.status == "SUCCEEDED":
        described["RedriveStatus"] = "NOT_REDRIVABLE"
        described["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    else:
        described["RedriveStatus"] = "REDRIVABLE"
    described["StartDate"] = child.start_ms
    described["StateMachineArn"] = child.state_machine_arn
    if child.state_machine_alias_arn is not None:
        described["StateMachineAliasArn"] = child.state_machine_alias_arn
    if child.state_machine_version_arn is not None:
        described["StateMachineVersionArn"] = child.state_machine_version_arn
    described["Status"] = child.status
    described["StopDate"] = child.stop_ms
    if child.status == "SUCCEEDED":
        return TaskSucceeded(0, waiter.task_id, described)
    return TaskFailed(0, waiter.task_id, "States.TaskFailed", to_json_text(described))


def _failure(sdk: bool, code: str, message: str) -> _CallFailedError:
    """An error of the StartExecution call, named as each integration names it."""
    request_id = str(uuid.uuid4())
    if sdk:  # a guess at the SDK integration's wording; the optimised one is AWS's, recorded
        return _CallFailedError(
            f"Sfn.{code}Exception", f"{message} (Service: Sfn, Status Code: 400, Request ID: {request_id})"
        )
    cause = (
        f"{message} (Service: AWSStepFunctions; Status Code: 400; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)"
    )
    return _CallFailedError(f"StepFunctions.{code}Exception", cause)


def _with_sdk_metadata(response: dict[str, Any], child: ExecutionRecord) -> dict[str, Any]:
    """StartExecution's response as the optimised integration returns it, HTTP metadata included."""
    request_id = ENTROPY.uuid4()
    body = json.dumps({"executionArn": child.arn, "startDate": child.start_ms / 1000}, separators=(",", ":"))
    length = str(len(body.encode()))
    date = formatdate(usegmt=True)
    content_type = "application/x-amz-json-1.0"
    return {
        "ExecutionArn": response["ExecutionArn"],
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [length],
                "Date": [date],
                "Content-Type": [content_type],
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": content_type,
                "Date": date,
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": response["StartDate"],
    }


def _derived_name(token: str) -> str:
    """A UUID-shaped execution name that only this task token gives."""
    return str(uuid.UUID(bytes=hashlib.sha256(token.encode()).digest()[:16], version=4))


def _same_json(left: str, right: str) -> bool:
    try:
        return bool(left == right or json.loads(left) == json.loads(right))
    except ValueError:
        return False
