"""How often the orchestrator's threads hand the interpreter's lock (the GIL) to one another.

An orchestrator process is many threads that each do a little and then wait: the engine, a
reply queue's consumer, connectors' senders, timers, the API's event loop, output pumps. A
thread back from waiting (its answer arrived, its commit was fsynced) needs the GIL again;
when another thread holds it, CPython makes the newcomer wait up to the switch interval, 5 ms
by default, before asking for it. That wait lands in the middle of a step. A shorter interval
bounds it: on this project's benchmark machine, 0.5 ms took the p50 of a Redis step's
overhead from 1.85-2.11 ms to 1.81-1.92 ms (bench.saga_bench), at the price of more frequent
hand-overs when several threads compute at once.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL_SECONDS = 0.0005


def prefer_latency() -> None:
    """Shorten this process's switch interval (never lengthens one set shorter already)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_SECONDS:
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
