"""moto's side: its Step Functions interpreter, driven through boto3 as a client would.

`mock_aws(config={"stepfunctions": {"execute_state_machine": True}})` makes moto really run
the definition (its port of LocalStack's interpreter) in a thread per execution. The only way
to learn that an execution ended is to poll DescribeExecution.

moto runs Lambda functions only in Docker containers; without a Docker engine (as here) its
`use_docker: False` Lambda backend answers every Invoke by echoing the request payload without
running any code. The saga therefore runs on moto against such stub functions, each echoing
its input, which is exactly what podium's trivial function does: same definition, same
results, but moto's "function" costs nothing. That favours moto, and the report says so.
"""

from __future__ import annotations

import datetime
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.measure import RssSampler, RunResult, now, percentile
from bench.workloads import REGION, SAGA_STEPS, JSONValue, Workload, step_name

# The pause between two DescribeExecution calls grows with the time already waited (1/50 of
# it, between 1 ms and 50 ms), so polling adds at most ~2% to a latency it observes. Polling
# flat out would not be fairer: each boto3 call holds the GIL for milliseconds that moto's
# worker threads need. Measured here, a 1,000-item Map took 104 s polled in a busy loop and
# 1.2 s with a 1 ms pause; a 10,000-item Map 17.7 s with a 1 ms pause and 10.7 s with 10 ms.
POLL_MIN_S = 0.001
POLL_MAX_S = 0.05
POLL_FRACTION = 1 / 50
POLL_TIMEOUT_S = 300.0
_CREDENTIALS = {
    "region_name": REGION,
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
SAGA_NOTE = "moto's Lambdas are Docker-less stubs echoing their payload (no function code runs)"


@contextmanager
def moto_session(*, lambdas: bool) -> Iterator[MotoSession]:
    """A mock AWS account; with `lambdas`, the saga's functions exist in it as stubs."""
    import boto3
    from moto import mock_aws

    config: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with mock_aws(config=config):
        session = MotoSession(boto3.client("stepfunctions", **_CREDENTIALS))
        if lambdas:
            session.function_arns = _create_stub_functions(boto3)
        yield session


class MotoSession:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.function_arns: dict[str, str] = {}
        # moto validates the role's form, not its existence, for a state machine
        self.role_arn = "arn:aws:iam::123456789012:role/podium-bench"

    def create_state_machine(self, name: str, definition: dict[str, JSONValue]) -> str:
        response = self.client.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=self.role_arn
        )
        return str(response["stateMachineArn"])

    def start(self, machine_arn: str, value: JSONValue) -> str:
        # moto names an execution "None" when no name is given, so the second one would clash.
        response = self.client.start_execution(
            stateMachineArn=machine_arn, name=uuid.uuid4().hex, input=json.dumps(value)
        )
        return str(response["executionArn"])

    def describe(self, arn: str) -> dict[str, Any]:
        response: dict[str, Any] = self.client.describe_execution(executionArn=arn)
        return response

    def wait(self, arn: str, since: float) -> dict[str, Any]:
        """Poll until the execution has ended; `since` is when it was started (perf_counter)."""
        deadline = since + POLL_TIMEOUT_S
        while True:
            described = self.describe(arn)
            moment = now()
            if described["status"] != "RUNNING" or moment > deadline:
                return described
            time.sleep(min(max(POLL_MIN_S, (moment - since) * POLL_FRACTION), POLL_MAX_S))

    def states_entered(self, arn: str) -> int:
        count = 0
        paginator = self.client.get_paginator("get_execution_history")
        for page in paginator.paginate(executionArn=arn, PaginationConfig={"PageSize": 1000}):
            count += sum(1 for event in page["events"] if event["type"].endswith("StateEntered"))
        return count


def _create_stub_functions(boto3: Any) -> dict[str, str]:
    iam = boto3.client("iam", **_CREDENTIALS)
    role = iam.create_role(RoleName="podium-bench-lambda", AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST))
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    lambdas = boto3.client("lambda", **_CREDENTIALS)
    arns = {}
    for index in range(SAGA_STEPS):
        created = lambdas.create_function(
            FunctionName=step_name(index),
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
        )
        arns[step_name(index)] = str(created["FunctionArn"])
    return arns


def run_moto(
    session: MotoSession,
    workload: Workload,
    definition: dict[str, JSONValue],
    *,
    mode: str,
    count: int,
    warmup: int,
    note: str = "",
) -> RunResult:
    machine = session.create_state_machine(f"bench-{workload.key}-{mode}", definition)
    for _ in range(warmup):
        session.wait(session.start(machine, workload.input), now())
    with RssSampler() as rss:
        if mode == "sequential":
            arns: list[str] = []
            described: list[dict[str, Any]] = []
            latencies: list[float] = []
            start = now()
            for _ in range(count):
                began = now()
                arn = session.start(machine, workload.input)
                described.append(session.wait(arn, began))
                latencies.append(now() - began)
                arns.append(arn)
            elapsed = now() - start
            # What moto itself took, start to stop, apart from the boto3 round trips a client
            # pays on top: said in the report so that nobody mistakes one for the other.
            inside = percentile([_server_latency(one) for one in described], 50) * 1000
            note = "; ".join(
                part
                for part in (note, f"moto's own start-to-stop p50 {inside:.1f} ms (the rest is boto3)")
                if part
            )
        else:
            wall_start = datetime.datetime.now(tz=datetime.UTC)
            began = now()
            arns = [session.start(machine, workload.input) for _ in range(count)]
            # One execution at a time, oldest first, as podium's side waits: a round of polls
            # over all of them would keep the GIL from moto's workers for most of the run.
            described = [session.wait(arn, began) for arn in arns]
            # moto's own start and stop stamps, not when polling noticed: waiting for the
            # executions in turn would charge each with the wait for the ones before it.
            latencies = [_server_latency(one) for one in described]
            stops = [one["stopDate"] for one in described if one.get("stopDate") is not None]
            elapsed = (
                (max(stops) if stops else datetime.datetime.now(tz=datetime.UTC)) - wall_start
            ).total_seconds()
    failed = sum(1 for one in described if one["status"] != "SUCCEEDED")
    transitions = sum(session.states_entered(arn) for arn in arns)
    return RunResult(
        engine="moto",
        workload=workload.key,
        mode=mode,
        executions=count,
        elapsed_s=elapsed,
        latencies_s=latencies,
        transitions=transitions,
        peak_rss_bytes=rss.peak_bytes,
        failed=failed,
        note=note,
    )


def _server_latency(described: dict[str, Any]) -> float:
    stop = described.get("stopDate")
    if stop is None:
        return float("nan")
    return float((stop - described["startDate"]).total_seconds())
