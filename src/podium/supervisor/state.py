"""The state `podium up` publishes for `podium ps`: a JSON file beside the database.

A file rather than an HTTP route: `ps` works while the server is starting or stopping, needs
no credentials when the API requires signatures, and reads what the supervisor last saw even
if it was killed (the recorded pid then says it is gone). The file is replaced atomically
(written aside, then renamed), so a reader never sees half of it.

One `up` per database: `StateLock` holds an exclusive lock for as long as `up` runs, so a
second `up` on the same database is refused with the first one's pid.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

FORMAT = 1


@dataclass(frozen=True)
class ReplicaStatus:
    service: str
    replica: int
    name: str  # service-N: its log prefix and its activity workerName
    state: str  # starting | running | unhealthy | stopping | backoff | stopped
    pid: int | None = None
    restarts: int = 0
    last_exit: int | None = None  # negative: killed by that signal
    started_at: float | None = None  # wall clock (time.time()) of the current run
    restart_at: float | None = None  # wall clock of the next start, while in backoff
    health: str = "-"
    in_flight: int | None = None  # activity tasks it took and has not answered; None: unknown


@dataclass(frozen=True)
class Snapshot:
    pid: int
    config: str
    started_at: float
    updated_at: float
    endpoint: str | None = None
    database: str | None = None
    replicas: list[ReplicaStatus] = field(default_factory=list)
    stopping: bool = False
    format: int = FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        replicas = [ReplicaStatus(**r) for r in data.get("replicas", [])]
        return cls(**{**data, "replicas": replicas})


def write(path: Path, snapshot: Snapshot) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(snapshot.to_json(), out, indent=1)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class StateError(Exception):
    """The state file exists but cannot be read as one."""


def read(path: Path) -> Snapshot | None:
    """The last snapshot, or None when there is none (no `up` has run, or it stopped cleanly)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateError(f"cannot read {path}: {exc}") from None
    try:
        return Snapshot.from_json(data)
    except (TypeError, ValueError, AttributeError) as exc:
        raise StateError(f"{path} is not a podium up state file: {exc}") from None


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    # A killed process whose parent has not reaped it yet (a zombie) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS): trust kill(0)
        return True


class AlreadyRunningError(Exception):
    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"podium up is already running for this database ({who}; state in {path})")
        self.pid = pid


class StateLock:
    """An exclusive lock beside the state file, held while `up` runs; released by the kernel
    even when `up` is killed, so a stale lock can never block the next start."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.path = state_path.with_name(state_path.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held open: it is the lock)
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            previous = None
            with contextlib.suppress(StateError):
                previous = read(self.state_path)
            raise AlreadyRunningError(self.state_path, previous.pid if previous else None) from None
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock; the file stays, empty and harmless
            self._file = None
