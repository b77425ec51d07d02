"""The AWS CLI against `podium server`, as a new user would run it (issue 3's "Done when").

Each command is a subprocess of the `aws` the dev extras install (awscli), with dummy
credentials and a region in the environment and no user configuration read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.blackbox.conftest import SIGNING_KEY, SIGNING_SECRET
from tests.blackbox.process import ROLE, PodiumProcess, definition, wait_until

AWS = Path(sys.executable).parent / "aws"
Names = Callable[[str], str]


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not AWS.is_file():
        message = f"the AWS CLI is not installed at {AWS} (pip install -e '.[dev]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("aws-home")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "config"),  # none: nothing of the user's is read
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_PAGER": "",
            "HOME": str(home),
        }
    )
    return environment


class Aws:
    """`aws stepfunctions --endpoint-url ENDPOINT ...` as a subprocess."""

    def __init__(self, endpoint: str, env: dict[str, str]) -> None:
        self.endpoint = endpoint
        self.env = env

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        command = [str(AWS), "stepfunctions", "--endpoint-url", self.endpoint, "--output", "json", *args]
        return subprocess.run(
            command, capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=60, check=False
        )

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Any:
        """The command's JSON output; AssertionError with its stderr if it failed."""
        done = self.run(*args, env=env)
        assert done.returncode == 0, f"aws {' '.join(args)} exited {done.returncode}: {done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture
def aws(endpoint: str, aws_env: dict[str, str]) -> Aws:
    return Aws(endpoint, aws_env)


def test_create_start_describe_history_and_list(aws: Aws, names: Names, tmp_path: Path) -> None:
    document = tmp_path / "machine.json"
    document.write_text(
        definition(
            {
                "Greet": {
                    "Type": "Pass",
                    "Parameters": {"greeting.$": "States.Format('hello {}', $.who)"},
                    "Next": "Done",
                },
                "Done": {"Type": "Succeed"},
            }
        )
    )
    name = names("cli")
    created = aws(
        "create-state-machine", "--name", name, "--definition", f"file://{document}", "--role-arn", ROLE
    )
    machine = created["stateMachineArn"]
    assert machine == f"arn:aws:states:us-east-1:000000000000:stateMachine:{name}"
    assert "creationDate" in created

    started = aws(
        "start-execution", "--state-machine-arn", machine, "--name", "run-1", "--input", '{"who": "cli"}'
    )
    execution = started["executionArn"]
    assert execution == f"arn:aws:states:us-east-1:000000000000:execution:{name}:run-1"

    def ended() -> Any:
        described = aws("describe-execution", "--execution-arn", execution)
        return described if described["status"] != "RUNNING" else None

    described = wait_until(ended)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"greeting": "hello cli"}
    assert json.loads(described["input"]) == {"who": "cli"}

    events = aws("get-execution-history", "--execution-arn", execution)["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {"who": "cli"}
    newest = aws("get-execution-history", "--execution-arn", execution, "--reverse-order", "--max-items", "2")
    assert [e["type"] for e in newest["events"]] == ["ExecutionSucceeded", "SucceedStateExited"]
    assert newest["NextToken"]  # the CLI pages for the user

    listed = aws("list-executions", "--state-machine-arn", machine, "--status-filter", "SUCCEEDED")
    assert [e["executionArn"] for e in listed["executions"]] == [execution]
    assert (
        aws("list-executions", "--state-machine-arn", machine, "--status-filter", "RUNNING")["executions"]
        == []
    )
    machines = aws("list-state-machines")["stateMachines"]
    assert machine in [m["stateMachineArn"] for m in machines]


def test_errors_are_reported_by_the_cli_as_aws_errors(aws: Aws) -> None:
    missing = "arn:aws:states:us-east-1:000000000000:execution:nothing:here"
    done = aws.run("describe-execution", "--execution-arn", missing)
    assert done.returncode != 0
    assert (
        "An error occurred (ExecutionDoesNotExist) when calling the DescribeExecution operation"
        in done.stderr
    )
    done = aws.run("create-state-machine", "--name", "bad", "--definition", "{}", "--role-arn", ROLE)
    assert "(InvalidDefinition)" in done.stderr


def test_start_sync_execution_with_the_host_prefix_turned_off(aws: Aws, names: Names) -> None:
    text = definition(
        {"P": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": True}}
    )
    machine = aws(
        "create-state-machine",
        "--name",
        names("cli-sync"),
        "--definition",
        text,
        "--role-arn",
        ROLE,
        "--type",
        "EXPRESS",
    )["stateMachineArn"]
    result = aws(
        "start-sync-execution",
        "--state-machine-arn",
        machine,
        "--input",
        '{"a": 2, "b": 3}',
        env={"AWS_DISABLE_HOST_PREFIX_INJECTION": "true"},
    )
    assert (result["status"], json.loads(result["output"])) == ("SUCCEEDED", {"sum": 5})


def test_the_cli_signs_for_a_server_with_credentials(
    signed_podium: PodiumProcess, aws_env: dict[str, str]
) -> None:
    signed = Aws(
        signed_podium.endpoint,
        {**aws_env, "AWS_ACCESS_KEY_ID": SIGNING_KEY, "AWS_SECRET_ACCESS_KEY": SIGNING_SECRET},
    )
    assert "stateMachines" in signed("list-state-machines")
    wrong = Aws(signed_podium.endpoint, {**aws_env, "AWS_ACCESS_KEY_ID": SIGNING_KEY})  # secret "test"
    done = wrong.run("list-state-machines")
    assert done.returncode != 0 and "(InvalidSignatureException)" in done.stderr
