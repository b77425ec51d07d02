"""The batch's client of a podium server over HTTP: the API a user's own client would call.

botocore's stepfunctions client (as the worker SDK's), with its retries off: while the
demo kills and restarts the orchestrator, a call that finds no one there is `UnreachableError`
at once, and the batch (podium.demo.batch) decides when to try again, with the same name
and input. A refused connection, a cut one, a read that times out and a 5xx all say
nothing about whether the call took effect; an error the API answers (a 4xx) does.

ExecutionAlreadyExists is the one 4xx that needs a second look. StartExecution is idempotent
on name and input while the execution runs; once it has ended, the same start is refused.
So a start whose answer was lost (the server killed just after it committed), retried after
the execution ended, is told "already exists": when that execution has the same input it is
this payment's (names are unique to the run), and the batch takes it as started.

Statuses: one ListExecutions of the running ones per look, and a DescribeExecution for each
execution that left that list, rather than a DescribeExecution per execution in flight
several times a second (on a small machine the orchestrator would spend its time on those).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from podium.demo.batch import MISSING, StartRefusedError, UnreachableError

POLL_SECONDS = 0.2
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 30.0  # a call to a live server on a busy machine; a dead one refuses at once


class ApiExecutions:
    """podium.demo.batch.Executions over the Step Functions API at `endpoint`."""

    poll_seconds = POLL_SECONDS

    def __init__(self, endpoint: str, *, region: str) -> None:
        self.client = api_client(endpoint, region=region)

    def start(self, machine_arn: str, name: str, input_text: str) -> str:
        try:
            response = self.client.start_execution(stateMachineArn=machine_arn, name=name, input=input_text)
        except ClientError as exc:
            if _code(exc) == "ExecutionAlreadyExists":
                return self._same(machine_arn, name, input_text, exc)
            raise _refused_or_unreachable(exc) from None
        except BotoCoreError as exc:
            raise UnreachableError(str(exc)) from None
        return str(response["executionArn"])

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)  # the API has no word for "an execution ended": look again later

    def statuses(self, machine_arn: str, arns: Sequence[str]) -> dict[str, str]:
        running: set[str] = set()
        try:
            pages = self.client.get_paginator("list_executions").paginate(
                stateMachineArn=machine_arn, statusFilter="RUNNING"
            )
            for page in pages:
                running.update(str(e["executionArn"]) for e in page["executions"])
            return {arn: "RUNNING" if arn in running else self._status(arn) for arn in arns}
        except ClientError as exc:
            if _status_code(exc) >= 500:
                raise UnreachableError(f"{_code(exc)}: {exc}") from None
            raise  # a 4xx on a look at the statuses is a bug here, not the orchestrator's absence
        except BotoCoreError as exc:
            raise UnreachableError(str(exc)) from None

    def close(self) -> None:
        self.client.close()

    def _status(self, arn: str) -> str:
        try:
            return str(self.client.describe_execution(executionArn=arn)["status"])
        except ClientError as exc:
            if _code(exc) == "ExecutionDoesNotExist":
                return MISSING
            raise

    def _same(self, machine_arn: str, name: str, input_text: str, refusal: ClientError) -> str:
        """The execution that made the start "already exist", when it is this same start."""
        arn = execution_arn(machine_arn, name)
        try:
            existing = self.client.describe_execution(executionArn=arn)
        except ClientError as exc:
            raise _refused_or_unreachable(exc) from None
        except BotoCoreError as exc:
            raise UnreachableError(str(exc)) from None
        if json.loads(existing.get("input") or "null") == json.loads(input_text):
            return arn
        raise _refused_or_unreachable(refusal)


def api_client(endpoint: str, *, region: str) -> Any:
    """botocore's stepfunctions client for `endpoint`: no retries of its own, short timeouts."""
    import botocore.session
    from botocore import UNSIGNED
    from botocore.config import Config

    session = botocore.session.get_session()
    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    if session.get_credentials() is None:  # podium's server does not check signatures unless told to
        config = config.merge(Config(signature_version=UNSIGNED))
    return session.create_client("stepfunctions", endpoint_url=endpoint, region_name=region, config=config)


def execution_arn(machine_arn: str, name: str) -> str:
    """`arn:...:execution:MACHINE:NAME` of a state machine's `arn:...:stateMachine:MACHINE`."""
    head, kind, machine = machine_arn.rsplit(":", 2)
    assert kind == "stateMachine", machine_arn
    return f"{head}:execution:{machine}:{name}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status_code(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _refused_or_unreachable(exc: ClientError) -> Exception:
    """A 5xx says nothing of what happened (try again); a 4xx is the server's answer."""
    if _status_code(exc) >= 500:
        return UnreachableError(f"{_code(exc)}: {exc}")
    message = exc.response.get("Error", {}).get("Message", "")
    return StartRefusedError(f"{_code(exc)}: {message}")
