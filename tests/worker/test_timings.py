"""$PODIUM_WORKER_TIMINGS: one `token handler_ms` line per task, only when asked for."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from podium.task_error import TaskError
from podium.worker import Worker, timings
from tests.worker.conftest import Start
from tests.worker.fakes import MemoryTransport, command


def slow(body: Any) -> Any:
    time.sleep(0.05)
    if body == "fail":
        raise TaskError("Business.Error", "as asked")
    return body


def test_each_task_appends_its_token_and_handler_time(
    transport: MemoryTransport, start: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "timings.log"
    path.write_text("other 1.000\n")  # appended to, not truncated: replicas share the file
    monkeypatch.setenv(timings.ENV, str(path))
    worker = Worker("timed", concurrency=2)
    worker.handle("work", slow)
    start(worker)
    tasks = [command("ok"), command("fail"), command("ok")]
    for task in tasks:
        transport.send_command(task)
    for task in tasks:
        transport.answer_of(task.task_token)
    # A task's line is written right after its answer went out (not in its way).
    deadline = time.monotonic() + 5
    while len(path.read_text().splitlines()) < 1 + len(tasks) and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = [line.split() for line in path.read_text().splitlines()]
    assert lines[0] == ["other", "1.000"]
    recorded = {token: float(ms) for token, ms in lines[1:]}
    assert set(recorded) == {task.task_token for task in tasks}  # failures are timed too
    assert all(50 <= ms < 1000 for ms in recorded.values())


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(timings.ENV, raising=False)
    assert timings.from_environment() is None


def test_a_closed_file_takes_no_more_lines(tmp_path: Path) -> None:
    recorder = timings.TimingsFile(str(tmp_path / "t.log"))
    recorder.record("a", 0.001)
    recorder.close()
    recorder.record("b", 0.002)  # a handler that outlived its worker: dropped, no error
    assert (tmp_path / "t.log").read_text() == "a 1.000\n"
