"""Command queues as Task resources: SQS's sendMessage, and podium's own `podium:queue:NAME`.

Resources:

    arn:aws:states:::sqs:sendMessage                   publish the command; the task succeeds
                                                       with SQS's SendMessage response
    arn:aws:states:::sqs:sendMessage.waitForTaskToken  publish it; TaskSubmitted with that
                                                       response, then wait for the answer
    podium:queue:NAME                                  the same as .waitForTaskToken, the body
                                                       being the task's whole input

For `sqs:sendMessage`, Parameters are SendMessage's: `QueueUrl`
(`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`, any URL whose last segment is the name, or
just NAME) names podium's command queue NAME on the configured transport, and `MessageBody`
is the command's body, carrying the task token where the definition put it
(`"TaskToken.$": "$$.Task.Token"`). So the same definition runs on AWS against SQS.
`DelaySeconds` delays the first send; other SendMessage parameters are accepted and ignored.

The command (podium.transports.base.Command) carries the token in its envelope too, and the
name of the reply queue; the service answers there (or through SendTaskSuccess / Failure /
Heartbeat), and the reply consumer (podium.connectors.replies) hands the answer to the engine.

Delivery, at least once, with the database deciding:

- Sending happens on the connector's own thread: a slow or absent broker holds up no
  execution. One exception, for speed: when the engine has nothing else queued it calls
  `invoke_now`, and a command's first send goes out at once on the engine's thread, if the
  transport promises a quick send bounded in time (`quick_send`: in-memory queues, and Redis
  with its short send timeout) and the last send did not fail. That spares every step's
  command a thread hop and a wait for the GIL behind the engine's bookkeeping; under load
  (signals queued for the engine) the connector's thread sends, so that no step waits behind
  a broker round trip. A send that fails is tried again on the connector's thread, backing
  off up to the re-send interval; the task stays open meanwhile (its TimeoutSeconds still runs).
- TaskSubmitted is reported only once the broker confirmed the command. A crash before that
  leaves the task "scheduled" in the journal, and the engine sends it again at the next start;
  a task already submitted is re-attached (`resume`): not sent again, unless the transport
  keeps its queues in memory (local, in-process), which the restart emptied.
- A command nobody answers is sent again (`attempt` + 1) every `resend_seconds` (default 30 s;
  half of HeartbeatSeconds when that is shorter, so that it can still make it), doubling up to
  `max_resend_seconds`, until the task closes or shows a sign of life: a heartbeat on the reply
  queue, or a worker taking it from a local activity queue. That covers a command a broker or a
  consumer lost; a service keeps it idempotent by deduplicating on the task token.
- When a task closes without its command having been taken (timed out, execution stopped), the
  copies still waiting are withdrawn where the transport can (local, in-process, Redis).
- A reply is delivered to the engine only after its task's TaskSubmitted (`answered`), so that
  the history always shows TaskSubmitted before the outcome, however fast the service.

`sent_ms` in every copy of a command is when it was first sent, so that `sent_ms +
timeout_seconds` is the task's deadline on every attempt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import itertools
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Protocol, runtime_checkable

from podium.asl.jsontext import to_json_text
from podium.connectors.base import Reply
from podium.core import tokens
from podium.core.messages import InvokeTask, TaskFailed, TaskHeartbeat, TaskSubmitted, TaskSucceeded
from podium.core.resources import LOCAL_QUEUE_PREFIX, WAIT_FOR_TASK_TOKEN_SUFFIX
from podium.runtime.entropy import ENTROPY
from podium.transports import base

log = logging.getLogger("podium.connectors.queue")

DEFAULT_REPLY_QUEUE = "podium"
DEFAULT_RESEND_SECONDS = 30.0
MAX_RESEND_SECONDS = 900.0
SQS_MESSAGE_LIMIT = 262_144  # SQS's largest message, in UTF-8 bytes
SUBMIT_WAIT_SECONDS = 10.0  # the longest a reply waits for its task's TaskSubmitted to go first

_SQS_SEND = re.compile(r"^arn:aws[\w-]*:states:::sqs:sendMessage(\.waitForTaskToken)?$")
QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$")  # SQS's queue names
_FIRST_RETRY_SECONDS = 0.5  # after a failed send; doubles up to the re-send interval


@runtime_checkable
class Discarding(Protocol):
    """A transport that can withdraw a task's commands not yet taken."""

    def discard(self, token: str) -> None: ...


@runtime_checkable
class ReportsTaking(Protocol):
    """A transport that knows when a worker takes a command (the local one)."""

    def on_taken(self, listener: Callable[[str], None]) -> None: ...


class QueueRequestError(Exception):
    """A request SQS would refuse: fails the task with SQS's error and cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(cause)
        self.error = error
        self.cause = cause


# A task's life inside the connector: being sent, waiting for its answer (sent again now and
# then), started (a sign of life came: no more re-sends), answered (its reply is on its way).
PUBLISHING, WAITING, STARTED, ANSWERED = "publishing", "waiting", "started", "answered"


@dataclass
class _Task:
    invoke: InvokeTask
    reply: Reply
    command: base.Command
    # What the service "answered" on sending, SendMessage's response: made when it is
    # reported (TaskSubmitted), after the send, not on the command's way out.
    response: Callable[[], Any]
    waits: bool  # for the task token (else the task succeeds once the command is sent)
    interval: float  # until the next re-send
    state: str = PUBLISHING
    due: float = 0.0
    failures: int = 0
    submitted: threading.Event = field(default_factory=threading.Event)


class QueueConnector:
    """Publishes queue tasks on `transport` and keeps them sent until answered (see the module)."""

    def __init__(
        self,
        transport: base.Transport,
        *,
        reply_queue: str = DEFAULT_REPLY_QUEUE,
        resend_seconds: float = DEFAULT_RESEND_SECONDS,
        max_resend_seconds: float = MAX_RESEND_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if resend_seconds <= 0 or max_resend_seconds < resend_seconds:
            raise ValueError("need 0 < resend_seconds <= max_resend_seconds")
        self.transport = transport
        self.reply_queue = reply_queue
        self.resend_seconds = resend_seconds
        self.max_resend_seconds = max_resend_seconds
        self._clock = clock
        self._durable = bool(getattr(transport, "durable", True))
        self._quick = bool(getattr(transport, "quick_send", False))
        self._failing = False  # the last send failed: no sends on the engine's thread until one works
        self._cond = threading.Condition()
        self._tasks: dict[str, _Task] = {}  # by task token
        self._due: list[tuple[float, int, str]] = []  # heap of (due, tie-breaker, token)
        self._discards: list[str] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False
        if isinstance(transport, ReportsTaking):
            transport.on_taken(self._taken)

    # --- the Connector protocol -----------------------------------------------------------

    def accepts(self, resource: str) -> bool:
        return bool(_SQS_SEND.match(resource)) or resource.startswith(LOCAL_QUEUE_PREFIX)

    def invoke(self, command: InvokeTask, reply: Reply) -> None:
        self._invoke(command, reply, now=False)

    def invoke_now(self, command: InvokeTask, reply: Reply) -> None:
        """`invoke`, sending on the caller's (the idle engine's) thread when quick (see the module)."""
        self._invoke(command, reply, now=self._quick and not self._failing)

    def _invoke(self, command: InvokeTask, reply: Reply, *, now: bool) -> None:
        try:
            task = self._task(command, reply)
        except QueueRequestError as exc:
            reply(TaskFailed(0, command.command_id, exc.error, exc.cause))
            return
        delay = _delay_seconds(command.payload) if command.resource.startswith("arn:") else 0
        if not now or delay:
            self._track(task, self._clock() + delay)
            return
        with self._cond:
            if self._closed:
                return  # stopping: the task stays owed in the database, sent at the next start
            # Known before it is sent: an answer or a cancel may come while send_command returns.
            self._tasks[task.command.task_token] = task
        self._send(task)  # a failure schedules the retry on the connector's thread
        self.start()

    def resume(self, command: InvokeTask, reply: Reply, phase: str) -> None:
        """After a restart: the task was submitted; wait for its answer, re-sending in due time."""
        try:
            task = self._task(command, reply)
        except QueueRequestError:
            return  # it was sent once, so it was valid then; nothing to re-attach to
        task.submitted.set()
        if self._durable:
            task.state = WAITING
            self._track(task, self._clock() + task.interval)
        else:  # its queue did not survive the restart: send it again now, and no TaskSubmitted
            task.state = WAITING
            self._track(task, self._clock())

    def cancel(self, command: InvokeTask) -> None:
        with self._cond:
            task = self._tasks.pop(command.task_token, None)
            if task is None or not task.waits:
                return
            # An answered task's only command was taken and acked: nothing left to withdraw,
            # unless the transport remembers who took it (local: the activity queues).
            if (
                task.state != ANSWERED
                or task.command.attempt > 1
                or getattr(self.transport, "tracks_takers", False)
            ):
                self._discards.append(command.task_token)
                self._cond.notify()

    # --- the reply consumer's side --------------------------------------------------------

    def answered(self, reply: base.Reply) -> None:
        """`reply` is about to reach the engine: let its TaskSubmitted go first, stop re-sending."""
        with self._cond:
            task = self._tasks.get(reply.task_token)
        if task is None or not task.waits:
            return
        if not task.submitted.wait(SUBMIT_WAIT_SECONDS):
            log.warning("queue: a reply for %s came before its command was confirmed", task.invoke.state_name)
        with self._cond:
            if task.state in (WAITING, STARTED, PUBLISHING):
                task.state = STARTED if reply.status == "heartbeat" else ANSWERED

    def open_tasks(self) -> int:
        """Tasks sent (or being sent) and not closed: for health and tests."""
        with self._cond:
            return len(self._tasks)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="podium-queue-sender", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop sending. Tasks still open stay owed in the database and are sent at the next start."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    # --- inside ---------------------------------------------------------------------------

    def _task(self, command: InvokeTask, reply: Reply) -> _Task:
        queue, body, response, waits = self._request(command)
        parts = tokens.parse(command.task_token)
        heartbeat = command.heartbeat_seconds
        interval = self.resend_seconds if not heartbeat else min(self.resend_seconds, heartbeat / 2)
        envelope = base.Command(
            task_token=command.task_token,
            queue=queue,
            body=body,
            reply_to=self.reply_queue,
            execution_arn=parts.execution_arn if parts else "",
            state_name=command.state_name,
            attempt=1,
            sent_ms=int(time.time() * 1000),
            heartbeat_seconds=command.heartbeat_seconds,
            timeout_seconds=command.timeout_seconds,
        )
        return _Task(command, reply, envelope, response, waits, interval)

    def _request(self, command: InvokeTask) -> tuple[str, Any, Callable[[], Any], bool]:
        """(queue name, body, SendMessage's response, waits for the token) of a task."""
        # The response (its message id among the rest) is made once the command is out: it is
        # only the TaskSubmitted event's, and nothing in a task's way waits for it.
        token = command.task_token
        resource = command.resource
        if resource.startswith(LOCAL_QUEUE_PREFIX):
            queue = resource[len(LOCAL_QUEUE_PREFIX) :].removesuffix(WAIT_FOR_TASK_TOKEN_SUFFIX)
            if not QUEUE_NAME.match(queue):
                raise QueueRequestError("States.Runtime", f"'{queue}' is not a valid podium queue name")
            return queue, command.payload, lambda: {"MessageId": message_id(token), "QueueName": queue}, True
        params = command.payload if isinstance(command.payload, dict) else {}
        url = params.get("QueueUrl")
        if not isinstance(url, str) or not url:
            raise _sqs_error("MissingParameter", _MISSING % "QueueUrl")
        name = queue_name(url)
        if name is None:
            raise _sqs_error("AWS.SimpleQueueService.NonExistentQueue", _NO_QUEUE)
        body = params.get("MessageBody")
        text = body if isinstance(body, str) else (None if body is None else to_json_text(body))
        if not text:
            raise _sqs_error("MissingParameter", _MISSING % "MessageBody")
        # A character is at most 4 bytes in UTF-8: encode only when the length cannot decide.
        if len(text) * 4 > SQS_MESSAGE_LIMIT and len(text.encode()) > SQS_MESSAGE_LIMIT:
            raise _sqs_error("InvalidParameterValue", _TOO_LONG)
        waits = resource.endswith(WAIT_FOR_TASK_TOKEN_SUFFIX)
        return name, body, lambda: send_message_response(message_id(token), text), waits

    def _track(self, task: _Task, due: float) -> None:
        with self._cond:
            if self._closed:
                return  # stopping: the task stays owed in the database, sent at the next start
            self._tasks[task.command.task_token] = task
            self._schedule(task, due)
        self.start()

    def _schedule(self, task: _Task, due: float) -> None:
        task.due = due
        entry = (due, next(self._seq), task.command.task_token)
        heapq.heappush(self._due, entry)
        if self._due[0] is entry:  # else the sender's thread wakes for an earlier one anyway
            self._cond.notify()

    def _taken(self, token: str) -> None:
        with self._cond:
            task = self._tasks.get(token)
            if task is None:
                return
            again = task.state == STARTED
            if task.state in (PUBLISHING, WAITING):
                task.state = STARTED  # (while the first send is still returning, too)
        if again:
            # Taken a second time: its first worker died and the supervisor put it back. The
            # new worker gets the whole HeartbeatSeconds, as a heartbeat on its behalf gives.
            task.reply(TaskHeartbeat(0, task.invoke.command_id))

    def _run(self) -> None:
        while True:
            with self._cond:
                work = self._next()
                if work is None:
                    return
            discards, task = work
            for token in discards:
                self._discard(token)
            if task is not None:
                self._send(task)

    def _next(self) -> tuple[list[str], _Task | None] | None:
        """Wait for work (under the lock): tokens to withdraw, and a task due to be sent; None: closed."""
        while not self._closed:
            if self._discards:
                discards, self._discards = self._discards, []
                return discards, None
            now = self._clock()
            while self._due and self._due[0][0] <= now:
                due, _, token = heapq.heappop(self._due)
                task = self._tasks.get(token)
                # Entries left behind by a reschedule or a close are skipped here.
                if task is not None and task.due == due and task.state in (PUBLISHING, WAITING):
                    return [], task
            self._cond.wait(self._due[0][0] - now if self._due else None)
        return None

    def _send(self, task: _Task) -> None:
        first = task.state == PUBLISHING
        command = task.command
        if not first:
            command = dataclasses.replace(command, attempt=command.attempt + 1)
        try:
            self.transport.send_command(command)
        except Exception as exc:  # any broker trouble: the task stays open, the send is retried
            with self._cond:
                self._failing = True
                task.failures += 1
                retry = min(_FIRST_RETRY_SECONDS * 2 ** (task.failures - 1), task.interval)
                log.warning("queue: sending to %s failed (%s); again in %.1f s", command.queue, exc, retry)
                if self._tasks.get(command.task_token) is task:
                    self._schedule(task, self._clock() + retry)
            return
        if first:
            # Confirmed by the broker: now the task is submitted (or, not waiting, done).
            task.reply(
                TaskSubmitted(0, task.invoke.command_id, task.response())
                if task.waits
                else TaskSucceeded(0, task.invoke.command_id, task.response())
            )
            task.submitted.set()
        else:
            log.info("queue: sent %s again (attempt %d): no answer yet", command.state_name, command.attempt)
        with self._cond:
            self._failing = False
            task.failures = 0
            task.command = command
            if not task.waits:
                if self._tasks.get(command.task_token) is task:
                    del self._tasks[command.task_token]
                return
            if task.state == PUBLISHING:
                task.state = WAITING
            if task.state == WAITING and self._tasks.get(command.task_token) is task:
                self._schedule(task, self._clock() + task.interval)
                task.interval = min(task.interval * 2, self.max_resend_seconds)

    def _discard(self, token: str) -> None:
        if not isinstance(self.transport, Discarding):
            return
        try:
            self.transport.discard(token)
        except Exception as exc:  # withdrawing is a courtesy: the service drops a closed task's answer
            log.debug("queue: could not withdraw the commands of a closed task: %s", exc)


def queue_name(url: str) -> str | None:
    """podium's queue name for a QueueUrl: the URL's last path segment, or the name itself."""
    name = url.split("?", 1)[0].rsplit("/", 1)[-1] if "://" in url else url
    return name if QUEUE_NAME.match(name) else None


def message_id(token: str) -> str:
    """SendMessage's MessageId for a task: the same each time its command is sent."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, token))


def send_message_response(message_id: str, body_text: str) -> dict[str, Any]:
    """SendMessage's response as Step Functions' SQS integration records it (AWS SDK for Java)."""
    md5 = hashlib.md5(body_text.encode()).hexdigest()
    request_id = ENTROPY.uuid4()
    date = formatdate(usegmt=True)
    # The length of SQS's JSON answer, {"MD5OfMessageBody":"...","MessageId":"..."}: 106 bytes.
    length = str(len(json.dumps({"MD5OfMessageBody": md5, "MessageId": message_id}, separators=(",", ":"))))
    return {
        "MD5OfMessageBody": md5,
        "MessageId": message_id,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [length],
                "Date": [date],
                "Content-Type": ["application/x-amz-json-1.0"],
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/x-amz-json-1.0",
                "Date": date,
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


_MISSING = "The request must contain the parameter %s."
_NO_QUEUE = "The specified queue does not exist for this wsdl version."
_TOO_LONG = (
    f"One or more parameters are invalid. Reason: Message must be shorter than {SQS_MESSAGE_LIMIT} bytes."
)


def _sqs_error(code: str, message: str) -> QueueRequestError:
    """An SQS error as the AWS SDK for Java words it, which is what Step Functions records."""
    cause = (
        f"{message} (Service: AmazonSQS; Status Code: 400; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )
    return QueueRequestError("SQS.AmazonSQSException", cause)


def _delay_seconds(payload: Any) -> float:
    delay = payload.get("DelaySeconds") if isinstance(payload, dict) else None
    if isinstance(delay, int) and not isinstance(delay, bool) and 0 < delay <= 900:
        return float(delay)
    return 0.0
