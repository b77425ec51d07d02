"""A fake Service and an in-process HTTP client for the API's protocol-level tests."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from podium.api.app import ApiSettings, PodiumApp, create_app
from podium.api.protocol import CONTENT_TYPE, TARGET_PREFIX

Handler = Callable[[dict[str, Any]], dict[str, Any]]
LoopHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
MACHINE_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:hello"


class FakeService:
    """Answers ListStateMachines with one machine; other actions as the test scripts them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.handlers: dict[str, Handler] = {
            "ListStateMachines": lambda params: {
                "stateMachines": [
                    {"stateMachineArn": MACHINE_ARN, "name": "hello", "type": "STANDARD", "creationDate": 1.5}
                ]
            }
        }
        self.loop_handlers: dict[str, LoopHandler] = {}  # actions with a form for the event loop

    def loop_handler(self, name: str) -> LoopHandler | None:
        return self.loop_handlers.get(name)

    def handle(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        from podium.api.errors import UnknownOperationException

        self.calls.append((name, params))
        handler = self.handlers.get(name)
        if handler is None:
            raise UnknownOperationException(f"Unknown operation: {name}")
        return handler(params)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def service() -> FakeService:
    return FakeService()


AppFactory = Callable[..., PodiumApp]


@pytest.fixture
def make_app(service: FakeService) -> AppFactory:
    def make(settings: ApiSettings | None = None, **kwargs: Any) -> PodiumApp:
        return create_app(service, settings or ApiSettings(check_responses=True), **kwargs)

    return make


@pytest.fixture
async def client(make_app: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(make_app()) as c:
        yield c


@contextlib.asynccontextmanager
async def http_client(app: PodiumApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, inside the app's lifespan (as a server runs it)."""
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8083") as client:
            yield client


def headers(action: str, content_type: str | None = CONTENT_TYPE) -> dict[str, str]:
    out = {"X-Amz-Target": f"{TARGET_PREFIX}{action}"}
    if content_type is not None:
        out["Content-Type"] = content_type
    return out


async def call(client: httpx.AsyncClient, action: str, params: Any = None, **kwargs: Any) -> httpx.Response:
    """POST one action, as boto3 would."""
    body = kwargs.pop("content", None)
    if body is None:
        body = json.dumps({} if params is None else params).encode()
    return await client.post(
        "/", content=body, headers=kwargs.pop("headers", None) or headers(action), **kwargs
    )


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["__type"], body["message"]
