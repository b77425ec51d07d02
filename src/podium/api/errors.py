"""Errors of the Step Functions API, in AWS's shape.

Every error the API returns is an `ApiError`: its `type` is AWS's `__type` (what boto3 shows
as `error.response["Error"]["Code"]`), its message names the parameter at fault. The HTTP
layer turns it into `{"__type": ..., "message": ...}` with the status AWS uses (400 unless
said otherwise). Anything else that escapes a handler is a bug and becomes a 500 with no
internals in the body.
"""

from __future__ import annotations


class ApiError(Exception):
    type: str = "ValidationException"
    status: int = 400

    def __init__(self, message: str, *, type: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if type is not None:
            self.type = type
        if status is not None:
            self.status = status

    def body(self) -> dict[str, str]:
        return {"__type": self.type, "message": self.message}


def _error(name: str, status: int = 400) -> type[ApiError]:
    return type(name, (ApiError,), {"type": name, "status": status, "__doc__": f"AWS's {name}."})


ValidationException = _error("ValidationException")
InvalidArn = _error("InvalidArn")
InvalidName = _error("InvalidName")
InvalidDefinition = _error("InvalidDefinition")
InvalidExecutionInput = _error("InvalidExecutionInput")
InvalidOutput = _error("InvalidOutput")
InvalidToken = _error("InvalidToken")
InvalidLoggingConfiguration = _error("InvalidLoggingConfiguration")
InvalidTracingConfiguration = _error("InvalidTracingConfiguration")
StateMachineDoesNotExist = _error("StateMachineDoesNotExist")
StateMachineAlreadyExists = _error("StateMachineAlreadyExists")
StateMachineDeleting = _error("StateMachineDeleting")
StateMachineTypeNotSupported = _error("StateMachineTypeNotSupported")
StateMachineLimitExceeded = _error("StateMachineLimitExceeded")
ExecutionDoesNotExist = _error("ExecutionDoesNotExist")
ExecutionAlreadyExists = _error("ExecutionAlreadyExists")
ExecutionLimitExceeded = _error("ExecutionLimitExceeded")
ExecutionNotRedrivable = _error("ExecutionNotRedrivable")
ActivityDoesNotExist = _error("ActivityDoesNotExist")
ActivityAlreadyExists = _error("ActivityAlreadyExists")
ActivityWorkerLimitExceeded = _error("ActivityWorkerLimitExceeded")
ActivityLimitExceeded = _error("ActivityLimitExceeded")
TaskDoesNotExist = _error("TaskDoesNotExist")
TaskTimedOut = _error("TaskTimedOut")
ResourceNotFound = _error("ResourceNotFound")
ConflictException = _error("ConflictException")
ServiceQuotaExceededException = _error("ServiceQuotaExceededException")
TooManyTags = _error("TooManyTags")
MissingRequiredParameter = _error("MissingRequiredParameter")
UnknownOperationException = _error("UnknownOperationException")
SerializationException = _error("SerializationException")
AccessDeniedException = _error("AccessDeniedException", 403)
UnrecognizedClientException = _error("UnrecognizedClientException", 403)
InvalidSignatureException = _error("InvalidSignatureException", 403)
RequestEntityTooLarge = _error("RequestEntityTooLarge", 413)
InternalFailure = _error("InternalFailure", 500)
