"""What crosses the boundary of the core: signals in, commands out.

The core is a pure function of its signals. Every signal carries the time it arrived
(`now_ms`); the first one also carries the execution's random seed. Replaying the journal of
signals through a fresh interpreter rebuilds the execution exactly, events included.

Commands are what the core asks the world to do: run a task, arm a timer. Each has an id;
a Decision lists the ids of commands it no longer wants (`retired`), so that the outbox
holds exactly the commands still owed after any crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from podium.asl.model import JSON


@dataclass(frozen=True)
class ExecutionInfo:
    """The execution's identity, as the context object `$$.Execution` / `$$.StateMachine` shows it."""

    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    start_time: str  # ISO-8601 with milliseconds, as AWS writes it in $$.Execution.StartTime
    role_arn: str = "arn:aws:iam::000000000000:role/podium"
    redrive_count: int | None = 0  # None for EXPRESS executions, which cannot be redriven
    region: str = "us-east-1"
    account: str = "000000000000"


# --- signals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    now_ms: int


@dataclass(frozen=True)
class StartExecution(Signal):
    """`token_key`: the execution's secret for minting task tokens (podium.core.tokens)."""

    input: JSON
    info: ExecutionInfo
    seed: int
    token_key: str = ""


@dataclass(frozen=True)
class TaskStarted(Signal):
    """A worker picked the task up (activities, callbacks); optional for immediate connectors."""

    task_id: str
    worker_name: str | None = None


@dataclass(frozen=True)
class TaskSubmitted(Signal):
    """The service accepted the task, which goes on outside: an activity queued (recorded as
    ActivityScheduled), a `.waitForTaskToken` request delivered or a `.sync` job started
    (recorded as TaskSubmitted with the service's response as `output`)."""

    task_id: str
    output: JSON = None


@dataclass(frozen=True)
class TaskSucceeded(Signal):
    task_id: str
    output: JSON


@dataclass(frozen=True)
class TaskFailed(Signal):
    task_id: str
    error: str | None
    cause: str | None


@dataclass(frozen=True)
class TaskHeartbeat(Signal):
    task_id: str


@dataclass(frozen=True)
class TimerFired(Signal):
    timer_id: str


@dataclass(frozen=True)
class StopExecution(Signal):
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class RedriveExecution(Signal):
    """Run an execution that ended FAILED, TIMED_OUT or ABORTED again from where it stopped."""

    redrive_count: int


SIGNAL_TYPES: dict[str, type[Signal]] = {
    cls.__name__: cls
    for cls in (
        StartExecution,
        TaskStarted,
        TaskSubmitted,
        TaskSucceeded,
        TaskFailed,
        TaskHeartbeat,
        TimerFired,
        StopExecution,
        RedriveExecution,
    )
}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _fields_of(message: object) -> dict[str, Any]:
    """A message's fields by name, values shared, not copied (dataclasses.asdict deep-copies
    every payload, which costs more than encoding it): for encoding only."""
    cls = type(message)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    return {name: getattr(message, name) for name in names}


def signal_to_json(signal: Signal) -> dict[str, Any]:
    """The signal as a JSON object (for encoding: payloads are shared with the signal)."""
    out = _fields_of(signal)
    if isinstance(signal, StartExecution):
        out["info"] = _fields_of(signal.info)
    out["kind"] = type(signal).__name__
    return out


def signal_from_json(data: dict[str, Any]) -> Signal:
    data = dict(data)
    cls = SIGNAL_TYPES[data.pop("kind")]
    if cls is StartExecution:
        data["info"] = ExecutionInfo(**data["info"])
    return cls(**data)


# --- commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    command_id: str


@dataclass(frozen=True)
class InvokeTask(Command):
    """Run a Task's resource with `payload`; answer with TaskSucceeded/TaskFailed(task_id=command_id).

    `task_token` identifies the task to outside workers (callbacks, activities) and is the
    idempotency key a service may deduplicate on.
    """

    resource: str
    payload: JSON
    task_token: str
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    state_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StartTimer(Command):
    """Deliver TimerFired(timer_id=command_id) at `fire_at_ms` (or at once if that has passed)."""

    fire_at_ms: int


COMMAND_TYPES: dict[str, type[Command]] = {cls.__name__: cls for cls in (InvokeTask, StartTimer)}


def command_to_json(command: Command) -> dict[str, Any]:
    """The command as a JSON object (for encoding: payloads are shared with the command)."""
    out = _fields_of(command)
    out["kind"] = type(command).__name__
    return out


def command_from_json(data: dict[str, Any]) -> Command:
    data = dict(data)
    cls = COMMAND_TYPES[data.pop("kind")]
    return cls(**data)
