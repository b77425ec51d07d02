"""podium.yaml: what `podium up` runs, read and checked into frozen specs.

    server:                       # the podium server, run inside `up`'s process
      db: podium.db               # relative paths are relative to this file
      host: 127.0.0.1
      port: 8083                  # 0: a free port
      functions: [functions.py]   # modules of Python task functions
      connections: connections.yaml   # for HTTP tasks
      transport: redis            # command queues: local (default), redis, rabbitmq, or a URL
      broker_url: redis://127.0.0.1:6379/0
    state_machines:               # created, or updated when their definition changed
      PaymentSaga: {definition: saga.asl.yaml, type: STANDARD}
    activities: [payment-auth]    # created when missing
    services:
      payment-auth:
        command: python -m podium.worker payment.py   # a list, or a string split like a shell
        replicas: 2
        environment: {FAULT_RATE: "0.05"}
        working_dir: services
        port: 9100                # replica N gets 9100 + N - 1, as $PORT and {port}
        restart: always           # or on-failure
        backoff: {initial: 1s, max: 30s, factor: 2, reset_after: 60s}
        stop_grace: 10s
        health:
          http: {url: "http://127.0.0.1:{port}/health", timeout: 1s}
          heartbeat: {file: "run/{worker}.heartbeat", max_age: 10s}   # relative to working_dir
          period: 2s
          failure_threshold: 3
          start_period: 10s

{name}, {replica} (1, 2, ...), {worker} (`payment-auth-1`) and {port} are filled in per
replica in the command, the environment, the probe URL and the heartbeat file. Each replica
also gets PODIUM_SERVICE, PODIUM_REPLICA, PODIUM_WORKER_ID (its name, the worker SDK's
identity), PODIUM_ENDPOINT and AWS_ENDPOINT_URL_SFN (the server), PODIUM_TRANSPORT (the broker's
URL, or the server's for activities), PORT and PODIUM_HEARTBEAT_FILE when declared.

Why hand-written checks rather than a validation library: the file is small, and the user
should read every problem at once, in our words, with the field's dotted path and its line
in the file (`podium.yaml:14: services.payment-auth.replicas: must be an integer between 0
and 1000, not "two"`), unknown keys with a "did you mean". A library's messages would need translating
and its error locations carry no line numbers. Durations are seconds, or text like `500ms`,
`10s`, `2m`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from podium.supervisor.document import BIG, ConfigError, Path_, Problem, Reader, read_document, shown

__all__ = [
    "DEFAULT_FILE",
    "PLACEHOLDERS",
    "Backoff",
    "ConfigError",
    "HealthSpec",
    "HeartbeatCheck",
    "HttpProbe",
    "Problem",
    "RestartPolicy",
    "ServerSpec",
    "ServiceSpec",
    "StateMachineSpec",
    "UpConfig",
    "load",
    "parse",
]

DEFAULT_FILE = "podium.yaml"
RestartPolicy = Literal["always", "on-failure"]

# Placeholders a service may use in its command, environment, probe URL and heartbeat file.
PLACEHOLDERS = ("name", "replica", "worker", "port")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class HttpProbe:
    url: str  # may hold placeholders
    timeout: float = 1.0


@dataclass(frozen=True)
class HeartbeatCheck:
    file: str  # may hold placeholders; absolute once read
    max_age: float = 10.0


@dataclass(frozen=True)
class HealthSpec:
    http: HttpProbe | None = None
    heartbeat: HeartbeatCheck | None = None
    period: float = 2.0
    failure_threshold: int = 3
    start_period: float = 10.0


@dataclass(frozen=True)
class Backoff:
    """Kubernetes' CrashLoopBackOff: the delay doubles (by `factor`) per consecutive failure up
    to `max`, and a replica that ran `reset_after` seconds without failing starts over."""

    initial: float = 1.0
    max: float = 30.0
    factor: float = 2.0
    reset_after: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait before restarting after the `failures`-th consecutive failure (1-based)."""
        if failures <= 0:
            return 0.0
        return float(min(self.max, self.initial * self.factor ** (failures - 1)))


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    command: tuple[str, ...]
    replicas: int = 1
    environment: Mapping[str, str] = field(default_factory=dict)
    working_dir: Path | None = None
    port: int | None = None
    restart: RestartPolicy = "always"
    backoff: Backoff = field(default_factory=Backoff)
    stop_grace: float = 10.0
    health: HealthSpec | None = None

    def worker_name(self, replica: int) -> str:
        """The replica's name: its log prefix, and its $PODIUM_WORKER_ID (the worker SDK's identity)."""
        return f"{self.name}-{replica}"

    def port_of(self, replica: int) -> int | None:
        return None if self.port is None else self.port + replica - 1

    def expand(self, text: str, replica: int) -> str:
        """`text` with {name}, {replica}, {worker} and {port} filled in for one replica."""
        values = {
            "name": self.name,
            "replica": str(replica),
            "worker": self.worker_name(replica),
            "port": str(self.port_of(replica)),
        }
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


@dataclass(frozen=True)
class StateMachineSpec:
    name: str
    definition_file: Path
    definition: str  # JSON text (a YAML file is converted: the API hands definitions out as JSON)
    type: Literal["STANDARD", "EXPRESS"] = "STANDARD"


@dataclass(frozen=True)
class ServerSpec:
    db: str = "podium.db"
    host: str = "127.0.0.1"
    port: int = 8083
    functions: tuple[str, ...] = ()
    connections: str | None = None
    transport: str | None = None  # as `podium server --transport`; None: $PODIUM_TRANSPORT, else local
    broker_url: str | None = None
    region: str = "us-east-1"
    account: str = "000000000000"
    payload_limit: int = 256 * 1024
    credentials: str | None = None
    insecure: bool = False


@dataclass(frozen=True)
class UpConfig:
    file: Path
    server: ServerSpec
    state_machines: tuple[StateMachineSpec, ...] = ()
    activities: tuple[str, ...] = ()
    services: tuple[ServiceSpec, ...] = ()

    @property
    def state_file(self) -> Path:
        """Where `up` publishes its state for `ps`: beside the database (one `up` per database)."""
        db = self.server.db.removeprefix("sqlite:///")
        if db == ":memory:" or not db:
            return self.file.parent / f".{self.file.name}.supervisor.json"
        return Path(db + ".supervisor.json")


# --- reading -------------------------------------------------------------------------------------


def load(path: str | Path) -> UpConfig:
    """Read and check a podium.yaml; ConfigError names every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(file), [Problem("", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(file), [Problem("", f"cannot read it: {exc}")]) from None
    return parse(text, file)


def parse(text: str, file: Path) -> UpConfig:
    data, reader = read_document(text, str(file))
    config = _read_config(reader, data, file.resolve())
    if reader.problems or config is None:
        raise ConfigError(str(file), reader.problems)
    return config


def _read_config(r: Reader, data: Any, file: Path) -> UpConfig | None:
    top = r.mapping(data, (), ("server", "state_machines", "activities", "services"))
    if top is None:
        return None
    base = file.parent
    server = _read_server(r, top.get("server"), base)
    machines = _read_machines(r, top.get("state_machines"), base)
    activities = _read_activities(r, top)
    services = _read_services(r, top.get("services"), base)
    if server is None:
        return None
    if services and (server.transport or "").startswith("inprocess"):
        r.problem(
            ("server", "transport"),
            "inprocess queues live inside the server's process, where services started by `up` cannot"
            " reach them: use local, redis or rabbitmq",
        )
    return UpConfig(file, server, tuple(machines), tuple(activities), tuple(services))


def _relative(base: Path, value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base / path)


def _read_server(r: Reader, value: Any, base: Path) -> ServerSpec | None:
    path: Path_ = ("server",)
    known = (
        "db",
        "host",
        "port",
        "functions",
        "connections",
        "transport",
        "broker_url",
        "region",
        "account",
        "payload_limit",
        "credentials",
        "insecure",
    )
    m = r.mapping(value, path, known)
    if m is None:
        return None
    defaults = ServerSpec()
    db = r.string(m, "db", path, defaults.db) or defaults.db
    if db.startswith("sqlite:///"):
        db = "sqlite:///" + _relative(base, db.removeprefix("sqlite:///"))
    elif "://" in db:
        r.problem((*path, "db"), f"must be a SQLite file path or sqlite:///path, not {shown(db)}")
    elif db != ":memory:":
        db = _relative(base, db)
    functions = [_relative(base, f) if f.endswith(".py") else f for f in r.string_list(m, "functions", path)]
    credentials = r.string(m, "credentials", path)
    connections = r.string(m, "connections", path)
    transport, broker_url = r.string(m, "transport", path), r.string(m, "broker_url", path)
    if transport is not None or broker_url is not None:
        from podium.transports.factory import parse_spec

        try:
            parse_spec(transport, broker_url)
        except ValueError as exc:
            r.problem((*path, "transport" if transport is not None else "broker_url"), str(exc))
    return ServerSpec(
        db=db,
        host=r.string(m, "host", path, defaults.host) or defaults.host,
        port=r.integer(m, "port", path, defaults.port, 0, 65535),
        functions=tuple(functions),
        connections=_relative(base, connections) if connections else None,
        transport=transport,
        broker_url=broker_url,
        region=r.string(m, "region", path, defaults.region) or defaults.region,
        account=r.string(m, "account", path, defaults.account) or defaults.account,
        payload_limit=r.integer(m, "payload_limit", path, defaults.payload_limit, 1, BIG),
        credentials=_relative(base, credentials) if credentials else None,
        insecure=r.boolean(m, "insecure", path, False),
    )


def _read_machines(r: Reader, value: Any, base: Path) -> list[StateMachineSpec]:
    from podium.service.arns import is_valid_name

    machines = r.mapping(value, ("state_machines",))
    out = []
    for name, spec in (machines or {}).items():
        path: Path_ = ("state_machines", name)
        if not is_valid_name(name):
            r.problem(
                path,
                'is not a valid state machine name (1-80 characters; no spaces, <>{}[]?*"#%\\^|~`$&,;:/)',
            )
        if isinstance(spec, str):  # the short form: `Name: file.asl.yaml`
            spec = {"definition": spec}
        m = r.mapping(spec, path, ("definition", "type"))
        if m is None:
            continue
        type_ = r.choice(m, "type", path, ("STANDARD", "EXPRESS"), "STANDARD")
        file = r.required_string(m, "definition", path)
        if file is None:
            continue
        definition = _read_definition(r, (*path, "definition"), Path(_relative(base, file)), type_)
        if definition is not None:
            kind: Literal["STANDARD", "EXPRESS"] = "EXPRESS" if type_ == "EXPRESS" else "STANDARD"
            out.append(StateMachineSpec(name, Path(_relative(base, file)), definition, kind))
    return out


def _read_definition(r: Reader, path: Path_, file: Path, type_: str) -> str | None:
    """The definition as JSON text, checked as CreateStateMachine would check it."""
    from podium.asl.validation import decode_definition
    from podium.service.validate import diagnose

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        r.problem(path, f"no such file: {file}")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        r.problem(path, f"cannot read {file}: {exc}")
        return None
    diagnostics = diagnose(text, "EXPRESS" if type_ == "EXPRESS" else "STANDARD")
    for diagnostic in diagnostics[:10]:
        r.problem(path, f"{file.name}: {diagnostic}")
    if diagnostics:
        return None
    if text.lstrip().startswith("{"):
        return text
    return json.dumps(decode_definition(text).definition, indent=2, ensure_ascii=False)


def _read_activities(r: Reader, top: dict[str, Any]) -> list[str]:
    from podium.service.arns import is_valid_name

    names = r.string_list(top, "activities", ())
    for i, name in enumerate(names):
        if not is_valid_name(name):
            r.problem(("activities", i), f"{shown(name)} is not a valid activity name")
    return names


def _read_services(r: Reader, value: Any, base: Path) -> list[ServiceSpec]:
    services = r.mapping(value, ("services",))
    out = []
    for name, spec in (services or {}).items():
        path: Path_ = ("services", name)
        if not _SERVICE_NAME.match(name):
            r.problem(
                path,
                "a service name is 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit",
            )
        service = _read_service(r, name, spec, path, base)
        if service is not None:
            out.append(service)
    return out


_SERVICE_FIELDS = (
    "command",
    "replicas",
    "environment",
    "working_dir",
    "port",
    "restart",
    "backoff",
    "stop_grace",
    "health",
)


def _read_service(r: Reader, name: str, value: Any, path: Path_, base: Path) -> ServiceSpec | None:
    m = r.mapping(value, path, _SERVICE_FIELDS)
    if m is None:
        return None
    before = len(r.problems)
    command = _read_command(r, m.get("command"), (*path, "command"))
    replicas = r.integer(m, "replicas", path, 1, 0, 1000)
    port = m.get("port")
    if port is not None:
        port = r.integer(m, "port", path, 0, 1, 65535)
        if port + replicas - 1 > 65535:
            r.problem((*path, "port"), f"{port} + {replicas} replicas goes past port 65535")
    environment = _read_environment(r, m.get("environment"), (*path, "environment"))
    working_dir = r.string(m, "working_dir", path)
    workdir = Path(_relative(base, working_dir)) if working_dir else base
    if working_dir and not workdir.is_dir():
        r.problem((*path, "working_dir"), f"no such directory: {workdir}")
    restart = r.choice(m, "restart", path, ("always", "on-failure"), "always")
    backoff = _read_backoff(r, m.get("backoff"), (*path, "backoff"))
    stop_grace = r.duration(m, "stop_grace", path, 10.0, positive=False)
    health = _read_health(r, m.get("health"), (*path, "health"), workdir)
    if len(r.problems) > before or command is None:
        return None
    spec = ServiceSpec(
        name=name,
        command=tuple(command),
        replicas=replicas,
        environment=environment,
        working_dir=workdir,
        port=port,
        restart="on-failure" if restart == "on-failure" else "always",
        backoff=backoff,
        stop_grace=stop_grace,
        health=health,
    )
    if port is None:
        _no_port_placeholder(r, spec, path)
    return spec


def _read_command(r: Reader, value: Any, path: Path_) -> list[str] | None:
    if value is None or value in ("", []):
        r.problem(
            path, "is required: the program and its arguments (a list, or a string split as a shell would)"
        )
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)  # split, never run through a shell: no quoting surprises
        except ValueError as exc:
            r.problem(path, f"cannot be split into arguments: {exc}")
            return None
    if isinstance(value, list) and all(
        isinstance(a, str | int | float) and not isinstance(a, bool) for a in value
    ):
        return [str(a) for a in value]
    r.problem(path, f"must be a list of strings or a string, not {shown(value)}")
    return None


def _read_environment(r: Reader, value: Any, path: Path_) -> dict[str, str]:
    if isinstance(value, list):  # compose's other form: ["KEY=value", ...]
        out: dict[str, str] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str) or "=" not in item:
                r.problem((*path, i), f"must be KEY=value, not {shown(item)}")
            else:
                key, _, val = item.partition("=")
                out[key] = val
        return out
    m = r.mapping(value, path)
    out = {}
    for key, val in (m or {}).items():
        if isinstance(val, dict | list):
            r.problem((*path, key), f"must be a string, number or boolean, not {shown(val)}")
        else:
            out[key] = "" if val is None else (str(val).lower() if isinstance(val, bool) else str(val))
    return out


def _read_backoff(r: Reader, value: Any, path: Path_) -> Backoff:
    m = r.mapping(value, path, ("initial", "max", "factor", "reset_after"))
    if m is None:
        return Backoff()
    d = Backoff()
    backoff = Backoff(
        initial=r.duration(m, "initial", path, d.initial, positive=False),
        max=r.duration(m, "max", path, d.max, positive=False),
        factor=r.number(m, "factor", path, d.factor, 1.0),
        reset_after=r.duration(m, "reset_after", path, d.reset_after),
    )
    if backoff.max < backoff.initial:
        r.problem((*path, "max"), f"must be at least initial ({backoff.initial:g}s), not {backoff.max:g}s")
    return backoff


def _read_health(r: Reader, value: Any, path: Path_, workdir: Path) -> HealthSpec | None:
    if value is None:
        return None
    m = r.mapping(value, path, ("http", "heartbeat", "period", "failure_threshold", "start_period"))
    if m is None:
        return None
    d = HealthSpec()
    http = None
    heartbeat = None
    if m.get("http") is not None:
        hp: Path_ = (*path, "http")
        h = r.mapping(m["http"], hp, ("url", "timeout"))
        url = r.required_string(h, "url", hp) if h is not None else None
        if h is not None and url is not None:
            if not url.startswith(("http://", "https://")):
                r.problem((*hp, "url"), f"must be an http:// or https:// URL, not {shown(url)}")
            http = HttpProbe(url, r.duration(h, "timeout", hp, 1.0))
    if m.get("heartbeat") is not None:
        bp: Path_ = (*path, "heartbeat")
        b = r.mapping(m["heartbeat"], bp, ("file", "max_age"))
        file = r.required_string(b, "file", bp) if b is not None else None
        if b is not None and file is not None:
            heartbeat = HeartbeatCheck(_relative(workdir, file), r.duration(b, "max_age", bp, 10.0))
    if http is None and heartbeat is None and "http" not in m and "heartbeat" not in m:
        r.problem(path, "needs a check: http (a probe URL), heartbeat (a file the service touches), or both")
    return HealthSpec(
        http=http,
        heartbeat=heartbeat,
        period=r.duration(m, "period", path, d.period),
        failure_threshold=r.integer(m, "failure_threshold", path, d.failure_threshold, 1, 1000),
        start_period=r.duration(m, "start_period", path, d.start_period, positive=False),
    )


def _no_port_placeholder(r: Reader, spec: ServiceSpec, path: Path_) -> None:
    """{port} means nothing without a `port`: say so rather than run `--port None`."""
    places: list[tuple[Path_, str]] = [((*path, "command"), " ".join(spec.command))]
    places += [((*path, "environment", k), v) for k, v in spec.environment.items()]
    if spec.health and spec.health.http:
        places.append(((*path, "health", "http", "url"), spec.health.http.url))
    if spec.health and spec.health.heartbeat:
        places.append(((*path, "health", "heartbeat", "file"), spec.health.heartbeat.file))
    for where, text in places:
        if "{port}" in text:
            r.problem(where, "uses {port}, but the service declares no port")
