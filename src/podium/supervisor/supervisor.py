"""Keeping services running, the way a Kubernetes Deployment does: every declared replica has
a process or a restart pending, a crashed or unhealthy one is restarted with backoff, and
the tasks a dead replica had taken go back to other workers at once.

One thread owns all the state: `run` loops every `tick` seconds over the replicas (reap the
dead, start the due, check health, kill those that overstay their grace). Nothing blocks
that loop: HTTP probes run on a small pool and their results are picked up on a later tick,
children's output is copied by their own threads (podium.supervisor.output).

A replica's life:

    starting --(check passes)--> running --(check fails)--> unhealthy --(threshold)--> stopping
       |                           |                                                     |
       +---------------------------+------------(process exits)----------------------+--+
                                                                                      v
                                   backoff --(delay over)--> starting        or    stopped

A service without health checks is running as soon as it is started. The restart policy
decides between backoff and stopped: `always` restarts every exit, `on-failure` all but a
clean exit (code 0) of a healthy replica.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Protocol

from podium.supervisor.config import ServiceSpec
from podium.supervisor.health import CheckResult, HealthTracker, Verdict, run_checks
from podium.supervisor.output import Console
from podium.supervisor.process import ChildProcess, SpawnError, describe_exit
from podium.supervisor.state import ReplicaStatus

STARTING = "starting"
RUNNING = "running"
UNHEALTHY = "unhealthy"
STOPPING = "stopping"
BACKOFF = "backoff"
STOPPED = "stopped"

ABANDON_AFTER_KILL = 10.0  # seconds
PUBLISH_EVERY = 0.5  # seconds between state snapshots when nothing changed (in-flight counts move)


class TaskHooks(Protocol):
    """What the supervisor asks of the orchestrator about the tasks replicas take, by the worker
    name they poll with (GetActivityTask's workerName). Each replica gets its name (`auth-1`) as
    $PODIUM_WORKER_ID, which the worker SDK puts in its workerName (`auth@auth-1`); a replica
    owns a worker name that is its name, starts with `auth-1@` or ends with `@auth-1`, or ends
    with `@thishost:PID` of its process (the SDK's name when $PODIUM_WORKER_ID is not used)."""

    def in_flight(self) -> Mapping[str, int]:
        """Worker name -> tasks it took and has not answered."""
        ...

    def release(self, worker: str) -> int:
        """The worker is dead: hand its open tasks to other workers now; how many there were."""
        ...


Publish = Callable[[list[ReplicaStatus], bool], None]


class _Replica:
    def __init__(self, spec: ServiceSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        self.name = spec.worker_name(index)
        self.state = STOPPED
        self.process: ChildProcess | None = None
        self.pid: int | None = None  # of the current or last run: its worker names may carry it
        self.started_wall: float | None = None
        self.restarts = 0
        self.failures = 0  # consecutive, for the backoff
        self.last_exit: int | None = None
        self.restart_at: float | None = None
        self.health: HealthTracker | None = None
        self.probe: Future[CheckResult] | None = None
        self.stop_reason: str | None = None  # "unhealthy" | "shutdown" while stopping
        self.kill_at: float | None = None


class Supervisor:
    def __init__(
        self,
        services: tuple[ServiceSpec, ...] | list[ServiceSpec],
        console: Console,
        *,
        environment: Mapping[str, str] | None = None,
        hooks: TaskHooks | None = None,
        publish: Publish | None = None,
        tick: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = tuple(services)
        self.console = console
        self.environment = dict(os.environ if environment is None else environment)
        self.hooks = hooks
        self.publish = publish
        self.tick = tick
        self.clock = clock
        self.replicas = [_Replica(s, i) for s in self.services for i in range(1, s.replicas + 1)]
        self._probes = ThreadPoolExecutor(max_workers=8, thread_name_prefix="podium-probe")
        self._published_at = 0.0
        self._dirty = True
        self._stopping = False
        self._host = socket.gethostname()
        console.reserve([r.name for r in self.replicas])

    # --- the loop --------------------------------------------------------------------------

    def run(self, stop: threading.Event, force: threading.Event | None = None) -> None:
        """Start every replica and keep them so until `stop` is set; then stop them all: SIGTERM,
        then SIGKILL after the service's stop_grace, or at once when `force` is set."""
        try:
            now = self.clock()
            for replica in self.replicas:
                self._start(replica, now)
            while not stop.is_set():
                self.step()
                stop.wait(self.tick)
        finally:
            # Also after an unexpected error: whatever happens, no child outlives the supervisor.
            try:
                self.shutdown(force)
            finally:
                self._probes.shutdown(wait=False, cancel_futures=True)

    def step(self) -> None:
        """One pass over the replicas; `run` calls it every tick (tests may call it directly)."""
        now = self.clock()
        for replica in self.replicas:
            self._watch(replica, now)
        self._maybe_publish(now)

    def shutdown(self, force: threading.Event | None = None) -> None:
        self._stopping = True
        now = self.clock()
        alive = [r for r in self.replicas if r.process is not None]
        if alive:
            self.console.event(f"stopping {len(alive)} replica{'s' if len(alive) != 1 else ''}")
        for replica in self.replicas:
            if replica.process is not None:
                self._stop(replica, "shutdown", now)
            elif replica.state == BACKOFF:
                self._set(replica, STOPPED)
        # Past every grace and a SIGKILL, a process still there is beyond our reach (stuck in
        # the kernel): give up on it rather than never exit.
        give_up = now + max((r.spec.stop_grace for r in alive), default=0.0) + ABANDON_AFTER_KILL
        killed = False
        while any(r.process is not None for r in self.replicas):
            if force is not None and force.is_set() and not killed:
                killed = True
                for replica in self.replicas:
                    if replica.process is not None:
                        self.console.event(f"{replica.name}: SIGKILL")
                        replica.process.kill()
                        replica.kill_at = None
            if self.clock() > give_up:
                stuck = [r.name for r in self.replicas if r.process is not None]
                self.console.event(f"{', '.join(stuck)} did not exit even after SIGKILL; leaving it")
                break
            self.step()
            time.sleep(min(self.tick, 0.05))
        self._maybe_publish(self.clock(), force_publish=True)

    # --- one replica -----------------------------------------------------------------------

    def _watch(self, replica: _Replica, now: float) -> None:
        process = replica.process
        if process is not None:
            code = process.poll()
            if code is not None:
                self._exited(replica, code, now)
                return
            if replica.kill_at is not None and now >= replica.kill_at:
                grace = replica.spec.stop_grace
                self.console.event(f"{replica.name} did not stop within {grace:g}s: SIGKILL")
                process.kill()
                replica.kill_at = None
                return
            self._check_health(replica, now)
        elif replica.state == BACKOFF and not self._stopping and now >= (replica.restart_at or 0.0):
            replica.restarts += 1
            self._start(replica, now)

    def _start(self, replica: _Replica, now: float) -> None:
        spec = replica.spec
        heartbeat = self._heartbeat_file(replica)
        if heartbeat is not None:
            try:
                # A heartbeat left by the previous run must not vouch for this one.
                with suppress(FileNotFoundError):
                    os.unlink(heartbeat)
                os.makedirs(os.path.dirname(heartbeat) or ".", exist_ok=True)
            except OSError as exc:  # its health check will fail and say so; start it all the same
                self.console.event(f"{replica.name}: cannot prepare its heartbeat file {heartbeat}: {exc}")
        argv = [spec.expand(arg, replica.index) for arg in spec.command]
        replica.restart_at = None
        replica.stop_reason = None
        replica.kill_at = None
        replica.probe = None
        try:
            replica.process = ChildProcess.spawn(
                argv,
                env=self._environment(replica, heartbeat),
                cwd=spec.working_dir,
                console=self.console,
                source=replica.name,
            )
        except SpawnError as exc:
            self.console.event(f"{replica.name} cannot start: {exc}")
            replica.started_wall = None
            self._exited(replica, exc.code, now, ran=0.0)
            return
        replica.started_wall = time.time()
        replica.pid = replica.process.pid
        replica.health = HealthTracker(spec.health, now) if spec.health is not None else None
        self._set(replica, STARTING if replica.health is not None else RUNNING)
        self.console.event(f"{replica.name} started (pid {replica.process.pid})")

    def _environment(self, replica: _Replica, heartbeat: str | None) -> dict[str, str]:
        spec = replica.spec
        env = dict(self.environment)
        env.setdefault("PYTHONUNBUFFERED", "1")  # its lines reach the console as they are printed
        env.update({key: spec.expand(value, replica.index) for key, value in spec.environment.items()})
        env["PODIUM_SERVICE"] = spec.name
        env["PODIUM_REPLICA"] = str(replica.index)
        env["PODIUM_WORKER_ID"] = replica.name  # stable across restarts; unique among live replicas
        port = spec.port_of(replica.index)
        if port is not None:
            env["PORT"] = str(port)
        if heartbeat is not None:
            env["PODIUM_HEARTBEAT_FILE"] = heartbeat
        return env

    def _heartbeat_file(self, replica: _Replica) -> str | None:
        health = replica.spec.health
        if health is None or health.heartbeat is None:
            return None
        return replica.spec.expand(health.heartbeat.file, replica.index)

    def _exited(self, replica: _Replica, code: int, now: float, ran: float | None = None) -> None:
        process = replica.process
        if process is not None:
            process.wait_output(0.5)  # its last lines before the news of its end
            ran = now - process.started_at
        replica.process = None
        replica.probe = None
        replica.last_exit = code
        reason = replica.stop_reason
        released = self._release(replica)
        note = (
            f"; {released} task{'s' if released != 1 else ''} it had taken put back on the queue"
            if released
            else ""
        )
        if reason == "shutdown" or self._stopping:
            self._set(replica, STOPPED)
            how = "stopped" if code in (0, -signal.SIGTERM) else describe_exit(code)
            self.console.event(f"{replica.name} {how}{note}")
            return
        failed = code != 0 or reason == "unhealthy"
        if replica.spec.restart == "on-failure" and not failed:
            self._set(replica, STOPPED)
            self.console.event(
                f"{replica.name} {describe_exit(code)}{note}; not restarted (restart: on-failure)"
            )
            return
        backoff = replica.spec.backoff
        if ran is not None and ran >= backoff.reset_after:
            replica.failures = 0  # it had been stable: a fresh crash loop starts at the initial delay
        replica.failures += 1
        delay = backoff.delay(replica.failures)
        replica.restart_at = now + delay
        self._set(replica, BACKOFF)
        self.console.event(f"{replica.name} {describe_exit(code)}{note}; restarting in {delay:.3g}s")

    def _release(self, replica: _Replica) -> int:
        if self.hooks is None:
            return 0
        try:
            owned = [worker for worker in self.hooks.in_flight() if self._owns(replica, worker)]
            return sum(self.hooks.release(worker) for worker in owned)
        except Exception as exc:  # the orchestrator's timeouts still apply: report, carry on
            self.console.event(f"{replica.name}: could not hand its tasks back: {type(exc).__name__}: {exc}")
            return 0

    def _owns(self, replica: _Replica, worker: str) -> bool:
        name = replica.name
        if worker == name or worker.startswith(name + "@") or worker.endswith("@" + name):
            return True
        return replica.pid is not None and worker.endswith(f"@{self._host}:{replica.pid}")

    def _stop(self, replica: _Replica, reason: str, now: float) -> None:
        process = replica.process
        if process is None:
            return
        replica.stop_reason = reason
        replica.kill_at = now + replica.spec.stop_grace
        self._set(replica, STOPPING)
        process.terminate()

    def _check_health(self, replica: _Replica, now: float) -> None:
        tracker = replica.health
        if tracker is None or replica.stop_reason is not None:
            return
        probe = replica.probe
        if probe is not None:
            if not probe.done():
                return
            replica.probe = None
            try:
                result = probe.result()
            except Exception as exc:
                result = CheckResult(False, f"health check failed: {type(exc).__name__}: {exc}")
            self._judge(replica, tracker, result, now)
        elif tracker.due(now):
            health = replica.spec.health
            assert health is not None
            url = replica.spec.expand(health.http.url, replica.index) if health.http else None
            replica.probe = self._probes.submit(run_checks, health, url, self._heartbeat_file(replica))

    def _judge(self, replica: _Replica, tracker: HealthTracker, result: CheckResult, now: float) -> None:
        verdict = tracker.record(result, now)
        if verdict is Verdict.PASSED:
            if replica.state != RUNNING:
                again = " again" if replica.state == UNHEALTHY else ""
                self.console.event(f"{replica.name} is healthy{again}")
                self._set(replica, RUNNING)
        elif verdict is Verdict.FAILING:
            threshold = replica.spec.health.failure_threshold if replica.spec.health else 0
            self.console.event(
                f"{replica.name} health check failed ({tracker.failures}/{threshold}): {result.detail}"
            )
            self._set(replica, UNHEALTHY)
        elif verdict is Verdict.UNHEALTHY:
            self.console.event(f"{replica.name} is unhealthy ({result.detail}); restarting it")
            self._set(replica, UNHEALTHY)
            self._stop(replica, "unhealthy", now)
        self._dirty = True  # the health column changed

    def _set(self, replica: _Replica, state: str) -> None:
        if replica.state != state:
            replica.state = state
            self._dirty = True

    # --- what `ps` sees --------------------------------------------------------------------

    def statuses(self) -> list[ReplicaStatus]:
        counts: Mapping[str, int] = {}
        if self.hooks is not None:
            with suppress(Exception):
                counts = self.hooks.in_flight()
        now, wall = self.clock(), time.time()
        out = []
        for r in self.replicas:
            running = r.process is not None
            health = "-"
            if r.health is not None and running:
                health = r.health.summary()
            out.append(
                ReplicaStatus(
                    service=r.spec.name,
                    replica=r.index,
                    name=r.name,
                    state=r.state,
                    pid=r.process.pid if r.process is not None else None,
                    restarts=r.restarts,
                    last_exit=r.last_exit,
                    started_at=r.started_wall if running else None,
                    restart_at=wall + (r.restart_at - now) if r.restart_at is not None else None,
                    health=health,
                    in_flight=self._in_flight(r, counts) if self.hooks is not None else None,
                )
            )
        return out

    def _in_flight(self, replica: _Replica, counts: Mapping[str, int]) -> int:
        return sum(n for worker, n in counts.items() if self._owns(replica, worker))

    def _maybe_publish(self, now: float, *, force_publish: bool = False) -> None:
        if self.publish is None:
            return
        if not (force_publish or self._dirty or now - self._published_at >= PUBLISH_EVERY):
            return
        self._dirty = False
        self._published_at = now
        try:
            self.publish(self.statuses(), self._stopping)
        except OSError as exc:  # a full disk must not take the services down with it
            self.console.event(f"cannot write the state for `podium ps`: {exc}")
