"""Errors of the Step Functions API, in AWS's shape.

Every error the API returns is an `ApiError`: its `type` is AWS's `__type` (what boto3 shows
as `error.response["Error"]["Code"]`), its message names the parameter at fault. The HTTP
layer turns it into `{"__type": ..., "message": ...}` with the status AWS uses (400 unless
said otherwise). Anything else that escapes a handler is a bug and becomes a 500 with no
internals in the body.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error the API returns; each subclass is one of AWS's, named exactly as AWS names it."""

    type: str = "ValidationException"
    status: int = 400

    def __init_subclass__(cls, *, status: int = 400, **kwargs: object) -> None:
        # The class name is the wire name, so that the two cannot drift apart.
        super().__init_subclass__(**kwargs)
        cls.type = cls.__name__
        cls.status = status

    def __init__(self, message: str, *, type: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if type is not None:
            self.type = type
        if status is not None:
            self.status = status

    def body(self) -> dict[str, str]:
        return {"__type": self.type, "message": self.message}


# AWS's names, which do not end in "Error" (N818 is off for this file in pyproject.toml).
class ValidationException(ApiError):
    """AWS's ValidationException."""


class InvalidArn(ApiError):
    """AWS's InvalidArn."""


class InvalidName(ApiError):
    """AWS's InvalidName."""


class InvalidDefinition(ApiError):
    """AWS's InvalidDefinition."""


class InvalidExecutionInput(ApiError):
    """AWS's InvalidExecutionInput."""


class InvalidOutput(ApiError):
    """AWS's InvalidOutput."""


class InvalidToken(ApiError):
    """AWS's InvalidToken."""


class InvalidLoggingConfiguration(ApiError):
    """AWS's InvalidLoggingConfiguration."""


class InvalidTracingConfiguration(ApiError):
    """AWS's InvalidTracingConfiguration."""


class StateMachineDoesNotExist(ApiError):
    """AWS's StateMachineDoesNotExist."""


class StateMachineAlreadyExists(ApiError):
    """AWS's StateMachineAlreadyExists."""


class StateMachineDeleting(ApiError):
    """AWS's StateMachineDeleting."""


class StateMachineTypeNotSupported(ApiError):
    """AWS's StateMachineTypeNotSupported."""


class StateMachineLimitExceeded(ApiError):
    """AWS's StateMachineLimitExceeded."""


class ExecutionDoesNotExist(ApiError):
    """AWS's ExecutionDoesNotExist."""


class ExecutionAlreadyExists(ApiError):
    """AWS's ExecutionAlreadyExists."""


class ExecutionLimitExceeded(ApiError):
    """AWS's ExecutionLimitExceeded."""


class ExecutionNotRedrivable(ApiError):
    """AWS's ExecutionNotRedrivable."""


class ActivityDoesNotExist(ApiError):
    """AWS's ActivityDoesNotExist."""


class ActivityAlreadyExists(ApiError):
    """AWS's ActivityAlreadyExists."""


class ActivityWorkerLimitExceeded(ApiError):
    """AWS's ActivityWorkerLimitExceeded."""


class ActivityLimitExceeded(ApiError):
    """AWS's ActivityLimitExceeded."""


class TaskDoesNotExist(ApiError):
    """AWS's TaskDoesNotExist."""


class TaskTimedOut(ApiError):
    """AWS's TaskTimedOut."""


class ResourceNotFound(ApiError):
    """AWS's ResourceNotFound."""


class ConflictException(ApiError):
    """AWS's ConflictException."""


class ServiceQuotaExceededException(ApiError):
    """AWS's ServiceQuotaExceededException."""


class TooManyTags(ApiError):
    """AWS's TooManyTags."""


class MissingRequiredParameter(ApiError):
    """AWS's MissingRequiredParameter."""


class UnknownOperationException(ApiError):
    """AWS's UnknownOperationException."""


class SerializationException(ApiError):
    """AWS's SerializationException."""


class AccessDeniedException(ApiError, status=403):
    """AWS's AccessDeniedException."""


class UnrecognizedClientException(ApiError, status=403):
    """AWS's UnrecognizedClientException."""


class InvalidSignatureException(ApiError, status=403):
    """AWS's InvalidSignatureException."""


class IncompleteSignatureException(ApiError, status=403):
    """AWS's IncompleteSignatureException."""


class RequestEntityTooLarge(ApiError, status=413):
    """AWS's RequestEntityTooLarge."""


class InternalFailure(ApiError, status=500):
    """AWS's InternalFailure."""
