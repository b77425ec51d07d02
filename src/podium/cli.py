"""`podium ...`: run, validate and inspect state machines from the command line.

Every mistake of the user (a missing file, bad JSON, an invalid definition, an unknown
function) ends in one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from podium.asl.errors import DefinitionError

DEFAULT_DB = "podium.db"
CONNECTIONS_HELP = (
    "connections for HTTP tasks (YAML or JSON: name or ARN -> type, parameters, invocation;"
    " default: $PODIUM_CONNECTIONS)"
)


class UserError(Exception):
    """A mistake of the user: printed as one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except UserError as exc:
        print(f"podium: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("podium: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podium", description="An orchestrator for services, in the Amazon States Language."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check a state machine definition (JSON or YAML)")
    p.add_argument("file")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("run", help="run a state machine durably and print its output")
    p.add_argument("file")
    p.add_argument("--input", default="{}", help="the execution input: JSON text, or @path to a JSON file")
    p.add_argument("--db", default=None, help=f"SQLite file (default: $PODIUM_DB or {DEFAULT_DB})")
    p.add_argument(
        "--functions", action="append", default=[], help="module (dotted name or .py file) of task functions"
    )
    p.add_argument("--connections", default=None, metavar="FILE", help=CONNECTIONS_HELP)
    p.add_argument("--name", default=None, help="the execution's name (default: a new UUID)")
    p.add_argument("--history", action="store_true", help="print the execution's history events too")
    p.add_argument("--timeout", type=float, default=None, help="give up waiting after this many seconds")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("resume", help="finish every unfinished execution in the database")
    p.add_argument("--db", default=None)
    p.add_argument("--functions", action="append", default=[])
    p.add_argument("--connections", default=None, metavar="FILE", help=CONNECTIONS_HELP)
    p.set_defaults(handler=cmd_resume)

    p = sub.add_parser("executions", help="list executions")
    p.add_argument("--db", default=None)
    p.add_argument("--status", default=None)
    p.set_defaults(handler=cmd_executions)

    p = sub.add_parser("history", help="print an execution's history")
    p.add_argument("execution", help="execution ARN or name")
    p.add_argument("--db", default=None)
    p.add_argument("--json", action="store_true", help="as GetExecutionHistory's JSON")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("conformance", help="run conformance cases (the corpus format) in-process")
    p.add_argument("dirs", nargs="+")
    p.add_argument("--json", dest="json_out", default=None, help="write one record per case to this file")
    p.add_argument("--kind", default=None, help="only these kinds (comma-separated)")
    p.add_argument("--name-contains", default=None)
    p.add_argument(
        "--functions",
        action="append",
        default=[],
        help="module (dotted name or .py file) of the Lambda functions the cases need",
    )
    p.add_argument("--verbose", "-v", action="store_true")
    p.set_defaults(handler=cmd_conformance)

    p = sub.add_parser("server", help="serve the AWS Step Functions API (boto3, the AWS CLI) over HTTP")
    p.add_argument(
        "--db", default=None, help=f"SQLite file or sqlite:///URL (default: $PODIUM_DB or {DEFAULT_DB})"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument(
        "--port", type=int, default=8083, help="port to listen on; 0 picks a free one (default: 8083)"
    )
    p.add_argument(
        "--functions", action="append", default=[], help="module (dotted name or .py file) of task functions"
    )
    p.add_argument("--connections", default=None, metavar="FILE", help=CONNECTIONS_HELP)
    p.add_argument("--region", default="us-east-1", help="the region in ARNs (default: us-east-1)")
    p.add_argument("--account", default="000000000000", help="the account id in ARNs (default: 000000000000)")
    p.add_argument(
        "--payload-limit",
        type=int,
        default=256 * 1024,
        metavar="BYTES",
        help="largest input or output (default: 262144)",
    )
    p.add_argument(
        "--credentials",
        default=None,
        metavar="FILE",
        help="require requests signed (SigV4) by one of the ACCESS_KEY:SECRET lines of FILE"
        " (default: $PODIUM_CREDENTIALS, KEY:SECRET,KEY2:SECRET2)",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow listening on a non-loopback address without credentials",
    )
    p.add_argument(
        "--transport",
        default=None,
        metavar="KIND",
        help="command queues of sqs:sendMessage / podium:queue tasks: local (podium's activity queues,"
        " no broker), redis, rabbitmq, inprocess, or a broker URL (default: $PODIUM_TRANSPORT, else local)",
    )
    p.add_argument(
        "--broker-url",
        default=None,
        metavar="URL",
        help="the broker (default: $PODIUM_BROKER_URL, else redis://127.0.0.1:6379/0 or"
        " amqp://guest:guest@127.0.0.1:5672/%%2F)",
    )
    p.set_defaults(handler=cmd_server)

    p = sub.add_parser(
        "up", help="run the server, the state machines and the services a podium.yaml declares, until Ctrl-C"
    )
    p.add_argument("file", nargs="?", default="podium.yaml", help="the file (default: ./podium.yaml)")
    p.add_argument(
        "--check", action="store_true", help="only check the file: exit 0, or 2 naming each problem"
    )
    p.set_defaults(handler=cmd_up)

    p = sub.add_parser(
        "ps", help="show the replicas `podium up` runs: state, restarts, health, tasks in flight"
    )
    p.add_argument(
        "file", nargs="?", default="podium.yaml", help="the file `up` runs (default: ./podium.yaml)"
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=cmd_ps)

    p = sub.add_parser(
        "demo",
        help="run the payment saga (examples/payment-saga): the orchestrator, four services, a batch of"
        " payments with injected faults, and a report",
    )
    p.add_argument(
        "--transport",
        default="local",
        metavar="KIND",
        help="command queues: local (podium's activity queues, no broker; the default), redis or rabbitmq",
    )
    p.add_argument(
        "--broker-url", default=None, metavar="URL", help="the broker (default: its local default)"
    )
    p.add_argument(
        "--payments", type=int, default=50, metavar="N", help="payments in the batch (default: 50)"
    )
    p.add_argument("--db", default=None, help="SQLite file (default: podium.db in the run directory)")
    p.add_argument(
        "--faults",
        default=None,
        metavar="FILE|none",
        help="the services' fault injection (default: the example's faults.yaml; none: no faults)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="no progress bar; exit 1 unless every payment ended SUCCEEDED or FAILED and compensated,"
        " the ledgers balance and no step was applied twice for one task token",
    )
    p.add_argument(
        "--run-dir", default=None, metavar="DIR", help="for the database, ledgers and logs (default: new)"
    )
    p.add_argument(
        "--window", type=int, default=16, metavar="N", help="payments in flight at once (default: 16)"
    )
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="the batch's deadline")
    p.add_argument("--seed", type=int, default=None, help="the batch's random seed (default: 0)")
    p.add_argument("--example", default=None, metavar="DIR", help="the payment saga example's directory")
    p.add_argument(
        "--kill-orchestrator",
        type=int,
        default=0,
        metavar="N",
        help="SIGKILL the orchestrator N times mid-run, at moments spread over the batch, and start it"
        " again on the same database each time (it then runs as a child process and the batch goes"
        " through its API; default: 0, the orchestrator runs in the demo's process)",
    )
    p.add_argument(
        "--verify",
        default=None,
        metavar="RUN_DIR",
        help="run nothing: check an earlier run's database and ledgers again, as they are now",
    )
    p.set_defaults(handler=cmd_demo)
    return parser


# --- helpers -------------------------------------------------------------------------------


def _db_path(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("PODIUM_DB") or DEFAULT_DB)


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None


def _parse_input(text: str) -> Any:
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        text = _read_text(text[1:])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def _open_store(args: argparse.Namespace) -> Any:
    from podium.store.sqlite import SQLiteStore

    path = _db_path(args)
    try:
        return SQLiteStore(path)
    except Exception as exc:
        raise UserError(f"cannot open database {path}: {exc}") from None


def _registry(modules: list[str]) -> Any:
    from podium.connectors.functions import FunctionRegistry

    registry = FunctionRegistry()
    for module in modules:
        try:
            registry.load_module(module)
        except Exception as exc:
            raise UserError(f"cannot load functions from {module}: {type(exc).__name__}: {exc}") from None
    return registry


def _connections(args: argparse.Namespace) -> Any:
    """The connections HTTP tasks may use: --connections FILE, else $PODIUM_CONNECTIONS, else none."""
    from podium.connectors.connections import (
        CONNECTIONS_ENV,
        Connections,
        ConnectionsError,
        load_connections,
    )

    path = getattr(args, "connections", None) or os.environ.get(CONNECTIONS_ENV)
    if not path:
        return Connections()
    try:
        return load_connections(path)
    except ConnectionsError as exc:
        raise UserError(str(exc)) from None


@contextmanager
def _engine(store: Any, registry: Any, connections: Any = None) -> Iterator[Any]:
    """A running engine whose task functions run on a pool of threads; all stopped on exit."""
    from concurrent.futures import ThreadPoolExecutor

    from podium.connectors.functions import FunctionConnector
    from podium.connectors.http import HttpConnector
    from podium.runtime.engine import Engine

    http = HttpConnector(connections)  # HTTP tasks wait on the network: threads of their own
    try:
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="podium-task") as executor:
            engine = Engine(store, connectors=[FunctionConnector(registry, executor), http])
            with engine:
                yield engine
    finally:
        http.close()


def _machine_name(path: str) -> str:
    stem = Path(path).name
    for suffix in (".json", ".yaml", ".yml", ".asl"):
        stem = stem.removesuffix(suffix)
    name = re.sub(r"[^A-Za-z0-9_-]", "-", stem).strip("-")[:80]
    return name or "state-machine"


# --- commands ------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from podium.asl.validation import validate_definition

    diagnostics = validate_definition(_read_text(args.file))
    if not diagnostics:
        print(f"{args.file}: valid")
        return 0
    for diagnostic in diagnostics:
        print(f"{args.file}: {diagnostic}")
    return 1


def cmd_run(args: argparse.Namespace) -> int:
    from podium.asl.parser import parse_definition
    from podium.connectors.functions import static_function_names

    definition = _read_text(args.file)
    input_value = _parse_input(args.input)
    try:
        machine = parse_definition(definition)
    except DefinitionError as exc:
        for diagnostic in exc.diagnostics:
            print(f"{args.file}: {diagnostic}", file=sys.stderr)
        return 1
    registry = _registry(args.functions)
    resources = _task_resources(machine)
    missing = sorted(name for name in static_function_names(resources) if name not in registry)
    if missing:
        hint = " (register them with --functions MODULE)" if not args.functions else ""
        names = ", ".join(f"'{name}'" for name in missing)
        noun = "function" if len(missing) == 1 else "functions"
        raise UserError(f"unknown {noun} {names} in {args.file}: not registered{hint}")
    connections = _connections(args)
    store = _open_store(args)
    with _engine(store, registry, connections) as engine:
        record = engine.create_state_machine(_machine_name(args.file), definition)
        try:
            execution = engine.start_execution(record.arn, input_value, name=args.name)
        except (LookupError, ValueError) as exc:
            raise UserError(str(exc)) from None
        except Exception as exc:
            if type(exc).__name__ == "ExecutionAlreadyExistsError":
                raise UserError(str(exc)) from None
            raise
        final = engine.wait(execution.arn, timeout=args.timeout)
    if args.history:
        _print_history(store.history(final.arn))
    store.close()
    return _print_outcome(final)


def _task_resources(machine: Any) -> list[str]:
    from podium.asl.model import TaskState, iter_programs

    return [
        state.resource
        for program in iter_programs(machine)
        for state in program.states.values()
        if isinstance(state, TaskState)
    ]


def _print_outcome(record: Any) -> int:
    if record.status == "SUCCEEDED":
        print(record.output)
        return 0
    if record.status == "RUNNING":
        print(f"RUNNING: {record.arn} has not finished yet", file=sys.stderr)
        return 3
    parts = [record.status]
    if record.error is not None:
        parts.append(f"error={record.error}")
    if record.cause is not None:
        parts.append(f"cause={record.cause}")
    print(" ".join(parts), file=sys.stderr)
    return 1


def cmd_resume(args: argparse.Namespace) -> int:
    registry = _registry(args.functions)
    connections = _connections(args)
    store = _open_store(args)
    pending = store.unfinished_executions()
    with _engine(store, registry, connections) as engine:
        for arn in pending:
            record = engine.wait(arn)
            print(f"{record.status:<10} {arn}")
    store.close()
    return 0


def cmd_executions(args: argparse.Namespace) -> int:
    store = _open_store(args)
    records = store.list_executions(status=args.status)
    for record in records:
        print(f"{record.status:<10} {record.name:<40} {record.arn}")
    store.close()
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    store = _open_store(args)
    arn = args.execution
    if store.get_execution(arn) is None:
        matches = [r.arn for r in store.list_executions() if r.name == arn]
        if len(matches) != 1:
            raise UserError(
                f"no execution named {arn}"
                if not matches
                else f"{arn} names {len(matches)} executions: give the ARN"
            )
        arn = matches[0]
    events = store.history(arn)
    if args.json:
        print(json.dumps({"events": [e.to_aws() for e in events]}, indent=2))
    else:
        _print_history(events)
    store.close()
    return 0


def _print_history(events: Sequence[Any]) -> None:
    for event in events:
        details = ""
        if event.details:
            shown = {k: v for k, v in event.details.items() if not k.endswith("Details")}
            details = " " + json.dumps(shown, ensure_ascii=False)
            if len(details) > 200:
                details = details[:197] + "..."
        print(f"{event.id:>5} {event.type:<28}{details}")


def cmd_conformance(args: argparse.Namespace) -> int:
    from podium.conformance import run_conformance

    functions = _registry(args.functions) if args.functions else None
    return run_conformance(
        args.dirs,
        json_out=args.json_out,
        kinds=args.kind,
        name_contains=args.name_contains,
        verbose=args.verbose,
        functions=functions,
    )


def cmd_server(args: argparse.Namespace) -> int:
    from podium.api.auth import CREDENTIALS_ENV, CredentialsError, load_credentials
    from podium.api.server import ServerError, ServerOptions, serve

    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be between 0 and 65535, not {args.port}")
    if args.payload_limit < 1:
        raise UserError(f"--payload-limit must be a positive number of bytes, not {args.payload_limit}")
    try:
        credentials = load_credentials(args.credentials)
    except CredentialsError as exc:
        raise UserError(str(exc)) from None
    source = args.credentials or (f"${CREDENTIALS_ENV}" if credentials else None)
    transport = _transport(args)
    options = ServerOptions(
        host=args.host,
        port=args.port,
        db=_db_path(args),
        functions=_registry(args.functions),
        connections=_connections(args),
        region=args.region,
        account=args.account,
        payload_limit=args.payload_limit,
        credentials=credentials,
        credentials_source=source,
        insecure=args.insecure,
        check_responses=os.environ.get("PODIUM_CHECK_RESPONSES", "") not in ("", "0"),
        transport=transport,
    )
    try:
        return serve(options)
    except ServerError as exc:
        raise UserError(str(exc)) from None


def _transport(args: argparse.Namespace) -> Any:
    """--transport and --broker-url (else $PODIUM_TRANSPORT and $PODIUM_BROKER_URL) as a TransportSpec."""
    from podium.transports.factory import parse_spec

    kind = args.transport or os.environ.get("PODIUM_TRANSPORT")
    url = args.broker_url or os.environ.get("PODIUM_BROKER_URL")
    try:
        return parse_spec(kind, url)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _load_up_config(path: str) -> Any:
    from podium.supervisor.config import ConfigError, load

    try:
        return load(path)
    except ConfigError as exc:
        raise UserError(
            f"{path} cannot be used:\n" + "\n".join(f"  {p.render(exc.file)}" for p in exc.problems)
        ) from None


def cmd_up(args: argparse.Namespace) -> int:
    from podium.supervisor.output import Console
    from podium.supervisor.server import ServerError
    from podium.supervisor.state import AlreadyRunningError
    from podium.supervisor.up import run_up

    config = _load_up_config(args.file)
    if args.check:
        services = sum(s.replicas for s in config.services)
        print(
            f"{args.file}: valid ({len(config.state_machines)} state machines,"
            f" {len(config.services)} services, {services} replicas)"
        )
        return 0
    try:
        return run_up(config, Console())
    except (ServerError, AlreadyRunningError) as exc:
        raise UserError(str(exc)) from None


def cmd_ps(args: argparse.Namespace) -> int:
    from podium.supervisor import state
    from podium.supervisor.ps import as_json, render

    config = _load_up_config(args.file)
    try:
        snapshot = state.read(config.state_file)
    except state.StateError as exc:
        raise UserError(str(exc)) from None
    running = snapshot is not None and state.is_running(snapshot.pid)
    if args.json:
        print(json.dumps(as_json(snapshot, running=running), indent=2))
        return 0 if running else 1
    if snapshot is None:
        print(f"podium up is not running for {args.file}", file=sys.stderr)
        return 1
    if not running:
        print(
            f"podium up is not running for {args.file}: pid {snapshot.pid} is gone, and so may be its"
            " services; what it last saw:",
            file=sys.stderr,
        )
    print(render(snapshot))
    return 0 if running else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from podium.demo import DemoError, DemoOptions, run_demo, verify_run

    try:
        if args.verify:
            return verify_run(Path(args.verify))
        options = DemoOptions(
            transport=args.transport,
            broker_url=args.broker_url,
            payments=args.payments,
            db=args.db,
            faults=args.faults,
            check=args.check,
            run_dir=Path(args.run_dir) if args.run_dir else None,
            window=args.window,
            timeout=args.timeout,
            seed=args.seed,
            example=Path(args.example) if args.example else None,
            kill_orchestrator=args.kill_orchestrator,
        )
        return run_demo(options)
    except (DemoError, ValueError) as exc:
        raise UserError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
