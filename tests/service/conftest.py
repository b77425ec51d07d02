"""A Service on a real engine, as the server assembles it, over each store (memory and SQLite).

Actions are called through `Service.handle`, the same entry the HTTP layer uses, with
parameters as the API takes them (already valid against the API's shapes).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from podium.connectors.functions import FunctionConnector, FunctionRegistry
from podium.runtime.engine import Engine
from podium.service import engines
from podium.service.assembly import load_actions
from podium.service.registry import Service
from podium.store.base import Store
from podium.store.memory import MemoryStore
from podium.store.sqlite import SQLiteStore

ROLE = "arn:aws:iam::123456789012:role/podium-test"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class Harness:
    """A running service and the helpers tests use to drive it."""

    def __init__(
        self, store: Store, functions: dict[str, Callable[[Any], Any]], db: str | None = None
    ) -> None:
        self.db = db
        self.functions = FunctionRegistry(dict(functions))
        self.store = store
        self.executor = ThreadPoolExecutor(max_workers=4)
        load_actions()
        self.engine = Engine(store, connectors=[FunctionConnector(self.functions, self.executor)])
        self.service = Service(engine=self.engine, store=store)
        self.service.extras[engines.LONG_POLL] = 2.0
        engines.on_start(self.service)
        self.engine.start()

    def stop(self) -> None:
        engines.on_stop(self.service)
        self.engine.stop()
        self.executor.shutdown(wait=True)

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        return self.service.handle(action, params)

    def machine(self, name: str, definition: dict[str, Any] | str, **params: Any) -> str:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        response = self.call("CreateStateMachine", name=name, definition=text, roleArn=ROLE, **params)
        return str(response["stateMachineArn"])

    def start(self, machine_arn: str, value: Any = None, **params: Any) -> str:
        if value is not None:
            params["input"] = json.dumps(value)
        return str(self.call("StartExecution", stateMachineArn=machine_arn, **params)["executionArn"])

    def describe(self, arn: str) -> dict[str, Any]:
        return self.call("DescribeExecution", executionArn=arn)

    def wait(self, arn: str, timeout: float = 15, status: tuple[str, ...] = TERMINAL) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            described = self.describe(arn)
            if described["status"] in status or time.monotonic() > deadline:
                return described
            time.sleep(0.02)

    def history(self, arn: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.call("GetExecutionHistory", executionArn=arn, maxResults=1000, **params)["events"])

    def types(self, arn: str) -> list[str]:
        return [event["type"] for event in self.history(arn)]

    def wait_for_event(self, arn: str, event_type: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.history(arn):
                if event["type"] == event_type:
                    return event
            time.sleep(0.02)
        raise AssertionError(f"no {event_type} in {self.types(arn)}")


def in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `target` in a thread; its result (or exception) lands in the returned list."""
    result: list[Any] = []

    def body() -> None:
        try:
            result.append(target())
        except BaseException as exc:  # handed to the test to raise
            result.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, result


@pytest.fixture(params=["memory", "sqlite"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """A running service; tests register the functions they need (`harness.functions.register`)."""
    db = str(tmp_path / "podium.db")
    store: Store = MemoryStore() if request.param == "memory" else SQLiteStore(db)
    running = Harness(store, {}, None if request.param == "memory" else db)
    yield running
    running.stop()
    store.close()
