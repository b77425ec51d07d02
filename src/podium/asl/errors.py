"""The errors of the language, in one place.

PodiumError
├── DefinitionError      a state machine that AWS would refuse (SCHEMA_VALIDATION_FAILED, ...);
│                        carries every Diagnostic found, each naming its place by JSON pointer
└── StatesError          a runtime failure of a state, named as Step Functions names it
    │                    (States.Runtime, States.QueryEvaluationError, ...). Catchable by
    │                    Retry/Catch unless the name is terminal (see TERMINAL_ERRORS).
    └── EvaluationError  raised while evaluating a field of the current state: the
                         interpreter prefixes the cause with "An error occurred while
                         executing the state 'X' (entered at the event id #N). ", as AWS does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorName(StrEnum):
    """The predefined error names of the States language (the `States.*` namespace)."""

    ALL = "States.ALL"
    HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
    TIMEOUT = "States.Timeout"
    TASK_FAILED = "States.TaskFailed"
    PERMISSIONS = "States.Permissions"
    RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
    PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
    BRANCH_FAILED = "States.BranchFailed"
    NO_CHOICE_MATCHED = "States.NoChoiceMatched"
    INTRINSIC_FAILURE = "States.IntrinsicFailure"
    EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
    ITEM_READER_FAILED = "States.ItemReaderFailed"
    RESULT_WRITER_FAILED = "States.ResultWriterFailed"
    RUNTIME = "States.Runtime"
    DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
    QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"


# States.ALL does not match these, and no Retry/Catch handles them: States.Runtime always fails
# the execution. (AWS's guide calls States.DataLimitExceeded terminal too, but its recorded
# histories show a States.ALL catcher catching a task result over the limit, so it is not here.)
TERMINAL_ERRORS = frozenset({ErrorName.RUNTIME.value})


class PodiumError(Exception):
    """Base of every error podium raises on purpose."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a definition. `location` is a JSON pointer (`/States/Foo/Next`)."""

    code: str
    message: str
    location: str = ""

    def __str__(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"{self.code}: {self.message}{where}"


class DefinitionError(PodiumError):
    """The definition is invalid; `diagnostics` lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        n = len(self.diagnostics)
        head = f"Invalid State Machine Definition: '{n} error{'s' if n != 1 else ''} detected"
        return head + "'\n" + "\n".join(str(d) for d in self.diagnostics)


class StatesError(PodiumError):
    """A state failed with a named error; `cause` is the text AWS would show."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause is not None else error)


class EvaluationError(StatesError):
    """A field of the current state could not be evaluated; the interpreter adds the state prefix.

    `location` names the field for the EvaluationFailed event (`Output/FunctionResult`, `Items`).
    """

    def __init__(self, error: str, cause: str | None = None, *, location: str | None = None) -> None:
        super().__init__(error, cause)
        self.location = location
