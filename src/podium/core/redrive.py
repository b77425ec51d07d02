"""What an unsuccessful run leaves behind for RedriveExecution: where each branch stopped.

AWS's redrive "continues the failed execution from the unsuccessful step and uses the same
input", keeps the results of the steps that succeeded, and inside an Inline Map or a Parallel
state reschedules only the iterations and branches that failed or were aborted. A state that
failed (or was abandoned when the execution was stopped or timed out) has a StateEntered event
and no StateExited one: it is still open, so the redrive goes on inside it without entering it
again.

So each branch of the run (the main program, a Parallel branch, a Map iteration) remembers on
its Frame the state it was in when it stopped unsuccessfully, with that state's input; the
branch's variables are the Frame's own. A Parallel or Map state also remembers the progress of
its branches or iterations (their frames and the results of those that succeeded), so that a
redrive re-runs only the others, each from its own resume point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.asl.model import JSON
from podium.core.context import Frame


@dataclass
class ResumePoint:
    state_name: str
    raw_input: JSON
    entered_event_id: int
    entered_ms: int
    progress: Any = None  # ParallelProgress | MapProgress of the state, if it is one of those


@dataclass
class BranchProgress:
    """The branches (Parallel) or iterations (Map) of one visit of a state, by index."""

    inputs: list[JSON]
    frames: list[Frame | None]
    results: list[JSON]
    done: list[bool]
    extra: dict[str, Any] = field(default_factory=dict)  # what a Map keeps: its map run ARN

    @classmethod
    def of(cls, inputs: list[JSON]) -> BranchProgress:
        n = len(inputs)
        return cls(list(inputs), [None] * n, [None] * n, [False] * n)

    def pending(self) -> list[int]:
        return [i for i, finished in enumerate(self.done) if not finished]
