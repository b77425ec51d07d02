"""Waiting for the outside world through the API: activities done by worker threads, and
callbacks (.waitForTaskToken) answered by a test thread holding the token."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.blackbox.conftest import TokenInbox
from tests.blackbox.process import ROLE, client, definition, event_types, history, wait_for_end
from tests.blackbox.test_state_machines import error_of

Names = Callable[[str], str]


class Worker(threading.Thread):
    """An activity worker: long-polls GetActivityTask once, then does what `answer` says."""

    def __init__(self, endpoint: str, activity_arn: str, answer: Callable[[Any, str, str], None]) -> None:
        super().__init__(daemon=True)
        self.sfn = client(endpoint)  # a client of its own: a long poll holds a connection
        self.activity_arn = activity_arn
        self.answer = answer
        self.polling = threading.Event()
        self.task: dict[str, Any] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.polling.set()
            self.task = self.sfn.get_activity_task(activityArn=self.activity_arn, workerName="worker-1")
            self.answer(self.sfn, self.task["taskToken"], self.task["input"])
        except BaseException as exc:  # surfaced by finish()
            self.error = exc

    def finish(self, timeout: float = 30) -> dict[str, Any]:
        self.join(timeout)
        assert not self.is_alive(), "the worker is still waiting"
        if self.error is not None:
            raise self.error
        return self.task


def activity_machine(sfn: Any, name: str, activity_arn: str, **task: Any) -> str:
    text = definition({"Work": {"Type": "Task", "Resource": activity_arn, "End": True, **task}})
    arn: str = sfn.create_state_machine(name=name, definition=text, roleArn=ROLE)["stateMachineArn"]
    return arn


class TestActivities:
    def test_activities_as_resources(self, sfn: Any, names: Names) -> None:
        name = names("act")
        created = sfn.create_activity(name=name, tags=[{"key": "k", "value": "v"}])
        arn = created["activityArn"]
        assert sfn.create_activity(name=name)["activityArn"] == arn  # idempotent on the name
        described = sfn.describe_activity(activityArn=arn)
        assert (described["name"], described["creationDate"]) == (name, created["creationDate"])
        listed = [
            a["activityArn"]
            for page in sfn.get_paginator("list_activities").paginate(PaginationConfig={"PageSize": 1})
            for a in page["activities"]
        ]
        assert arn in listed
        sfn.delete_activity(activityArn=arn)
        assert error_of(lambda: sfn.describe_activity(activityArn=arn))[0] == "ActivityDoesNotExist"
        assert error_of(lambda: sfn.get_activity_task(activityArn=arn))[0] == "ActivityDoesNotExist"

    def test_a_worker_long_polls_heartbeats_and_succeeds(self, sfn: Any, endpoint: str, names: Names) -> None:
        activity = sfn.create_activity(name=names("work"))["activityArn"]
        machine = activity_machine(sfn, names("act"), activity, HeartbeatSeconds=30, TimeoutSeconds=60)

        def answer(worker: Any, token: str, task_input: str) -> None:
            worker.send_task_heartbeat(taskToken=token)
            worker.send_task_success(taskToken=token, output=json.dumps({"done": json.loads(task_input)}))

        worker = Worker(endpoint, activity, answer)
        worker.start()
        assert worker.polling.wait(10)
        # The poll is held open while there is no task (a long poll), and not answered empty.
        worker.join(timeout=1.0)
        assert worker.is_alive()
        execution = sfn.start_execution(stateMachineArn=machine, input='{"job": 7}')["executionArn"]
        task = worker.finish()
        assert json.loads(task["input"]) == {"job": 7}
        described = wait_for_end(sfn, execution)
        assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"done": {"job": 7}})
        events = history(sfn, execution)
        assert event_types(events) == [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded",
        ]
        scheduled = events[2]["activityScheduledEventDetails"]
        assert (scheduled["resource"], scheduled["heartbeatInSeconds"], scheduled["timeoutInSeconds"]) == (
            activity,
            30,
            60,
        )
        assert events[3]["activityStartedEventDetails"] == {"workerName": "worker-1"}
        # The task has closed: its token is TaskTimedOut now, as AWS answers.
        code, _ = error_of(lambda: sfn.send_task_success(taskToken=task["taskToken"], output="{}"))
        assert code == "TaskTimedOut"

    def test_a_worker_fails_the_task(self, sfn: Any, endpoint: str, names: Names) -> None:
        activity = sfn.create_activity(name=names("fail"))["activityArn"]
        machine = activity_machine(sfn, names("act"), activity)

        def answer(worker: Any, token: str, task_input: str) -> None:
            worker.send_task_failure(taskToken=token, error="Worker.Broke", cause="a cog came off")

        worker = Worker(endpoint, activity, answer)
        worker.start()
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        worker.finish()
        described = wait_for_end(sfn, execution)
        assert (described["status"], described["error"], described["cause"]) == (
            "FAILED",
            "Worker.Broke",
            "a cog came off",
        )
        assert "ActivityFailed" in event_types(history(sfn, execution))

    def test_a_silent_worker_times_out_on_its_heartbeat(self, sfn: Any, endpoint: str, names: Names) -> None:
        activity = sfn.create_activity(name=names("silent"))["activityArn"]
        machine = activity_machine(sfn, names("act"), activity, HeartbeatSeconds=1)
        worker = Worker(endpoint, activity, lambda worker, token, task_input: None)
        worker.start()
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        token = worker.finish()["taskToken"]
        described = wait_for_end(sfn, execution)
        # AWS records a heartbeat timeout as States.Timeout; Catch tells it apart (below).
        assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
        assert event_types(history(sfn, execution))[-2:] == ["ActivityTimedOut", "ExecutionFailed"]
        assert error_of(lambda: sfn.send_task_heartbeat(taskToken=token))[0] == "TaskTimedOut"

        catching = definition(
            {
                "Work": {
                    "Type": "Task",
                    "Resource": activity,
                    "HeartbeatSeconds": 1,
                    "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "End": True},
            }
        )
        machine = sfn.create_state_machine(name=names("catch"), definition=catching, roleArn=ROLE)[
            "stateMachineArn"
        ]
        worker = Worker(endpoint, activity, lambda worker, token, task_input: None)
        worker.start()
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        worker.finish()
        assert wait_for_end(sfn, execution)["status"] == "SUCCEEDED"
        assert "ActivityTimedOut" in event_types(history(sfn, execution))

    def test_tokens_that_are_not_podiums_are_invalid(self, sfn: Any, endpoint: str, names: Names) -> None:
        activity = sfn.create_activity(name=names("tok"))["activityArn"]
        machine = activity_machine(sfn, names("act"), activity)
        worker = Worker(endpoint, activity, lambda worker, token, task_input: None)
        worker.start()
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        token = worker.finish()["taskToken"]
        assert (
            error_of(lambda: sfn.send_task_success(taskToken="not-a-token", output="{}"))[0] == "InvalidToken"
        )
        # A real token's fields with another signature: forged.
        forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
        assert error_of(lambda: sfn.send_task_failure(taskToken=forged))[0] == "InvalidToken"
        code, _ = error_of(lambda: sfn.send_task_success(taskToken=token, output="{not json"))
        assert code == "InvalidOutput"
        sfn.send_task_success(taskToken=token, output='"ok"')
        assert wait_for_end(sfn, execution)["output"] == '"ok"'


class TestCallbacks:
    TEXT = definition(
        {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "hand_over_token",
                    "Payload": {"token.$": "$$.Task.Token", "url.$": "$.url", "key.$": "$.key"},
                },
                "HeartbeatSeconds": 60,
                "End": True,
            }
        }
    )

    def test_a_test_thread_answers_with_the_token(
        self, sfn: Any, endpoint: str, token_inbox: TokenInbox, names: Names
    ) -> None:
        machine = sfn.create_state_machine(name=names("callback"), definition=self.TEXT, roleArn=ROLE)[
            "stateMachineArn"
        ]
        key = names("key")
        answered: list[str] = []

        def responder() -> None:
            token = token_inbox.token(key)
            responder_client = client(endpoint)
            responder_client.send_task_heartbeat(taskToken=token)
            responder_client.send_task_success(taskToken=token, output=json.dumps({"approved": key}))
            answered.append(token)

        thread = threading.Thread(target=responder, daemon=True)
        thread.start()
        execution = sfn.start_execution(
            stateMachineArn=machine, input=json.dumps({"url": token_inbox.url, "key": key})
        )["executionArn"]
        thread.join(timeout=30)
        assert answered, "the responder got no token"
        described = wait_for_end(sfn, execution)
        assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"approved": key})
        events = history(sfn, execution)
        assert event_types(events) == [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded",
        ]
        scheduled = events[2]["taskScheduledEventDetails"]
        assert (scheduled["resource"], scheduled["resourceType"]) == ("invoke.waitForTaskToken", "lambda")
        assert json.loads(scheduled["parameters"])["Payload"]["token"] == answered[0]
        submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
        assert submitted["Payload"] == {"handed": True} and submitted["StatusCode"] == 200

    def test_a_callback_answered_with_a_failure(
        self, sfn: Any, token_inbox: TokenInbox, names: Names
    ) -> None:
        machine = sfn.create_state_machine(name=names("callback"), definition=self.TEXT, roleArn=ROLE)[
            "stateMachineArn"
        ]
        key = names("key")
        execution = sfn.start_execution(
            stateMachineArn=machine, input=json.dumps({"url": token_inbox.url, "key": key})
        )["executionArn"]
        token = token_inbox.token(key)
        started = time.monotonic()
        # The execution waits for the answer, however long it takes.
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        sfn.send_task_failure(taskToken=token, error="Approval.Denied", cause="no budget")
        described = wait_for_end(sfn, execution)
        assert time.monotonic() - started < 20
        assert (described["status"], described["error"], described["cause"]) == (
            "FAILED",
            "Approval.Denied",
            "no budget",
        )
        assert event_types(history(sfn, execution))[-2:] == ["TaskFailed", "ExecutionFailed"]
