"""The supervisor keeps replicas running: restarts with growing backoff, holds the count,
restarts the unhealthy, hands a dead replica's tasks back, stops everything it started."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import time
from collections.abc import Mapping
from pathlib import Path

from podium.supervisor.config import Backoff, HealthSpec, HeartbeatCheck, HttpProbe
from tests.supervisor.conftest import pid_alive, service, supervising, wait_until, with_env


def starts(path: Path) -> list[float]:
    if not path.exists():
        return []
    return [float(line.split()[1]) for line in path.read_text().splitlines()]


def test_a_crashing_service_is_restarted_with_growing_backoff(tmp_path: Path) -> None:
    log = tmp_path / "starts"
    crasher = with_env(
        service("crasher", "crash.py", backoff=Backoff(initial=0.2, max=5, factor=2)),
        STARTS=str(log),
        CRASH_AFTER="0.05",
    )
    with supervising(crasher) as run:
        wait_until(lambda: len(starts(log)) >= 4, what="4 starts")
    times = starts(log)
    gaps = [b - a for a, b in itertools.pairwise(times)][:3]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8, gaps
    delays = [line.rsplit("restarting in ", 1)[1] for line in run.events(r"crasher-1 exited with code 3;")]
    assert delays[:3] == ["0.2s", "0.4s", "0.8s"]
    assert "crasher-1 | crashing" in run.text  # its output, prefixed with its name
    assert not any(pid_alive(pid) for pid in run.pids())


def test_a_replica_that_ran_long_enough_restarts_at_the_initial_delay(tmp_path: Path) -> None:
    crasher = with_env(
        service("steady", "crash.py", backoff=Backoff(initial=0.1, max=5, factor=4, reset_after=0.3)),
        STARTS=str(tmp_path / "starts"),
        CRASH_AFTER="0.4",
    )
    with supervising(crasher) as run:
        wait_until(lambda: len(run.events("restarting in")) >= 3, what="3 restarts")
    assert {line.rsplit(" ", 1)[1] for line in run.events("restarting in")} == {"0.1s"}


def test_the_replica_count_is_held(tmp_path: Path) -> None:
    children = tmp_path / "children"
    spec = with_env(service("held", "sleep.py", replicas=3), CHILD_PIDS=str(children))
    with supervising(spec) as run:
        statuses = wait_until(
            lambda: (s := run.supervisor.statuses()) and all(r.state == "running" for r in s) and s,
            what="3 running replicas",
        )
        assert [s.name for s in statuses] == ["held-1", "held-2", "held-3"]
        wait_until(lambda: children.exists() and len(children.read_text().split()) == 3, what="grandchildren")
        victim = run.replica("held-2").pid
        grandchildren = [int(p) for p in children.read_text().split()]
        os.kill(victim, signal.SIGKILL)  # the leader only: the supervisor must clean up its group
        wait_until(lambda: run.replica("held-2").restarts == 1, what="held-2 restarted")
        wait_until(
            lambda: all(s.state == "running" for s in run.supervisor.statuses()), what="3 running again"
        )
        live = [s.pid for s in run.supervisor.statuses()]
        assert len(set(live)) == 3 and victim not in live
        assert run.events("held-2 killed by SIGKILL; restarting in 0.1s")
        # the killed leader's child went with it; the others' children are still there
        assert sum(not pid_alive(pid) for pid in grandchildren) == 1
    assert not any(pid_alive(pid) for pid in [*run.pids(), *(int(p) for p in children.read_text().split())])


def test_a_stale_heartbeat_gets_the_replica_restarted(tmp_path: Path) -> None:
    health = HealthSpec(
        heartbeat=HeartbeatCheck(str(tmp_path / "{worker}.hb"), max_age=0.3),
        period=0.1,
        failure_threshold=2,
        start_period=5,  # however slow the start, no failure counts before the first beat
    )
    spec = with_env(service("stuck", "sleep.py", health=health), HEARTBEATS="3")
    with supervising(spec) as run:
        wait_until(lambda: run.replica("stuck-1").restarts >= 1, what="a restart")
    text = run.text
    assert "stuck-1 is healthy" in text
    assert "stuck-1 health check failed (1/2): heartbeat" in text
    assert "stuck-1 is unhealthy (heartbeat" in text
    assert run.events(r"stuck-1 killed by SIGTERM; restarting in 0.1s")


def test_a_failing_http_probe_gets_the_replica_restarted(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port free for the probe server
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    health = HealthSpec(
        http=HttpProbe("http://127.0.0.1:{port}/health", timeout=1),
        period=0.1,
        failure_threshold=2,
        start_period=5,
    )
    spec = with_env(service("web", "probe.py", port=port, health=health), HEALTHY_FOR="0.6")
    with supervising(spec) as run:
        wait_until(lambda: run.replica("web-1").state == "running", what="web-1 healthy")
        assert run.replica("web-1").health == "ok"
        wait_until(lambda: run.replica("web-1").restarts >= 1, what="a restart")
    assert f"web-1 health check failed (1/2): HTTP 500 from http://127.0.0.1:{port}/health" in run.text
    assert "web-1 is unhealthy (HTTP 500" in run.text


def test_starting_until_the_first_check_passes(tmp_path: Path) -> None:
    health = HealthSpec(
        heartbeat=HeartbeatCheck(str(tmp_path / "hb"), max_age=5), period=0.1, start_period=30
    )
    spec = with_env(service("late", "sleep.py", health=health), HEARTBEATS="0")  # never beats
    with supervising(spec) as run:
        wait_until(lambda: "no heartbeat yet" in run.replica("late-1").health, what="a check")
        assert run.replica("late-1").state == "starting"  # within its start period: not counted
        assert run.replica("late-1").restarts == 0


def test_on_failure_leaves_a_clean_exit_stopped(tmp_path: Path) -> None:
    clean = with_env(
        service("job", "crash.py", restart="on-failure"), STARTS=str(tmp_path / "s"), EXIT_CODE="0"
    )
    failing = with_env(service("bad", "crash.py", restart="on-failure"), STARTS=str(tmp_path / "t"))
    with supervising(clean, failing) as run:
        wait_until(lambda: run.replica("bad-1").restarts >= 2, what="bad restarted")
        assert run.replica("job-1").state == "stopped"
        assert run.replica("job-1").last_exit == 0
    assert run.events("job-1 exited with code 0; not restarted")
    assert len(starts(tmp_path / "s")) == 1


def test_a_program_that_cannot_start_is_retried_with_backoff() -> None:
    from podium.supervisor.config import ServiceSpec

    spec = ServiceSpec("ghost", ("/nonexistent/program",), backoff=Backoff(initial=0.05, max=0.2))
    with supervising(spec) as run:
        wait_until(lambda: run.replica("ghost-1").restarts >= 2, what="retries")
        assert run.replica("ghost-1").last_exit == 127
    assert "ghost-1 cannot start: no such program or directory: /nonexistent/program" in run.text


class FakeHooks:
    """Activity tasks by worker name, as the activity queues would count them."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.released: list[str] = []

    def in_flight(self) -> Mapping[str, int]:
        return dict(self.counts)

    def release(self, worker: str) -> int:
        self.released.append(worker)
        return self.counts.pop(worker, 0)


def test_a_dead_replicas_tasks_are_handed_back(tmp_path: Path) -> None:
    host = socket.gethostname()
    hooks = FakeHooks({"w-1": 2, "w-1@elsewhere:1": 1, "sdk@w-1": 1, "w-10": 5, "sdk@w-10": 1, "other-1": 4})
    spec = with_env(service("w", "sleep.py"), STARTS=str(tmp_path / "s"))
    with supervising(spec, hooks=hooks) as run:
        pid = wait_until(lambda: run.replica("w-1").pid, what="w-1 started")
        hooks.counts[f"sdk-name@{host}:{pid}"] = 1  # the worker SDK's default name carries the pid
        assert run.replica("w-1").in_flight == 5
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: run.replica("w-1").restarts == 1, what="a restart")
    assert sorted(hooks.released) == sorted(["w-1", "w-1@elsewhere:1", "sdk@w-1", f"sdk-name@{host}:{pid}"])
    assert run.events("w-1 killed by SIGKILL; 5 tasks it had taken put back on the queue; restarting")
    assert hooks.counts == {"w-10": 5, "sdk@w-10": 1, "other-1": 4}


def test_stopping_kills_what_ignores_sigterm_after_its_grace(tmp_path: Path) -> None:
    spec = with_env(service("stubborn", "sleep.py", stop_grace=0.3), IGNORE_TERM="1")
    polite = service("polite", "sleep.py")
    with supervising(spec, polite) as run:
        wait_until(lambda: all(s.state == "running" for s in run.supervisor.statuses()), what="running")
        wait_until(lambda: "stubborn-1 | ready" in run.text, what="its SIGTERM handler installed")
    assert "stubborn-1 did not stop within 0.3s: SIGKILL" in run.text
    assert "stubborn-1 killed by SIGKILL" in run.text and "polite-1 stopped" in run.text
    assert [s.state for s in run.supervisor.statuses()] == ["stopped", "stopped"]
    assert not any(pid_alive(pid) for pid in run.pids())


def test_a_second_signal_kills_at_once() -> None:
    spec = with_env(service("stubborn", "sleep.py", stop_grace=30), IGNORE_TERM="1")
    with supervising(spec) as run:
        wait_until(lambda: "stubborn-1 | ready" in run.text, what="its SIGTERM handler installed")
        run.force.set()  # as `up` does on a second Ctrl-C
        started = time.monotonic()
    assert time.monotonic() - started < 5  # not the 30 s grace
    assert "stubborn-1: SIGKILL" in run.text and "stubborn-1 killed by SIGKILL" in run.text
