"""sqs:sendMessage against AWS's own recordings: the conformance corpus's SQS executions, run on
the real engine with the queue connector (in-process transport), and judged as the corpus
judges every case, at every level (outcome, event types, events).

The service answers each command as AWS's recording shows the task closing: with the recorded
TaskSucceeded output (its task token the real one) or TaskFailed error and cause, after a
heartbeat when the recording sent some; where the recording ends in a timeout it never answers.
What is checked is what podium records around that: TaskScheduled's parameters, the
TaskSubmitted that carries SendMessage's response, the order of events, the errors SQS itself
raises (a missing MessageBody), Catch and Parallel around them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.conformance.cases import Case, load_case
from podium.conformance.judge import judge_record
from podium.store.memory import MemoryStore
from podium.transports.base import Command, Reply
from podium.transports.inprocess import InProcessTransport
from tests.connectors.queue_support import Orchestrator, Service

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "asl" / "cases"
QUEUE = "corpus-queue"
_TOKEN = re.compile(r"^(<task_token(:\d+)?>|a_task_token)$")


def sqs_cases() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    found = []
    for path in sorted(CORPUS.glob("*.json")):
        text = path.read_text()
        if "sqs:sendMessage" in text and '"kind": "execution"' in text:
            found.append(path)
    return found


@pytest.fixture
def transport() -> Iterator[InProcessTransport]:
    made = InProcessTransport()
    yield made
    made.close()


def with_token(value: Any, token: str) -> Any:
    if isinstance(value, str):
        return token if _TOKEN.match(value) else value
    if isinstance(value, dict):
        return {k: with_token(v, token) for k, v in value.items()}
    if isinstance(value, list):
        return [with_token(v, token) for v in value]
    return value


def recorded_answers(case: Case) -> list[dict[str, Any]]:
    """How AWS's recording closed each task, in order."""
    return [e for e in case.expected.get("events") or [] if e["type"] in ("TaskSucceeded", "TaskFailed")]


def real_queue(value: Any, placeholders: set[str]) -> Any:
    """The input with the recording's queue-URL placeholder made a queue podium can use."""
    if isinstance(value, dict):
        return {k: real_queue(v, placeholders) for k, v in value.items()}
    return QUEUE if isinstance(value, str) and value in placeholders else value


def volatile_headers_as_recorded(recorded: Any, observed: Any) -> Any:
    """`observed` with the Date and request id headers of SQS's response as `recorded` has them.

    They differ on every call, and the recordings' normaliser replaced some of them whole: a
    header list `["Thu, 18 Apr 2024 06:27:01 GMT"]` became the bare string "date", a type the
    matcher cannot tell from a list; others it left as the literal date of the recording. The
    shape of these headers is tested on its own (test_queue.py); here they are the recording's.
    JSON text (an event's output) is walked as the value it holds.
    """
    if isinstance(observed, str) and isinstance(recorded, dict | list) and "SdkHttpMetadata" in observed:
        value = volatile_headers_as_recorded(recorded, json.loads(observed))
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(observed, dict) and isinstance(recorded, dict):
        out = {k: volatile_headers_as_recorded(recorded.get(k), v) for k, v in observed.items()}
        if "SdkHttpMetadata" in out and isinstance(recorded.get("SdkHttpMetadata"), dict):
            for headers in ("AllHttpHeaders", "HttpHeaders"):
                for name in ("Date", "x-amzn-RequestId"):
                    out["SdkHttpMetadata"][headers][name] = recorded["SdkHttpMetadata"][headers][name]
            out["SdkResponseMetadata"] = recorded.get("SdkResponseMetadata")
        return out
    if isinstance(observed, list) and isinstance(recorded, list) and len(observed) == len(recorded):
        return [volatile_headers_as_recorded(r, o) for r, o in zip(recorded, observed, strict=True)]
    return observed


# Recordings whose definition is not the one that ran: what the test did to it first.
CORRECTIONS = {
    # localstack's test deletes TimeoutSeconds before it creates the machine (hence its name);
    # AWS's history then has no timeoutInSeconds.
    "test_heartbeat_no_timeout": lambda d: d["States"]["SendMessageWithWait"].pop("TimeoutSeconds"),
}


@pytest.mark.parametrize("path", sqs_cases(), ids=lambda p: p.name[:90])
def test_an_sqs_case_of_the_corpus(path: Path, transport: InProcessTransport) -> None:
    case = load_case(path)
    assert case is not None
    answers = iter(recorded_answers(case))
    heartbeats = "send_task_heartbeat" in (case.flags.get("api_interactions_during_execution") or [])

    def as_recorded(command: Command) -> Reply | None:
        answer = next(answers, None)
        if answer is None:
            return None  # the recording times out here
        if heartbeats:
            transport.send_reply(command.reply_to, Reply(command.task_token, "heartbeat"))
        if answer["type"] == "TaskSucceeded":
            output = with_token(answer["taskSucceededEventDetails"]["output"], command.task_token)
            return Reply(command.task_token, "success", output=output)
        details = answer["taskFailedEventDetails"]
        return Reply(command.task_token, "failure", error=details.get("error"), cause=details.get("cause"))

    placeholders = set(case.flags.get("input_placeholders") or [])
    definition = json.loads(json.dumps(case.definition))
    for name, correct in CORRECTIONS.items():
        if name in case.name:
            correct(definition)
    with Orchestrator(MemoryStore(), transport) as orchestrator, Service(transport, QUEUE, as_recorded):
        machine = orchestrator.engine.create_state_machine("corpus", json.dumps(definition))
        arn = orchestrator.engine.start_execution(machine.arn, real_queue(case.input, placeholders)).arn
        record = orchestrator.engine.wait(arn, timeout=30)
        observed = {
            "name": case.name,
            "kind": case.kind,
            "skipped": None,
            "status": record.status,
            "output": record.output,
            "error": record.error,
            "cause": record.cause,
            "events": [event.to_aws() for event in orchestrator.events(arn)],
        }
    expected = case.expected
    observed["events"] = volatile_headers_as_recorded(expected.get("events"), observed["events"])
    observed["output"] = volatile_headers_as_recorded(expected.get("output"), observed["output"])
    # The recorded TaskScheduled names the queue by the placeholder podium replaced.
    for event in observed["events"]:
        details = event.get("taskScheduledEventDetails")
        if details:
            parameters = json.loads(details["parameters"])
            if parameters.get("QueueUrl") == QUEUE:
                parameters["QueueUrl"] = sorted(placeholders)[0]
            details["parameters"] = json.dumps(parameters, separators=(",", ":"))
    verdicts = judge_record(case, json.loads(json.dumps(observed)))
    failed = {level: f"{v.reason}: {v.detail}" for level, v in verdicts.items() if not v.passed}
    assert failed == {}


def test_the_corpus_has_sqs_cases() -> None:
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the conformance corpus is not at {CORPUS}")
        pytest.skip(f"the conformance corpus is not at {CORPUS}")
    assert len(sqs_cases()) >= 10
