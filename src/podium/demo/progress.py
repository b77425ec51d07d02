"""The progress bar: one line on stderr, redrawn in place (`\\r`), at most ten times a second.

Plain text rather than a terminal library: it is one line, and a dependency for it would be
one more thing to install for everyone. When stderr is not a terminal (a log, CI) the bar
would only be noise, so it prints nothing until the closing line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
REDRAW_EVERY = 0.1  # seconds


class ProgressBar:
    def __init__(self, total: int, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.live = _isatty(self.stream) if live is None else live
        self._started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, succeeded: int, failed: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.live or (not force and now - self._drawn < REDRAW_EVERY):
            return
        self._drawn = now
        self._write("\r" + self._line(done, succeeded, failed, now) + "\x1b[K")

    def close(self, done: int, succeeded: int, failed: int) -> None:
        line = self._line(done, succeeded, failed, time.monotonic())
        self._write(("\r" + line + "\x1b[K" if self.live else line) + "\n")

    def _line(self, done: int, succeeded: int, failed: int, now: float) -> str:
        filled = WIDTH * done // self.total if self.total else WIDTH
        bar = "#" * filled + "-" * (WIDTH - filled)
        return (
            f"[{bar}] {done}/{self.total} payments  succeeded {succeeded}  failed {failed}"
            f"  {now - self._started:.1f}s"
        )

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stderr must not stop the batch
            self.live = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
