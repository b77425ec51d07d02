"""TestState: run one state on its own and answer what it did (AWS's TestState action).

The request names the state: `definition` is the state itself, or (with `stateName`) a whole
state machine holding it. The state runs once, with the interpreter's semantics
(podium.core.isolation): `input` (default `{}`), `variables`, and optionally a `mock` standing in
for what it calls (a Task's service; a Map's iterations; a Parallel's branches), a `context`
object, and `stateConfiguration` (the retries already made, the failed Map iterations, what an
ItemReader reads, which inner state a mocked error of a Map or Parallel comes from).

The answer: `status` SUCCEEDED, FAILED, RETRIABLE or CAUGHT_ERROR, with `output`, `error` and
`cause`, `nextState`, and with inspectionLevel DEBUG or TRACE, `inspectionData`: the data flow
of the state (afterInputPath, afterParameters, result, ...), its variables and, when it failed,
which Retry or Catch handled it (`errorDetails`).

What it refuses, as AWS does (ValidationException unless said otherwise):

- a definition that is not a valid state, or state machine with `stateName` (InvalidDefinition);
  a `stateName` it does not hold ("State not found in definition");
- a Map or Parallel without a mock (InvalidDefinition, AWS's text), and a mock for any state but
  a Task, Map or Parallel ("State type 'Pass' is not supported when a mock is specified");
- a mock with both or neither of `result` and `errorOutput`, an `errorOutput` without `error`,
  `revealSecrets` with a mock, a mocked result that is not JSON, a Map's that is not an array
  (an object with a ResultWriter), a Parallel's that is not an array of one item per branch, a
  Task's that does not fit the API of its integration (podium.service.mock_shapes);
- a `context` without a mock, or one that is not a context object ("Invalid Context object
  provided: ...": unknown fields, wrong types, `Map`, `Task` where the state hands out no token);
- a Task without a mock and without `roleArn`.

Where AWS's behaviour is not documented, podium chooses and says so: an Activity, `.sync` or
`.waitForTaskToken` Task without a mock is refused like a Map (TestState supports them only with
a mock); `errorCausedByState` must name a state inside the Map or Parallel, and is for a mocked
error only; `mapIterationFailureCount` and `mapItemReaderData` are for Map states only (the latter
with an ItemReader), and `variables` must be a JSON object of valid variable names.

Without a mock a Task really runs: a registered Python function (Lambda ARN, lambda:invoke,
`podium:function:NAME`) or an HTTP task, with the server's connectors; any other integration
fails as it would in an execution here (States.Runtime: podium has no connector for it). A test
runs for at most five minutes, AWS's limit: a task still unanswered then fails with
States.Timeout.

At TRACE, an HTTP Task that really ran also shows its request and response (inspectionData's
`request` and `response`). What its connection adds (headers, query parameters, body fields,
credentials) is left out unless `revealSecrets` is true, as AWS does. The format of the headers
(`[Name: value, Name: value]`) and `protocol` as the URL's scheme are podium's choice: the API
types both as plain strings and AWS documents no example.
"""

from __future__ import annotations

import json
import queue
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from podium.api.errors import InvalidDefinition, InvalidExecutionInput, ValidationException
from podium.arns import ArnFactory
from podium.asl.errors import DefinitionError, ErrorName
from podium.asl.jsontext import to_json_text
from podium.asl.model import (
    JSON,
    AnyState,
    MapState,
    ParallelState,
    Program,
    StateType,
    TaskState,
    iter_programs,
)
from podium.asl.parser import parse_definition, parse_state
from podium.asl.schema import valid_variable_name
from podium.connectors.base import Connector
from podium.connectors.functions import FunctionConnector
from podium.connectors.http import HttpConnector, HttpTrace
from podium.core.context import iso_millis
from podium.core.interpreter import DEFAULT_PAYLOAD_LIMIT
from podium.core.isolation import (
    CONTEXT_STATE_NAME,
    Mock,
    MockError,
    MockResult,
    Trial,
    TrialRequest,
    TrialResult,
    read_items,
)
from podium.core.messages import (
    Command,
    ExecutionInfo,
    InvokeTask,
    Signal,
    StartTimer,
    TaskFailed,
    TimerFired,
)
from podium.core.resources import IntegrationPattern, ResourceFamily, classify
from podium.service.mock_shapes import STRICT, check_mock_result
from podium.service.registry import Params, Response, Service, action
from podium.service.validate import invalid_definition_message

TIME_LIMIT_SECONDS = 300.0  # "The TestState API can run for up to five minutes."
INFO, DEBUG, TRACE = "INFO", "DEBUG", "TRACE"
MAP_OR_PARALLEL_WITHOUT_MOCK = (
    "TestState API does not support Map or Parallel states. "
    "Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"
)
_MOCKABLE = (StateType.TASK, StateType.MAP, StateType.PARALLEL)
# inspectionData's members that carry JSON text, in the API's order.
_TEXT_FIELDS = (
    "input",
    "afterArguments",
    "afterInputPath",
    "afterParameters",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "variables",
    "afterItemsPath",
    "afterItemSelector",
    "afterItemBatcher",
)
_NUMBER_FIELDS = ("toleratedFailureCount", "toleratedFailurePercentage", "maxConcurrency")
# The members of a context object TestState accepts, with the JSON type of each (None: any).
_CONTEXT_FIELDS: dict[str, dict[str, type | None]] = {
    "Execution": {
        "Id": str,
        "Input": None,
        "Name": str,
        "RoleArn": str,
        "StartTime": str,
        "RedriveCount": int,
        "RedriveTime": str,
    },
    "State": {"EnteredTime": str, "Name": str, "RetryCount": int},
    "StateMachine": {"Id": str, "Name": str},
    "Task": {"Token": str},
}
_TYPE_NAMES = {str: "a string", int: "an integer"}

Clock = Callable[[], float]


@dataclass(frozen=True)
class StateTestSettings:
    """What a TestState runs with besides the request: the server's identity and connectors."""

    region: str = "us-east-1"
    account: str = "000000000000"
    payload_limit: int = DEFAULT_PAYLOAD_LIMIT
    connectors: tuple[Connector, ...] = ()
    time_limit_seconds: float = TIME_LIMIT_SECONDS
    clock: Clock = time.time


@action("TestState")
def teststate(service: Service, params: Params) -> Response:
    # The connectors that answer by themselves: Python functions and HTTP calls. Activities
    # (a worker's) and child executions are for executions; TestState mocks them.
    connectors = tuple(
        c
        for c in getattr(service.engine, "connectors", ())
        if isinstance(c, FunctionConnector | HttpConnector)
    )
    settings = StateTestSettings(
        region=service.region,
        account=service.account,
        payload_limit=service.payload_limit,
        connectors=connectors,
    )
    return run_test_state(params, settings)


def run_test_state(params: Params, settings: StateTestSettings) -> Response:
    """TestState's answer to `params` (already checked against the API's shapes)."""
    state = _state_under_test(params)
    mock = _mock(params, state)
    _check_without_mock(params, state, mock)
    input_value = _json_input(params.get("input"), settings.payload_limit)
    variables = _variables(params.get("variables"))
    context = _context(params.get("context"), state, mock)
    configuration = params.get("stateConfiguration") or {}
    request = TrialRequest(
        state=state,
        input=input_value,
        info=_execution_info(settings),
        role_arn=params.get("roleArn"),
        context=context,
        variables=variables,
        mock=mock,
        retrier_retry_count=int(configuration.get("retrierRetryCount") or 0),
        map_iteration_failure_count=_failure_count(configuration, state),
        reader_items=_reader_items(configuration, state),
        seed=secrets.randbits(32),
        token_key=secrets.token_hex(16),
    )
    _check_error_caused_by_state(configuration, state, mock)
    level = params.get("inspectionLevel") or INFO
    trace = HttpTrace(reveal_secrets=bool(params.get("revealSecrets"))) if level == TRACE else None
    result = _drive(Trial(request, payload_limit=settings.payload_limit), settings, trace)
    return _response(result, level, trace)


# --- the state ------------------------------------------------------------------------------------


def _state_under_test(params: Params) -> AnyState:
    definition = params["definition"]
    name = params.get("stateName")
    try:
        if name is None:
            return parse_state(definition, CONTEXT_STATE_NAME)
        machine = parse_definition(definition)
    except DefinitionError as exc:
        raise InvalidDefinition(invalid_definition_message(exc.diagnostics)) from None
    # The machine's own states first; then those of its branches and Map processors.
    for program in iter_programs(machine):
        if name in program.states:
            return program.states[name]
    raise ValidationException("State not found in definition")


def _check_without_mock(params: Params, state: AnyState, mock: Mock | None) -> None:
    if mock is not None:
        return
    if isinstance(state, MapState | ParallelState):
        raise InvalidDefinition(MAP_OR_PARALLEL_WITHOUT_MOCK)
    if not isinstance(state, TaskState):
        return
    kind = classify(state.resource)
    if kind.family == ResourceFamily.ACTIVITY or kind.pattern != IntegrationPattern.REQUEST_RESPONSE:
        # podium's wording: AWS documents that these need a mock, not its message.
        raise InvalidDefinition(
            "TestState API supports Activity tasks and the .sync and .waitForTaskToken service "
            "integration patterns only when a mock is specified"
        )
    if params.get("roleArn") is None:
        raise ValidationException("RoleArn must be specified when testing a Task state")


# --- the mock -------------------------------------------------------------------------------------


def _mock(params: Params, state: AnyState) -> Mock | None:
    spec = params.get("mock")
    if spec is None:
        return None
    if state.type not in _MOCKABLE:
        raise ValidationException(
            f"State type '{state.type.value}' is not supported when a mock is specified"
        )
    if params.get("revealSecrets"):
        raise ValidationException("TestState does not support RevealSecrets when a mock is specified.")
    has_result, has_error = "result" in spec, "errorOutput" in spec
    if has_result == has_error:
        few = "only one" if has_result else "one"
        raise ValidationException(
            f"A test mock should have {few} of the following fields: [result, errorOutput]."
        )
    if has_error:
        error_output = spec["errorOutput"]
        if error_output.get("error") is None:
            raise ValidationException("A mocked errorOutput must have an error (mock.errorOutput.error)")
        return MockError(error_output["error"], error_output.get("cause"))
    try:
        value = json.loads(spec["result"])
    except ValueError:
        raise ValidationException("Mocked result must be valid JSON") from None
    if isinstance(state, MapState):
        if state.result_writer is not None and not isinstance(value, dict):
            raise ValidationException("Mocked result must be a JSON object.")
        if state.result_writer is None and not isinstance(value, list):
            raise ValidationException("Mocked result must be an array.")
    elif isinstance(state, ParallelState):
        if not isinstance(value, list):
            raise ValidationException("Mocked result must be an array.")
        if len(value) != len(state.branches):
            raise ValidationException(
                "Mocked result must contain the same number of items as number of Parallel branches."
            )
    elif isinstance(state, TaskState):
        check_mock_result(state.resource, value, spec.get("fieldValidationMode") or STRICT)
    return MockResult(value)


# --- input, variables, context, configuration -----------------------------------------------------


def _json_input(text: str | None, payload_limit: int) -> JSON:
    if text is None:
        return {}
    if len(text.encode()) > payload_limit:
        raise InvalidExecutionInput(
            "Invalid State Machine Execution Input: "
            f"'Input size exceeds the maximum of {payload_limit} bytes'"
        )
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None


def _variables(text: str | None) -> dict[str, JSON]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationException(f"Invalid variables: the value is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValidationException("Invalid variables: the value must be a JSON object")
    for name in value:
        if not valid_variable_name(name):
            raise ValidationException(f"Invalid variables: '{name}' is not a valid variable name")
    return value


def _context(text: str | None, state: AnyState, mock: Mock | None) -> dict[str, Any] | None:
    if text is None:
        return None
    if mock is None:
        raise ValidationException("A context object can only be specified together with a mock")

    def invalid(problem: str) -> ValidationException:
        return ValidationException(f"Invalid Context object provided: {problem}")

    try:
        value = json.loads(text)
    except ValueError:
        raise invalid("it is not JSON") from None
    if not isinstance(value, dict):
        raise invalid("it must be a JSON object")
    for section, fields in value.items():
        if section == "Map":
            raise invalid("'Map' field is not supported when mocking a Context object")
        allowed = _CONTEXT_FIELDS.get(section)
        if allowed is None:
            raise invalid(f"Field '{section}' is not allowed")
        if not isinstance(fields, dict):
            raise invalid(f"{section} must be an object")
        for key, item in fields.items():
            if key not in allowed:
                raise invalid(f"Field '{key}' is not allowed")
            wanted = allowed[key]
            if wanted is not None and (not isinstance(item, wanted) or isinstance(item, bool)):
                raise invalid(f"{section}.{key} must be {_TYPE_NAMES.get(wanted, 'valid')}")
    if "Task" in value and not _hands_out_token(state):
        raise invalid(
            "Context object contains 'Task' when state is not a Task state with a '.sync' or "
            "'.waitForTaskToken' service integration pattern"
        )
    return value


def _hands_out_token(state: AnyState) -> bool:
    if not isinstance(state, TaskState):
        return False
    kind = classify(state.resource)
    return kind.pattern != IntegrationPattern.REQUEST_RESPONSE or kind.family == ResourceFamily.ACTIVITY


def _failure_count(configuration: Mapping[str, Any], state: AnyState) -> int:
    count = configuration.get("mapIterationFailureCount")
    if count is None:
        return 0
    if not isinstance(state, MapState):
        raise ValidationException("mapIterationFailureCount can only be specified for a Map state")
    return int(count)


def _reader_items(configuration: Mapping[str, Any], state: AnyState) -> list[JSON] | None:
    data = configuration.get("mapItemReaderData")
    if data is None:
        return None
    if not isinstance(state, MapState) or state.item_reader is None:
        raise ValidationException(
            "mapItemReaderData can only be specified for a Map state with an ItemReader"
        )
    try:
        return read_items(state.item_reader, data)
    except ValueError as exc:
        raise ValidationException(f"Invalid mapItemReaderData: {exc}") from None


def _check_error_caused_by_state(
    configuration: Mapping[str, Any], state: AnyState, mock: Mock | None
) -> None:
    name = configuration.get("errorCausedByState")
    if name is None:
        return
    if not isinstance(state, MapState | ParallelState) or not isinstance(mock, MockError):
        raise ValidationException(
            "errorCausedByState can only be specified when an error is mocked for a Map or Parallel state"
        )
    programs: Iterable[Program]
    if isinstance(state, MapState):
        programs = iter_programs(state.item_processor) if state.item_processor is not None else ()
    else:
        programs = [p for branch in state.branches for p in iter_programs(branch)]
    if not any(name in program.states for program in programs):
        raise ValidationException(
            f"errorCausedByState '{name}' is not a state of the {state.type.value} state"
        )


def _execution_info(settings: StateTestSettings) -> ExecutionInfo:
    """A test runs as an EXPRESS execution of a state machine of its own (AWS's $$ shows so)."""
    arns = ArnFactory(settings.region, settings.account)
    machine = f"TestState-{uuid.uuid4().hex[:12]}"
    name = str(uuid.uuid4())
    return ExecutionInfo(
        execution_arn=arns.express_execution(machine, name),
        name=name,
        state_machine_arn=arns.state_machine(machine),
        state_machine_name=machine,
        start_time=iso_millis(int(settings.clock() * 1000)),
        redrive_count=None,
        region=settings.region,
        account=settings.account,
    )


# --- running it -----------------------------------------------------------------------------------


def _drive(trial: Trial, settings: StateTestSettings, trace: HttpTrace | None = None) -> TrialResult:
    """Carry out what the trial asks of the world until it ends: tasks through the connectors,
    timers (a task's TimeoutSeconds, HeartbeatSeconds) at their time, all within the limit.
    An HTTP task records its exchange in `trace`."""
    replies: queue.Queue[Signal] = queue.Queue()

    def now_ms() -> int:
        return int(settings.clock() * 1000)

    deadline = now_ms() + int(settings.time_limit_seconds * 1000)
    timers: dict[str, int] = {}
    sent: dict[str, InvokeTask] = {}
    owed: list[Command] = trial.start(now_ms())
    while trial.result is None:
        for command in owed:
            if isinstance(command, StartTimer):
                timers[command.command_id] = command.fire_at_ms
            elif isinstance(command, InvokeTask):
                sent[command.command_id] = command
                _invoke(command, settings.connectors, replies.put, trace)
        live = {k: v for k, v in timers.items() if k in trial.outstanding}
        timer = min(live, key=live.__getitem__) if live else None
        wake = min(live[timer], deadline) if timer is not None else deadline
        try:
            signal = replies.get(timeout=max(0, wake - now_ms()) / 1000)
        except queue.Empty:
            at = now_ms()
            if timer is not None and at >= live[timer]:
                owed = trial.apply(TimerFired(at, timer))
            elif at >= deadline:
                owed = _time_out(trial, sent, settings, at)
            else:
                owed = []
            continue
        owed = trial.apply(_stamped(signal, now_ms()))
    return trial.result


def _invoke(
    command: InvokeTask,
    connectors: Iterable[Connector],
    reply: Callable[[Signal], None],
    trace: HttpTrace | None,
) -> None:
    for connector in connectors:
        if connector.accepts(command.resource):
            if trace is not None and isinstance(connector, HttpConnector):
                connector.invoke(command, reply, trace)
            else:
                connector.invoke(command, reply)
            return
    cause = f"podium has no connector for the resource '{command.resource}'"
    reply(TaskFailed(0, command.command_id, ErrorName.RUNTIME.value, cause))


def _time_out(
    trial: Trial, sent: Mapping[str, InvokeTask], settings: StateTestSettings, at: int
) -> list[Command]:
    """The five minutes are up: the tasks still owed fail with States.Timeout."""
    owed: list[Command] = []
    limit = f"{settings.time_limit_seconds:g}"
    for task_id in sorted(trial.outstanding):
        command = sent.get(task_id)
        if command is None:
            continue
        for connector in settings.connectors:
            cancel = getattr(connector, "cancel", None)
            if connector.accepts(command.resource) and callable(cancel):
                cancel(command)
        cause = f"The test did not finish within the TestState limit of {limit} seconds."
        owed += trial.apply(TaskFailed(at, task_id, ErrorName.TIMEOUT.value, cause))
    return owed


def _stamped(signal: Signal, now: int) -> Signal:
    import dataclasses

    return dataclasses.replace(signal, now_ms=now)


# --- the answer -----------------------------------------------------------------------------------


def _response(result: TrialResult, level: str, trace: HttpTrace | None) -> Response:
    out: dict[str, Any] = {"status": result.status}
    if result.has_output:
        out["output"] = to_json_text(result.output)
    if result.error is not None:
        out["error"] = result.error
    if result.cause is not None:
        out["cause"] = result.cause
    if result.next_state is not None:
        out["nextState"] = result.next_state
    if level in (DEBUG, TRACE):
        out["inspectionData"] = _inspection_data(result)
        if trace is not None and trace.request is not None:
            out["inspectionData"]["request"] = dict(trace.request)
        if trace is not None and trace.response is not None:
            out["inspectionData"]["response"] = dict(trace.response)
    return out


def _inspection_data(result: TrialResult) -> dict[str, Any]:
    data: dict[str, Any] = {}
    seen = result.inspection
    for name in _TEXT_FIELDS:
        if name in seen:
            data[name] = to_json_text(seen[name])
    for name in _NUMBER_FIELDS:
        if name in seen:
            data[name] = seen[name]
    if result.error_details:
        data["errorDetails"] = dict(result.error_details)
    return data
