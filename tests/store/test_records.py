from __future__ import annotations

import pytest

from podium.store.records import ExecutionOutcome


def test_an_outcome_ends_the_execution() -> None:
    with pytest.raises(ValueError):
        ExecutionOutcome("RUNNING", None, None, None, stop_ms=1)
    assert ExecutionOutcome("ABORTED", None, "Stopped", None, 5).status == "ABORTED"
