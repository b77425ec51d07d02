"""The store's errors, in one place.

PodiumError
└── StoreError                      anything the store refuses on purpose
    ├── StoreClosedError            the store was used after close()
    ├── ExecutionDoesNotExistError  no execution has that ARN (AWS's ExecutionDoesNotExist)
    ├── ConflictError               the execution's version moved since the caller read
    │                               it: another step was committed first; reload, decide again
    ├── ExecutionClosedError        the execution has ended; nothing more can be committed
    ├── ExecutionNotRedrivableError reopen_execution: the execution is running, or ended in a
    │                               status that cannot be redriven (SUCCEEDED)
    └── DuplicateIdError            a step carried an event id or command id the execution
                                    already has: the whole step is refused, never half-written
"""

from __future__ import annotations

from podium.asl.errors import PodiumError


class StoreError(PodiumError):
    """Base of the store's errors."""


class StoreClosedError(StoreError):
    def __init__(self) -> None:
        super().__init__("the store is closed")


class ExecutionDoesNotExistError(StoreError):
    def __init__(self, arn: str) -> None:
        super().__init__(f"Execution Does Not Exist: '{arn}'")
        self.arn = arn


class ConflictError(StoreError):
    def __init__(self, arn: str, expected: int, actual: int) -> None:
        super().__init__(f"execution {arn} is at version {actual}, not {expected}")
        self.arn = arn
        self.expected = expected
        self.actual = actual


class ExecutionClosedError(StoreError):
    def __init__(self, arn: str, status: str) -> None:
        super().__init__(f"execution {arn} has ended ({status})")
        self.arn = arn
        self.status = status


class ExecutionNotRedrivableError(StoreError):
    def __init__(self, arn: str, status: str) -> None:
        super().__init__(f"execution {arn} cannot be reopened: its status is {status}")
        self.arn = arn
        self.status = status


class DuplicateIdError(StoreError):
    def __init__(self, arn: str, what: str) -> None:
        super().__init__(f"execution {arn} already has {what}")
        self.arn = arn
