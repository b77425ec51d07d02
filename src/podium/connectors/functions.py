"""Python functions as Task resources, reached the ways Step Functions reaches Lambda.

A function registered as `name` answers to:
- a Lambda function ARN whose function name is `name` (`arn:aws:lambda:...:function:name[:qualifier]`),
  recorded with LambdaFunction* events, its return value being the task's result;
- `arn:aws:states:::lambda:invoke` with Parameters `{"FunctionName": name-or-ARN, "Payload": ...}`,
  whose result has Lambda's Invoke response shape ({"Payload": ..., "StatusCode": 200, ...});
- podium's own `podium:function:name`;
- the callback pattern: `arn:aws:states:::lambda:invoke.waitForTaskToken` (the payload carries
  `$$.Task.Token` as the definition puts it) and `podium:function:name.waitForTaskToken`. The
  function's return is the service's response, recorded as TaskSubmitted; the task then waits
  for SendTaskSuccess / SendTaskFailure with its token.

A function takes the task's input (one argument) and returns a JSON value. An exception it
raises fails the task as Lambda reports an unhandled error: the error is the exception's class
name and the cause Lambda's JSON text with errorMessage, errorType and stackTrace.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import sys
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from email.utils import formatdate
from types import ModuleType
from typing import Any

from podium.arns import resource_name
from podium.connectors.base import Reply
from podium.core.messages import InvokeTask, TaskFailed, TaskSubmitted, TaskSucceeded
from podium.core.resources import LOCAL_FUNCTION_PREFIX, WAIT_FOR_TASK_TOKEN_SUFFIX
from podium.runtime.entropy import ENTROPY
from podium.task_error import TaskError

Function = Callable[[Any], Any]
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


class UnknownFunctionError(LookupError):
    pass


class FunctionRegistry:
    def __init__(self, functions: dict[str, Function] | None = None) -> None:
        self._functions: dict[str, Function] = dict(functions or {})

    def register(self, name: str, function: Function) -> None:
        self._functions[name] = function

    def names(self) -> list[str]:
        return sorted(self._functions)

    def __contains__(self, name: str) -> bool:
        return name in self._functions

    def get(self, name: str) -> Function:
        try:
            return self._functions[name]
        except KeyError:
            raise UnknownFunctionError(name) from None

    def load_module(self, module_name: str) -> None:
        """Register a module's functions: its `FUNCTIONS` mapping, else every public function it defines."""
        module = import_module(module_name)
        table = getattr(module, "FUNCTIONS", None)
        if isinstance(table, dict):
            for name, function in table.items():
                self.register(str(name), function)
            return
        for name, value in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module.__name__:
                self.register(name, value)


def import_module(spec: str) -> ModuleType:
    """Import a module by dotted name, or from a .py file path."""
    if spec.endswith(".py"):
        from pathlib import Path

        path = Path(spec).resolve()
        loaded = importlib.util.spec_from_file_location(path.stem, path)
        if loaded is None or loaded.loader is None:
            raise ImportError(f"cannot load {spec}")
        module = importlib.util.module_from_spec(loaded)
        sys.modules[path.stem] = module
        loaded.loader.exec_module(module)
        return module
    return importlib.import_module(spec)


def function_name(resource: str, payload: Any) -> str | None:
    """The registered name a Task resource refers to, or None when it isn't a function resource."""
    if resource.startswith(LOCAL_FUNCTION_PREFIX):
        return resource[len(LOCAL_FUNCTION_PREFIX) :].removesuffix(WAIT_FOR_TASK_TOKEN_SUFFIX)
    if ":lambda:" in resource and ":function:" in resource:
        return resource_name(resource)
    if resource.startswith(LAMBDA_INVOKE):
        target = payload.get("FunctionName") if isinstance(payload, dict) else None
        if isinstance(target, str):
            return resource_name(target) if target.startswith("arn:") else target.split(":")[0]
    return None


def static_function_names(resources: Iterable[str]) -> set[str]:
    """Names the definition's Task resources refer to without running it (Lambda ARNs, podium URIs)."""
    out: set[str] = set()
    for resource in resources:
        if not resource.startswith(LAMBDA_INVOKE):
            name = function_name(resource, None)
            if name is not None:
                out.add(name)
    return out


def lambda_error(exc: BaseException, *, compact: bool = False) -> tuple[str, str | None]:
    """(error, cause) as Lambda reports an unhandled exception; a TaskError names its own.

    The Lambda runtime writes the cause with Python's default separators; the lambda:invoke
    integration re-serialises it compactly.
    """
    if isinstance(exc, TaskError):
        return exc.error, exc.cause
    # The user's frames only, as Lambda shows them: not podium's own call into the function.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    cause = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": str(uuid.uuid4()),
        "stackTrace": traceback.format_list(frames),
    }
    return type(exc).__name__, json.dumps(cause, separators=(",", ":") if compact else None)


class FunctionConnector:
    """Runs registered Python functions on an executor (or inline when none is given)."""

    def __init__(self, registry: FunctionRegistry, executor: Executor | None = None) -> None:
        self.registry = registry
        self.executor = executor
        # Without an executor a function answers before invoke() returns: the engine then
        # folds its answer into the step that started it (one commit for a chain of tasks).
        self.inline = executor is None

    def accepts(self, resource: str) -> bool:
        return resource.startswith((LOCAL_FUNCTION_PREFIX, LAMBDA_INVOKE)) or (
            ":lambda:" in resource and ":function:" in resource
        )

    def invoke(self, command: InvokeTask, reply: Reply) -> None:
        if self.executor is None:
            self._run(command, reply)
        else:
            self.executor.submit(self._run, command, reply)

    def _run(self, command: InvokeTask, reply: Reply) -> None:
        integration = command.resource.startswith(LAMBDA_INVOKE)
        name = function_name(command.resource, command.payload)
        if name is None or name not in self.registry:
            reply(
                TaskFailed(
                    0,
                    command.command_id,
                    "Lambda.ResourceNotFoundException",
                    f"Function not found: {name or command.resource} "
                    "(no Python function of that name is registered)",
                )
            )
            return
        argument = (
            command.payload.get("Payload")
            if integration and isinstance(command.payload, dict)
            else command.payload
        )
        try:
            result = self.registry.get(name)(argument)
            result = json.loads(json.dumps(result))  # what crosses a Lambda boundary is JSON
        except Exception as exc:
            error, cause = lambda_error(exc, compact=integration)
            reply(TaskFailed(0, command.command_id, error, cause))
            return
        if integration:
            result = invoke_response(result)
        if command.resource.endswith(WAIT_FOR_TASK_TOKEN_SUFFIX):
            reply(TaskSubmitted(0, command.command_id, result))  # the answer comes with the token
        else:
            reply(TaskSucceeded(0, command.command_id, result))


def invoke_response(payload: Any) -> dict[str, Any]:
    """Lambda's Invoke response as the lambda:invoke integration returns it."""
    request_id = ENTROPY.uuid4()
    trace = ENTROPY.token_hex()  # 32 hex digits: the root's 8 and 24
    trace_id = f"Root=1-{trace[:8]}-{trace[8:]}"
    date = formatdate(usegmt=True)
    length = str(len(json.dumps(payload).encode()))  # the Python runtime's own serialisation
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": payload,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "X-Amz-Executed-Version": ["$LATEST"],
                "x-amzn-Remapped-Content-Length": ["0"],
                "Connection": ["keep-alive"],
                "x-amzn-RequestId": [request_id],
                "Content-Length": [length],
                "Date": [date],
                "X-Amzn-Trace-Id": [trace_id],
                "Content-Type": ["application/json"],
            },
            "HttpHeaders": {
                "Connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/json",
                "Date": date,
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id,
                "X-Amzn-Trace-Id": trace_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }
