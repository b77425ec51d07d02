"""The worker's own sign of life for a supervisor: a file whose modification time it keeps fresh.

`podium up` declares `health: {heartbeat: {file: ..., max_age: 10s}}` for a service and gives
each replica the file's path as $PODIUM_HEARTBEAT_FILE; it restarts a replica whose file grew
older than max_age. The worker touches it every `EVERY` seconds from a thread of its own, as
long as it runs and its slots are alive. Not from the poll loop: a healthy activity worker
sits in one 60 s long poll, and a worker busy with long tasks polls not at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("podium.worker")

EVERY = 2.0  # seconds; well under any max_age worth configuring
ENV = "PODIUM_HEARTBEAT_FILE"


class LivenessFile:
    def __init__(self, path: str, alive: Callable[[], bool], every: float = EVERY) -> None:
        self.path = Path(path)
        self._alive = alive
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="podium-worker-liveness", daemon=True)
        self._warned = False

    def start(self) -> None:
        self._touch()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            if self._alive():
                self._touch()

    def _touch(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        except OSError as exc:
            if not self._warned:  # once: the supervisor will say the rest
                self._warned = True
                log.warning("cannot touch the heartbeat file %s: %s", self.path, exc)
