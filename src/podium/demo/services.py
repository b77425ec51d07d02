"""The saga's services for one run: podium's supervisor on a thread of the demo's process.

The same Supervisor that `podium up` runs keeps the replicas alive: a service that crashes
(an injected os._exit) is restarted with backoff, and the activity tasks it had taken are
handed back to the queue at once. Here it runs on a thread so that the demo's own thread
can drive the batch; stopping sets its stop event and waits for it, bounded by the
services' stop grace and a SIGKILL (a second Ctrl-C kills at once).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from podium.supervisor.supervisor import RUNNING, Supervisor

# A replica is ready once its health check passed (its worker runs and touched its file).
READY_STATE = RUNNING
POLL_SECONDS = 0.1
JOIN_MARGIN = 20.0  # past the longest stop grace: the SIGKILL, the reaping, the last output


class ServicesError(Exception):
    """The services did not come up: one line for the user."""


class SupervisedServices:
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self._stop = threading.Event()
        self._force = threading.Event()
        self._thread = threading.Thread(
            target=supervisor.run, args=(self._stop, self._force), name="podium-demo-supervisor", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def wait_ready(self, timeout: float) -> None:
        """Until every replica passed its health check; ServicesError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = self.supervisor.statuses()
            waiting = [s.name for s in statuses if s.state != READY_STATE]
            if not waiting:
                return
            if time.monotonic() >= deadline or not self._thread.is_alive():
                raise ServicesError(
                    f"{', '.join(waiting)} did not become healthy within {timeout:g}s (see demo.log)"
                )
            time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        """Stop every replica (SIGTERM, then SIGKILL after its grace) and wait for the supervisor."""
        self._stop.set()
        if not self._thread.is_alive():
            return
        longest = max((s.stop_grace for s in self.supervisor.services), default=0.0)
        try:
            self._thread.join(longest + JOIN_MARGIN)
        except KeyboardInterrupt:  # a second Ctrl-C: no more grace
            self._force.set()
            self._thread.join(JOIN_MARGIN)

    def restarts(self) -> dict[str, int]:
        """Restarts per service, over all its replicas."""
        counts: Counter[str] = Counter()
        for status in self.supervisor.statuses():
            counts[status.service] += status.restarts
        return {service.name: counts[service.name] for service in self.supervisor.services}
