"""cProfile across threads: podium's work happens on its engine thread, not the caller's.

cProfile hooks only the thread that enables it. `threading.setprofile` installs a hook in
every thread started afterwards; that hook's first call enables a fresh profiler in its own
thread (one per thread: a cProfile.Profile keeps one call stack and must not be shared).
Each thread's profile is kept apart, because merged they would be dominated by the caller
blocked in `wait()` while the engine thread does the work.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
from pathlib import Path
from types import FrameType
from typing import Any

# Threads worth a report of their own; the timer wheel and the RSS sampler only sleep.
REPORTED_THREADS = ("MainThread", "podium-engine")


class ThreadProfiles:
    def __init__(self) -> None:
        self._profiles: list[tuple[str, cProfile.Profile]] = []
        self._lock = threading.Lock()
        self._main: cProfile.Profile | None = None

    def _bootstrap(self, frame: FrameType, event: str, arg: Any) -> None:
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append((threading.current_thread().name, profile))
        profile.enable()  # replaces this hook, for this thread only

    def start(self) -> None:
        threading.setprofile(self._bootstrap)
        self._main = cProfile.Profile()
        self._profiles.append((threading.current_thread().name, self._main))
        self._main.enable()

    def stop(self) -> None:
        """Call after the profiled threads have ended (a profiler is disabled by its own thread)."""
        threading.setprofile(None)
        if self._main is not None:
            self._main.disable()

    def save(self, path: Path, top: int = 25) -> str:
        """Write one pstats file per thread (`path` with the thread's name) and return their tops."""
        path.parent.mkdir(parents=True, exist_ok=True)
        out = io.StringIO()
        for name, profile in self._profiles:
            profile.create_stats()
            if not getattr(profile, "stats", None):
                continue
            stats = pstats.Stats(profile, stream=out)
            target = path.with_name(f"{path.stem}.{name}{path.suffix}")
            stats.dump_stats(str(target))
            if name in REPORTED_THREADS:
                out.write(f"--- thread {name} ({target}), by own time\n")
                stats.sort_stats("tottime").print_stats(top)
        return out.getvalue()
