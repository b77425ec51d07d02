"""The example the demo runs (examples/payment-saga), and its podium.yaml adapted to one run.

The demo runs the example's own podium.yaml, the file `podium up` runs, so that what the
demo shows is what a user deploys. For one run it changes only where things go and what
carries the commands: a database and a free port of the run's own, the chosen transport,
and the services' run directory (ledgers, health files) and fault file.

The example lives beside the package in a checkout (and an editable install), not inside
it; --example DIR or $PODIUM_DEMO_EXAMPLE point elsewhere.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

from podium.supervisor.config import ServiceSpec, UpConfig, load

EXAMPLE_ENV = "PODIUM_DEMO_EXAMPLE"
STATE_MACHINE = "PaymentSaga"
SERVICES = ("payment-auth", "risk", "pci-compliance", "transaction")
# A service asked to stop gets this long to finish its tasks: a stalled call (an injected
# fault) is not worth waiting for once the batch is over.
STOP_GRACE = 3.0


class ExampleError(Exception):
    """The example cannot be found or used: one line for the user."""


def find(explicit: Path | None = None) -> Path:
    """The example's directory: `explicit`, $PODIUM_DEMO_EXAMPLE, the checkout's, or ./examples'."""
    if explicit is not None:
        candidates = [explicit]
    else:
        env = os.environ.get(EXAMPLE_ENV)
        checkout = Path(__file__).resolve().parents[3] / "examples" / "payment-saga"
        candidates = [Path(env)] if env else [checkout, Path.cwd() / "examples" / "payment-saga"]
    for candidate in candidates:
        if (candidate / "podium.yaml").is_file():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise ExampleError(
        f"cannot find the payment saga example (looked in {tried}): run from a checkout of podium,"
        f" or give --example DIR (or ${EXAMPLE_ENV})"
    )


def load_config(example: Path) -> UpConfig:
    from podium.supervisor.config import ConfigError

    try:
        config = load(example / "podium.yaml")
    except ConfigError as exc:
        raise ExampleError(str(exc)) from None
    names = {s.name for s in config.services}
    missing = [name for name in SERVICES if name not in names]
    if missing or not any(m.name == STATE_MACHINE for m in config.state_machines):
        raise ExampleError(
            f"{example / 'podium.yaml'} does not declare the saga: it needs the state machine"
            f" {STATE_MACHINE} and the services {', '.join(SERVICES)}"
        )
    return config


def for_run(
    config: UpConfig,
    *,
    run_dir: Path,
    db: str,
    transport: str,
    broker_url: str | None,
    faults: str,
) -> UpConfig:
    """`config` with the run's database, a free loopback port, the transport, and the
    services pointed at the run directory and the fault file ("none" for none)."""
    server = replace(
        config.server, db=db, host="127.0.0.1", port=0, transport=transport, broker_url=broker_url
    )
    services = tuple(_service_for_run(s, run_dir, faults) for s in config.services)
    return replace(config, server=server, services=services)


def _service_for_run(spec: ServiceSpec, run_dir: Path, faults: str) -> ServiceSpec:
    environment = {**spec.environment, "PAYMENT_RUN_DIR": str(run_dir), "PAYMENT_FAULTS": faults}
    health = spec.health
    if health is not None and health.heartbeat is not None:
        # Not beside the example (a checkout's files), but in the run directory.
        heartbeat = replace(health.heartbeat, file=str(run_dir / "health" / "{worker}.heartbeat"))
        health = replace(health, heartbeat=heartbeat)
    return replace(
        spec,
        environment=environment,
        health=health,
        stop_grace=min(spec.stop_grace, STOP_GRACE),
    )


def check_faults(example: Path, faults: str) -> None:
    """Read the fault file as the services will, so that a mistake in it is reported now
    rather than as services that never start."""
    if faults == "none":
        return
    if not Path(faults).is_file():
        raise ExampleError(f"no such faults file: {faults}")
    module = _example_module(example, "payment_saga.faults")
    environ = {"PAYMENT_FAULTS": faults}
    for service in SERVICES:
        try:
            module.load(service, environ)
        except Exception as exc:
            raise ExampleError(f"{faults} cannot be used for {service}: {exc}") from None


def _example_module(example: Path, name: str) -> ModuleType:
    """A module of the example's package, imported from its directory without keeping that
    directory on sys.path."""
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(example))
    try:
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ExampleError(f"the example at {example} has no module {name}")
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(example))
