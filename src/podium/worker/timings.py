"""Handler timings for benchmarks, opt-in: `$PODIUM_WORKER_TIMINGS=FILE`.

When the variable names a file, every task a worker runs appends one line to it:

    TASK_TOKEN HANDLER_MS

the task's token, and the milliseconds its handler took (the handler's call alone: neither
taking the task, nor turning its result into JSON, nor answering), to the microsecond. The
line is written right after the answer was sent, not in its way: a reader waits for the
worker to stop (or for the line) before it counts on it. Every slot and every replica may
share one file: the file is opened for appending and each line is one write, so lines never
interleave. A token appears twice when its command was run twice (delivered again).

Off by default: without the variable nothing is opened or timed. bench/saga_bench.py sets it
for the payment saga's services and subtracts these times from the orchestrator's time per
step, which leaves the orchestrator's and the transport's overhead.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("podium.worker")

ENV = "PODIUM_WORKER_TIMINGS"


class TimingsFile:
    def __init__(self, path: str) -> None:
        self.path = path
        # Unbuffered, appending (O_APPEND): one write per line, at the end whoever else writes.
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 (open until close())
        self._lock = threading.Lock()

    def record(self, token: str, seconds: float) -> None:
        line = f"{token} {seconds * 1000:.3f}\n".encode()
        with self._lock:
            if self._file.closed:  # a handler that outlived its worker's stop
                return
            try:
                self._file.write(line)
            except OSError as exc:  # timings are a measurement: never the task's failure
                log.warning("cannot write handler timings to %s: %s; no more timings", self.path, exc)
                self._file.close()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def from_environment() -> TimingsFile | None:
    """The file $PODIUM_WORKER_TIMINGS names, open for appending; None when unset (or unusable)."""
    path = os.environ.get(ENV)
    if not path:
        return None
    try:
        return TimingsFile(path)
    except OSError as exc:
        log.warning("cannot open %s=%s: %s; handler timings off", ENV, path, exc)
        return None
