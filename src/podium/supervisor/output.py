"""What `podium up` prints: every service's output as `name-N | line` (docker compose's form),
and the supervisor's own events, one line each, as `podium | ...`.

Lines from many threads (one reader per replica, the server's log, the supervisor) are
written whole under one lock, so they never interleave mid-line. Names get a colour each
when the output is a terminal and NO_COLOR is not set.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, TextIO

SUPERVISOR = "podium"
GATHER_SECONDS = 0.05  # how long a child's lines gather in its pipe between two reads
_READ_BYTES = 65_536  # a pipe's whole buffer on Linux
_LONGEST_LINE = 1 << 20  # bytes held waiting for a newline, at most
_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


class Console:
    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        if colour is None:
            colour = not os.environ.get("NO_COLOR") and _isatty(self.stream)
        self.colour = colour
        self.width = len(SUPERVISOR)
        # Re-entrant: `up`'s signal handler prints, and may interrupt a print of the main thread.
        self._lock = threading.RLock()
        self._colours: dict[str, str] = {}

    def reserve(self, names: list[str]) -> None:
        """Align the `|` of every line on the longest of these names."""
        self.width = max([self.width, *(len(n) for n in names)])

    def line(self, source: str, text: str) -> None:
        prefix = f"{source:<{self.width}} |"
        if self.colour:
            code = self._colours.setdefault(source, _COLOURS[len(self._colours) % len(_COLOURS)])
            prefix = f"\x1b[{code}m{prefix}\x1b[0m"
        with self._lock:
            try:
                self.stream.write(f"{prefix} {text}\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed stdout must not stop the supervisor
                pass

    def event(self, text: str) -> None:
        self.line(SUPERVISOR, text)

    def pump(self, source: str, pipe: IO[bytes]) -> threading.Thread:
        """Copy a child's output, line by line, until it closes the pipe.

        It reads what the pipe holds, then lets lines gather for GATHER_SECONDS before it reads
        again: a busy service (a line per task) wakes this thread some 20 times a second, not
        once per line, and each wake-up is a turn of the GIL taken from the orchestrator when
        it shares this process (`podium up`, `podium demo`). A line shows up that much later.
        """

        def copy() -> None:
            fd = pipe.fileno()
            pending = b""
            with pipe:
                while chunk := os.read(fd, _READ_BYTES):
                    *lines, pending = (pending + chunk).split(b"\n")
                    if len(pending) > _LONGEST_LINE:  # no newline in sight: show it as it is
                        lines.append(pending)
                        pending = b""
                    for raw in lines:
                        self.line(source, raw.decode("utf-8", errors="replace").rstrip("\r"))
                    time.sleep(GATHER_SECONDS)
                if pending:  # a last line without its newline
                    self.line(source, pending.decode("utf-8", errors="replace").rstrip("\r"))

        thread = threading.Thread(target=copy, name=f"podium-output-{source}", daemon=True)
        thread.start()
        return thread


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
