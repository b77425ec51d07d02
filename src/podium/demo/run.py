"""One run of the demo, start to finish, and `verify_run` of an earlier one.

Order: check what can be checked before anything starts (the example, the fault file, the
transport, the database); start the server (its assembly in this process, as `podium up`
does), register the state machine, start the services and wait for them to be healthy;
run the batch; stop the services, then the server, then remove the broker namespace; read
the histories and the ledgers back, audit them, print the table. Every wait has a deadline:
the services' start, the batch, their stop (grace and SIGKILL), the server's stop.

With --kill-orchestrator the server is a child process instead (podium.demo.orchestrator),
the batch goes through its API (podium.demo.client), and podium.demo.kills SIGKILLs it and
starts it again while the batch runs.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from podium.arns import ArnFactory
from podium.demo import brokers, example
from podium.demo.audit import audit, read_ledgers
from podium.demo.batch import Executions, ServiceExecutions, Started, run_batch
from podium.demo.calls import aggregate, calls_of
from podium.demo.kills import OrchestratorKiller, running_at
from podium.demo.options import DemoOptions, new_run_dir
from podium.demo.orchestrator import OrchestratorError, OrchestratorProcess
from podium.demo.payments import Payment, generate
from podium.demo.progress import ProgressBar
from podium.demo.record import RunRecord
from podium.demo.report import Summary, render
from podium.demo.services import ServicesError, SupervisedServices
from podium.supervisor.config import UpConfig
from podium.transports.factory import TransportSpec

if TYPE_CHECKING:
    from podium.supervisor.output import Console
    from podium.supervisor.supervisor import TaskHooks

READY_SECONDS = 60.0  # for eight Python processes to start and report healthy on a busy machine


class DemoError(Exception):
    """The demo cannot run: one line for the user."""


def run_demo(options: DemoOptions, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run a batch; 0 when every check passed, 1 otherwise. DemoError when it cannot run."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        where = example.find(options.example)
        config = example.load_config(where)
        faults = _faults_file(options.faults, where)
        example.check_faults(where, faults)
        run_id = uuid.uuid4().hex[:8]
        transport = brokers.namespaced(options.transport, options.broker_url, run_id)
    except (example.ExampleError, ValueError) as exc:
        raise DemoError(str(exc)) from None
    run_dir = (options.run_dir or new_run_dir()).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    db = options.db or str(run_dir / "podium.db")
    _refuse_unfinished(db)
    config = example.for_run(
        config, run_dir=run_dir, db=db, transport=transport.kind, broker_url=transport.url, faults=faults
    )
    payments = generate(options.payments, f"pay-{run_id}", options.seed if options.seed is not None else 0)
    replicas = sum(s.replicas for s in config.services)
    print(
        f"podium demo: {options.payments} payments over the {transport.describe()} transport,"
        f" {replicas} service replicas; run directory {run_dir}",
        file=err,
        flush=True,
    )
    record = _run(options, config, transport, run_dir, db, payments, err)
    record.save()
    summary = analyse(record)
    print(render(summary), file=out, flush=True)
    return 0 if summary.audit.ok else 1


def verify_run(run_dir: Path, *, out: TextIO | None = None) -> int:
    """Check an earlier run again, from its database and ledgers as they are now."""
    try:
        record = RunRecord.load(run_dir.resolve())
    except ValueError as exc:
        raise DemoError(str(exc)) from None
    summary = analyse(record)
    print(render(summary), file=out or sys.stdout, flush=True)
    return 0 if summary.audit.ok else 1


def _run(
    options: DemoOptions,
    config: UpConfig,
    transport: TransportSpec,
    run_dir: Path,
    db: str,
    payments: list[Payment],
    err: TextIO,
) -> RunRecord:
    from podium.supervisor.output import Console

    with open(run_dir / "demo.log", "w", encoding="utf-8") as log:
        console = Console(log, colour=False)  # the server's and the services' lines, for later
        with (
            _orchestrator(options, config, transport, console) as orchestrator,
            _services(config, orchestrator, console, run_dir) as services,
        ):
            machine = ArnFactory(config.server.region, config.server.account).state_machine(
                example.STATE_MACHINE
            )
            bar = None if options.check else ProgressBar(len(payments), err)
            killer = None
            if orchestrator.process is not None and options.kill_orchestrator:
                killer = OrchestratorKiller(
                    orchestrator.process, options.kill_orchestrator, len(payments), console
                )

            def progress(done: int, succeeded: int, failed: int) -> None:
                if bar is not None:
                    bar.update(done, succeeded, failed)
                if killer is not None:
                    killer.observe(done)

            if killer is not None:
                killer.start()
            try:
                result = run_batch(
                    orchestrator.executions,
                    machine,
                    payments,
                    window=options.window,
                    deadline=time.monotonic() + options.batch_seconds,
                    progress=progress,
                    abandon=killer.abandon if killer is not None else None,
                )
            finally:
                if killer is not None:
                    killer.stop()
            if bar is not None:
                ended = ("FAILED", "TIMED_OUT", "ABORTED")
                bar.close(result.count("SUCCEEDED", *ended), result.count("SUCCEEDED"), result.count(*ended))
    return RunRecord(
        run_dir=run_dir,
        db=db,
        transport=transport.kind,
        seconds=result.seconds,
        executions=result.executions,
        restarts=services.restarts(),
        kills_asked=options.kill_orchestrator,
        kills=killer.kills if killer is not None else [],
        start_retries=result.start_retries,
    )


@dataclass(frozen=True)
class _Orchestrator:
    """The orchestrator of a run as the rest sees it: where the batch starts executions, where
    the services find it, the supervisor's hooks into its activity queues (in process only),
    and its process when it runs as a child (to be killed)."""

    executions: Executions
    endpoint: str
    worker_transport: str
    hooks: TaskHooks | None = None
    process: OrchestratorProcess | None = None


@contextmanager
def _orchestrator(
    options: DemoOptions, config: UpConfig, transport: TransportSpec, console: Console
) -> Iterator[_Orchestrator]:
    """The server, serving with the state machine registered; stopped afterwards whatever
    happened, and then the broker namespace removed. In this process (EmbeddedServer, as `podium
    up` runs it), or as a child process when it is to be killed (podium.demo.orchestrator)."""
    if options.kill_orchestrator:
        with _child_orchestrator(config, transport, console) as child:
            yield child
        return
    from podium.supervisor.server import EmbeddedServer, ServerError

    server = EmbeddedServer(config.server, console)
    try:
        try:
            server.start()
            server.register(config.state_machines, config.activities)
        except ServerError as exc:
            raise DemoError(str(exc)) from None
        yield _Orchestrator(
            ServiceExecutions(server.assembly.service),
            server.endpoint,
            server.worker_transport,
            hooks=server.task_hooks(),
        )
    finally:
        opened = server.assembly is not None  # else the broker was never reached: nothing to remove
        server.stop()
        if opened:
            brokers.remove_namespace(transport, example.SERVICES)


@contextmanager
def _child_orchestrator(
    config: UpConfig, transport: TransportSpec, console: Console
) -> Iterator[_Orchestrator]:
    from podium.demo.client import ApiExecutions

    process = OrchestratorProcess(config.server, transport, console)
    executions: ApiExecutions | None = None
    try:
        try:
            process.start()
            process.register(config.state_machines, config.activities)
        except OrchestratorError as exc:
            raise DemoError(str(exc)) from None
        executions = ApiExecutions(process.endpoint, region=config.server.region)
        # No hooks: the supervisor cannot reach into another process's activity queues, so a dead
        # replica's tasks wait out their timeouts and are retried, rather than going back at once.
        yield _Orchestrator(executions, process.endpoint, process.worker_transport, process=process)
    finally:
        if executions is not None:
            executions.close()
        process.stop()
        if process.pids:
            brokers.remove_namespace(transport, example.SERVICES)


@contextmanager
def _services(
    config: UpConfig, orchestrator: _Orchestrator, console: Console, run_dir: Path
) -> Iterator[SupervisedServices]:
    """The services, up and healthy; stopped afterwards (before the server, so that their last
    answers still land)."""
    from podium.supervisor.supervisor import Supervisor
    from podium.supervisor.up import service_environment

    supervisor = Supervisor(
        config.services,
        console,
        environment=service_environment(config, orchestrator.endpoint, orchestrator.worker_transport),
        hooks=orchestrator.hooks,
    )
    services = SupervisedServices(supervisor)
    services.start()
    try:
        try:
            services.wait_ready(READY_SECONDS)
        except ServicesError as exc:
            raise DemoError(f"{exc}: {run_dir / 'demo.log'}") from None
        yield services
    finally:
        services.stop()


def analyse(record: RunRecord) -> Summary:
    """The table's figures and the audit, from the run's database and ledgers."""
    from podium.service.assembly import sqlite_path
    from podium.store.sqlite import SQLiteStore

    store = SQLiteStore(sqlite_path(record.db))
    try:
        executions = {run.arn: store.get_execution(run.arn) for run in record.executions if run.arn}
        calls = [call for arn in executions for call in calls_of(store.history(arn))]
    finally:
        store.close()
    runs = []
    outcomes: Counter[str] = Counter()
    for run in record.executions:
        execution = executions.get(run.arn) if run.arn else None
        status = run.status if run.arn is None else getattr(execution, "status", "MISSING")
        runs.append(Started(run.payment, run.arn, status, run.start_error))
        outcomes[_outcome(run, execution)] += 1
    # A compensation's first attempt per payment (its retries are counted as retries).
    compensated = Counter(c.command for c in calls if c.command in ("void", "reverse") and not c.retry)
    result = audit(runs, executions.get, read_ledgers(record.ledgers))
    return Summary(
        transport=record.transport,
        payments=len(record.executions),
        seconds=record.seconds,
        outcomes=outcomes,
        calls=aggregate(calls),
        compensated=compensated,
        audit=result,
        run_dir=record.run_dir,
        restarts=record.restarts,
        crashes=_crashes(record.run_dir),
        kills_asked=record.kills_asked,
        kills=record.kills,
        running_at_kills=[running_at(kill, executions.values()) for kill in record.kills],
        start_retries=record.start_retries,
    )


def _outcome(run: Started, execution: object) -> str:
    if run.arn is None:
        return "NOT STARTED"
    status = getattr(execution, "status", "MISSING")
    error = getattr(execution, "error", None)
    return f"{status}  {error}" if status != "SUCCEEDED" and error else str(status)


def _crashes(run_dir: Path) -> list[tuple[str, str]]:
    """The injected crashes the services logged (payment_saga/faults.py): (service, point)."""
    path = run_dir / "faults" / "crashes.log"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 4:
            out.append((parts[0], parts[3]))
    return out


def _faults_file(faults: str | None, where: Path) -> str:
    if faults is None:
        return str(where / "faults.yaml")
    if faults.lower() == "none":
        return "none"
    return str(Path(faults).resolve())


def _refuse_unfinished(db: str) -> None:
    """A database with unfinished executions would resume them, and their steps would land in
    this run's ledgers as payments the batch never made."""
    from podium.service.assembly import StoreUrlError, sqlite_path
    from podium.store.sqlite import SQLiteStore

    try:
        path = sqlite_path(db)
    except StoreUrlError as exc:
        raise DemoError(str(exc)) from None
    if not Path(path).exists():
        return
    try:
        store = SQLiteStore(path)
    except Exception as exc:
        raise DemoError(f"cannot open database {db}: {exc}") from None
    try:
        unfinished = store.unfinished_executions()
    finally:
        store.close()
    if unfinished:
        raise DemoError(
            f"{db} has {len(unfinished)} unfinished execution(s), which would resume and act on this"
            " run's ledgers: give a fresh --db (or none: the run directory gets its own)"
        )
