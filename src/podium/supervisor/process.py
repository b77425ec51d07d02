"""One run of one replica: a child process in its own session and process group.

Its own session, so that Ctrl-C in the terminal (sent to the foreground process group)
reaches only `podium up`, which then stops the services in order, the server last. Its own
process group, so that a signal reaches whatever the service started too (a shell's
children, a pool of workers), and so that nothing of it outlives it: once the leader has
exited, the rest of its group is killed before the leader is reaped (while the group id
still cannot have been reused by an unrelated process).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from podium.supervisor.output import Console

# The exit codes a shell reports for a program it cannot find or cannot run.
NOT_FOUND = 127
NOT_EXECUTABLE = 126


class SpawnError(Exception):
    """The program could not be started at all; `code` is what a shell would report."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class ChildProcess:
    def __init__(self, popen: subprocess.Popen[bytes], output: threading.Thread | None) -> None:
        self._popen = popen
        self._output = output
        self.pid = popen.pid
        self.started_at = time.monotonic()
        self.returncode: int | None = None

    @classmethod
    def spawn(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None,
        console: Console,
        source: str,
    ) -> ChildProcess:
        try:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            missing = exc.filename if exc.filename is not None else argv[0]
            raise SpawnError(f"no such program or directory: {missing}", NOT_FOUND) from None
        except PermissionError as exc:
            raise SpawnError(f"cannot run {argv[0]}: {exc.strerror}", NOT_EXECUTABLE) from None
        except OSError as exc:
            raise SpawnError(f"cannot run {argv[0]}: {exc.strerror or exc}", NOT_EXECUTABLE) from None
        assert popen.stdout is not None
        return cls(popen, console.pump(source, popen.stdout))

    def poll(self) -> int | None:
        """The exit status once the process has exited (negative: killed by that signal)."""
        if self.returncode is not None:
            return self.returncode
        try:
            # WNOWAIT: look without reaping, so that the process group id stays ours until the
            # leftovers of the group are killed.
            exited = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            # Reaped already, by someone else: its pid, and so its group id, may belong to
            # another process by now. Signal nothing; Popen.wait reports what it knows.
            self.returncode = self._popen.wait()
            return self.returncode
        if not exited:
            return None
        self._signal_group(signal.SIGKILL)
        self.returncode = self._popen.wait()
        return self.returncode

    def terminate(self) -> None:
        """Ask the whole group to stop (SIGTERM): the service's graceful shutdown."""
        self._signal_group(signal.SIGTERM)

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)

    def wait_output(self, timeout: float = 1.0) -> None:
        """Let the last lines of its output reach the console."""
        if self._output is not None:
            self._output.join(timeout)

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.returncode is not None:
            return  # reaped: its group id may belong to someone else by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)


def describe_exit(code: int) -> str:
    """`exited with code 1`, or `killed by SIGKILL`."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with code {code}"


def exit_label(code: int | None) -> str:
    """The short form `ps` shows: `0`, `1`, `SIGKILL`, or `-`."""
    if code is None:
        return "-"
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return str(code)
