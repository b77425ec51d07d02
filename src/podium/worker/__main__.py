"""`python -m podium.worker MODULE[:WORKER] [--transport T]`: run a worker module as a process.

MODULE is a dotted module name or a .py file; WORKER the name of its `Worker` (default: the
module's `worker`, else its only Worker). The transport, as `podium server` and `podium up`
name it (the same environment variables):

    --transport  http(s)://server    activities through podium's API
                 local               the same, at --endpoint ($PODIUM_ENDPOINT, else
                                     http://127.0.0.1:8083): the server's default transport
                 redis, rabbitmq     the broker at --broker-url ($PODIUM_BROKER_URL, else its default)
                 redis://, amqp://   a broker by URL
                 (default: $PODIUM_TRANSPORT, else local)

SIGTERM or Ctrl-C stops it gracefully (a second one at once). It exits 0 after a stop, 1 when
the broker cannot be reached at start (a supervisor tries again), 2 on a usage error. One
log line per task goes to stderr. Under `podium up`, $PODIUM_WORKER_ID names the replica and
$PODIUM_HEARTBEAT_FILE is kept fresh for its health check.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from podium.transports.base import TransportError
from podium.worker.worker import Worker

DEFAULT_ENDPOINT = "http://127.0.0.1:8083"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m podium.worker", description="Run a podium worker.")
    parser.add_argument(
        "target", metavar="MODULE[:WORKER]", help="a module (dotted name or .py file) and its Worker"
    )
    parser.add_argument(
        "--transport",
        default=env("PODIUM_TRANSPORT") or "local",
        help="http(s)://server, local, redis, rabbitmq or a broker URL ($PODIUM_TRANSPORT, else local)",
    )
    parser.add_argument("--endpoint", default=env("PODIUM_ENDPOINT") or DEFAULT_ENDPOINT, help="podium's API")
    parser.add_argument(
        "--broker-url", default=env("PODIUM_BROKER_URL"), help="the broker, for a transport kind"
    )
    parser.add_argument("--queue", help="the command queue or activity (default: the worker's)")
    parser.add_argument("--concurrency", type=int, help="handler threads (default: the worker's)")
    parser.add_argument("--grace", type=float, help="seconds to finish tasks in flight when stopping")
    parser.add_argument("--heartbeat-every", type=float, help="seconds between automatic heartbeats")
    parser.add_argument("--log-level", default=env("PODIUM_LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


def transport_target(transport: str, endpoint: str, broker_url: str | None) -> str:
    """What `Worker.start` takes for the --transport / --endpoint / --broker-url given."""
    from podium.transports.factory import parse_spec
    from podium.worker.sources import API_SCHEMES

    if transport.partition("://")[0].lower() in API_SCHEMES:
        return transport
    if transport.lower() in ("local", "activities"):
        return endpoint
    spec = parse_spec(transport, broker_url)
    assert spec.url is not None
    return spec.url


def load_worker(target: str) -> Worker:
    """The Worker `MODULE[:NAME]` names; LookupError saying why not."""
    from podium.connectors.functions import import_module

    module_name, _, attribute = target.rpartition(":") if _names_attribute(target) else (target, "", "")
    module = import_module(module_name)
    if attribute:
        found = getattr(module, attribute, None)
        if not isinstance(found, Worker):
            raise LookupError(f"{module_name} has no Worker named {attribute!r}")
        return found
    candidate = getattr(module, "worker", None)
    if isinstance(candidate, Worker):
        return candidate
    workers = {name: value for name, value in vars(module).items() if isinstance(value, Worker)}
    if len(workers) == 1:
        return next(iter(workers.values()))
    if not workers:
        raise LookupError(f"{module_name} defines no Worker")
    raise LookupError(
        f"{module_name} defines several Workers ({', '.join(sorted(workers))}): name one, MODULE:NAME"
    )


def _names_attribute(target: str) -> bool:
    head, colon, tail = target.rpartition(":")
    return bool(colon and head and tail.isidentifier())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        worker = load_worker(args.target)
        overrides: dict[str, Any] = {
            "queue": args.queue,
            "concurrency": args.concurrency,
            "grace": args.grace,
            "heartbeat_every": args.heartbeat_every,
        }
        worker.configure(**{k: v for k, v in overrides.items() if v is not None})
        worker.start(transport_target(args.transport, args.endpoint, args.broker_url))
    except (ImportError, LookupError, ValueError, TypeError) as exc:
        print(f"podium.worker: {exc}", file=sys.stderr)
        return 2
    except TransportError as exc:  # the broker is not there (yet): a supervisor starts us again
        print(f"podium.worker: {exc}", file=sys.stderr)
        return 1
    worker.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
