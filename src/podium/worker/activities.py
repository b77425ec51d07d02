"""A worker on an activity: GetActivityTask, then SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat.

Over HTTP the client is botocore's `stepfunctions` client, pointed at the server. botocore is
already one of podium's dependencies (the API's shapes come from its model), and it brings
what a thin client of the JSON protocol would have to grow: SigV4 signing (a server started
with --credentials refuses unsigned requests), the standard credential chain (AWS_* variables,
~/.aws), retries with backoff on connection errors and 5xx, and AWS's error codes. The `sync-`
host prefix concerns StartSyncExecution only; a worker never sends that action. Without
credentials anywhere, requests go unsigned, which a server without --credentials accepts.
In the same process, `ServiceClient` calls podium's Service directly with the same methods.

What the API does not say: GetActivityTask hands out only the token and the input, so a
worker does not know the state's HeartbeatSeconds or TimeoutSeconds (`heartbeat_fallback`
below, or `Worker(heartbeat_every=...)`), nor the attempt (always 1 here). Except for the
commands of podium's local transport (podium.transports.local), which are activity tasks
whose input is the whole Command: the worker unwraps it, and its handler gets the body, the
attempt and the deadline as on a broker, heartbeats paced by the command's HeartbeatSeconds.

Releasing: there is nothing to give back. A task a worker took stays with it (ActivityStarted
is in the history) until it is answered or its TimeoutSeconds / HeartbeatSeconds run out;
then the state fails with States.Timeout and the definition's Retry schedules it again. A poll
still pending when the worker stops cannot be called back: the server may still hand it a task,
which then waits for those same timeouts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import ClientError

from podium.core import tokens
from podium.transports.base import JSON, Command, from_wire
from podium.worker.sources import ReceivedTask, ServicePort, default_identity

LONG_POLL_SECONDS = 60  # how long the server may hold a GetActivityTask (AWS: 60 s)
WORKER_NAME_LIMIT = 80  # GetActivityTask's workerName
CLOSED = frozenset({"TaskTimedOut", "TaskDoesNotExist"})  # "the task has already been closed"


class StepFunctionsClient(Protocol):
    """The part of botocore's stepfunctions client a worker uses (keyword arguments, AWS's names)."""

    def create_activity(self, **params: Any) -> dict[str, Any]: ...
    def get_activity_task(self, **params: Any) -> dict[str, Any]: ...
    def send_task_success(self, **params: Any) -> dict[str, Any]: ...
    def send_task_failure(self, **params: Any) -> dict[str, Any]: ...
    def send_task_heartbeat(self, **params: Any) -> dict[str, Any]: ...


def http_client(endpoint: str, *, region: str | None = None) -> Any:
    """botocore's stepfunctions client for a podium server at `endpoint`."""
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    session = botocore.session.get_session()
    config = Config(
        # The server holds a poll up to 60 s: a shorter read timeout would cut polls short
        # (and a cut poll may still take a task on the server's side).
        read_timeout=LONG_POLL_SECONDS + 10,
        connect_timeout=5,
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=64,  # one per slot's poll, plus answers and heartbeats alongside
    )
    if session.get_credentials() is None:
        config = config.merge(Config(signature_version=UNSIGNED))
    return session.create_client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name=region or session.get_config_variable("region") or "us-east-1",
        config=config,
    )


class ServiceClient:
    """The client methods over a Service in this process; API errors become botocore's ClientError."""

    def __init__(self, service: ServicePort) -> None:
        self.service = service

    def create_activity(self, **params: Any) -> dict[str, Any]:
        return self._call("CreateActivity", params)

    def get_activity_task(self, **params: Any) -> dict[str, Any]:
        return self._call("GetActivityTask", params)

    def send_task_success(self, **params: Any) -> dict[str, Any]:
        return self._call("SendTaskSuccess", params)

    def send_task_failure(self, **params: Any) -> dict[str, Any]:
        return self._call("SendTaskFailure", params)

    def send_task_heartbeat(self, **params: Any) -> dict[str, Any]:
        return self._call("SendTaskHeartbeat", params)

    def _call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        from podium.api.errors import ApiError

        try:
            return self.service.handle(action, params)
        except ApiError as exc:
            raise ClientError({"Error": {"Code": exc.type, "Message": exc.message}}, action) from None


class ActivitySource:
    """Tasks of one activity: `activity` is its ARN, or its name (CreateActivity gives the ARN)."""

    name = "activities"
    # Used only when Worker(heartbeat_every=...) is not given: short enough for any
    # HeartbeatSeconds above about 10 s; set heartbeat_every below a third of a shorter one.
    heartbeat_fallback: float | None = 10.0
    lease_seconds: float | None = None  # a task taken stays taken: HeartbeatSeconds is the only limit
    abandons_polls = True

    def __init__(
        self,
        client: StepFunctionsClient,
        activity: str,
        worker_name: str,
        *,
        identity: str | None = None,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.activity = activity
        self.worker_name = f"{worker_name}@{identity or default_identity()}"[:WORKER_NAME_LIMIT]
        self._arn = activity if activity.startswith("arn:") else None
        self._lock = threading.Lock()
        self._owns_client = owns_client

    def activity_arn(self) -> str:
        # Resolved at the first poll, not at start: the server may come up after the worker.
        with self._lock:
            if self._arn is None:
                self._arn = str(self.client.create_activity(name=self.activity)["activityArn"])
            return self._arn

    def receive(self, wait_seconds: float, slot: int) -> ReceivedTask | None:
        # The server decides how long a poll lasts; `wait_seconds` has no say in the API.
        response = self.client.get_activity_task(activityArn=self.activity_arn(), workerName=self.worker_name)
        token = response.get("taskToken")
        if not token:
            return None
        text = response.get("input") or "null"
        value = json.loads(text)
        if isinstance(value, dict) and value.get("kind") == "command" and value.get("task_token") == token:
            return _unwrapped(token, text)
        parts = tokens.parse(token)  # podium's tokens name their execution; AWS's say nothing
        return ReceivedTask(token=token, body=value, execution_arn=parts.execution_arn if parts else None)

    def succeed(self, task: ReceivedTask, output: JSON) -> bool:
        return _open(lambda: self.client.send_task_success(taskToken=task.token, output=json.dumps(output)))

    def fail(self, task: ReceivedTask, error: str, cause: str | None) -> bool:
        params = {"taskToken": task.token, "error": error} | ({"cause": cause} if cause is not None else {})
        return _open(lambda: self.client.send_task_failure(**params))

    def heartbeat(self, task: ReceivedTask) -> bool:
        return _open(lambda: self.client.send_task_heartbeat(taskToken=task.token))

    def release(self, task: ReceivedTask) -> None:
        """Nothing to send: see the module's docstring."""

    def close(self) -> None:
        if self._owns_client:
            self.client.close()  # type: ignore[attr-defined]


def _unwrapped(token: str, text: str) -> ReceivedTask:
    """A command of podium's local transport, carried as an activity task (podium.transports.local)."""
    command = from_wire(text)
    assert isinstance(command, Command) and command.task_token == token
    return ReceivedTask.of_command(command)


def _open(call: Callable[[], object]) -> bool:
    """Make the call; False if the server says the task had already closed (a late answer)."""
    try:
        call()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in CLOSED:
            return False
        raise
    return True
