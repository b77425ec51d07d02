"""Shared by the catalog tests: a Service over a store, a settable clock, and a `call` that
checks the request against the API's input shape (as the HTTP layer does) and the response
against its output shape."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from podium.api.errors import ApiError
from podium.api.shapes import ApiShapes
from podium.service.registry import Response, Service
from podium.store.memory import MemoryStore
from podium.store.sqlite import SQLiteStore

for _module in ("state_machines", "versions", "aliases", "activities", "tags", "validate"):
    importlib.import_module(f"podium.service.{_module}")

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/podium"
START_MS = 1_700_000_000_000
SHAPES = ApiShapes.load()


def definition(result: Any = "one", comment: str | None = None) -> str:
    machine: dict[str, Any] = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Result": result, "End": True}},
    }
    if comment is not None:
        machine = {"Comment": comment, **machine}
    return json.dumps(machine)


class Clock:
    def __init__(self, now_ms: int = START_MS) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def advance(self, ms: int = 1000) -> None:
        self.now += ms


def make_service(store: Any) -> Service:
    return Service(engine=None, store=store, region=REGION, account=ACCOUNT, extras={"clock": Clock()})


STORES = ["memory", "sqlite"]


def service_over(kind: str, tmp_path: Path) -> Iterator[Service]:
    """A Service over a fresh store of that kind; for a fixture parametrized by STORES."""
    store: Any = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "podium.db")
    yield make_service(store)
    store.close()


def clock(service: Service) -> Clock:
    found = service.extras["clock"]
    assert isinstance(found, Clock)
    return found


def call(service: Service, operation: str, /, *, check_input: bool = True, **params: Any) -> Response:
    """The action's response, as a client would see it (None members left out)."""
    if check_input:
        params = SHAPES.check_input(operation, params)
    response = service.handle(operation, params)
    assert SHAPES.output_problems(operation, response) == []
    return {key: value for key, value in response.items() if value is not None}


def create(service: Service, name: str = "Orders", **params: Any) -> Response:
    params.setdefault("definition", definition())
    params.setdefault("roleArn", ROLE)
    return call(service, "CreateStateMachine", name=name, **params)


def machine_arn(name: str = "Orders") -> str:
    return f"{PREFIX}:stateMachine:{name}"


@contextmanager
def refused(error_type: str, message: str | None = None) -> Iterator[None]:
    """The block raises the API error `error_type` (with exactly `message`, if given)."""
    with pytest.raises(ApiError) as raised:
        yield
    assert raised.value.type == error_type, raised.value.message
    if message is not None:
        assert raised.value.message == message
