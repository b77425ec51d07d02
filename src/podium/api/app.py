"""The ASGI application: the Step Functions API over HTTP, and a health probe.

    POST /          AWS JSON 1.0 (X-Amz-Target: AWSStepFunctions.<Action>)
    GET  /health    {"ok": true, "version": ..., ...}: for probes, never signed

A request goes through, in order: the body limit (413), the signature when credentials are
configured (403), the action (400), the JSON body (400), the API's shapes (400), then the
service's handler on a worker thread (handlers block: SQLite, long polls), or, for the few
actions that have one, its form that runs on the event loop (StartExecution: its commit is
awaited, not waited for). Every failure is an AWS-shaped error; anything unexpected is
logged here with its traceback and reaches the client as a bare InternalFailure naming the
request id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from podium import __version__
from podium.api.auth import MAX_CLOCK_SKEW, Credentials, SigV4Verifier
from podium.api.errors import (
    ApiError,
    InternalFailure,
    RequestEntityTooLarge,
    SerializationException,
    UnknownOperationException,
)
from podium.api.protocol import (
    CONTENT_TYPE,
    action_of,
    check_content_type,
    decode_params,
    encode_error,
    encode_response,
)
from podium.api.shapes import DEFAULT_PAYLOAD_LIMIT, ApiShapes
from podium.runtime.entropy import ENTROPY

log = logging.getLogger("podium.api")
CONTENT_TYPE_BYTES = CONTENT_TYPE.encode("latin-1")

DEFINITION_LIMIT = 1024 * 1024  # the model's largest string member (Definition)
# Actions that may hold their thread for a long time (a 60 s long poll, a synchronous
# execution): they get their own pool so that a fleet of polling workers cannot starve
# StartExecution and the rest. Pools start threads only as they need them.
LONG_ACTIONS = frozenset({"GetActivityTask", "StartSyncExecution"})
SHORT_THREADS = 64
LONG_THREADS = 1024
# A body over the limit is still read (and dropped) up to this multiple of the limit: a
# client still sending when the server closes the connection sees a reset, not the 413.
_DRAIN_FACTOR = 4


_LoopCall = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class ServicePort(Protocol):
    """What the API calls: `podium.service.registry.Service`, or a fake in tests."""

    def handle(self, name: str, params: dict[str, Any]) -> dict[str, Any]: ...

    # Optional: `loop_handler(name)` gives the form of an action that runs on the event loop
    # (an async callable of the params), or None to run `handle` on a thread.


@dataclass(frozen=True)
class ApiSettings:
    """How the HTTP layer checks requests.

    `payload_limit`: the largest input, output or other payload member, in UTF-8 bytes.
    `body_limit`: the largest request body; by default room for the largest member (a 1 MiB
    definition, or a payload) at JSON's worst-case escaping, where a string grows six-fold.
    `credentials`: when given, every API request must be signed by one of them (SigV4).
    `check_responses`: check every response against the API's output shape and turn a
    mismatch into a 500 (for tests and development; costs a walk of each response).
    """

    payload_limit: int = DEFAULT_PAYLOAD_LIMIT
    body_limit: int | None = None
    credentials: Credentials | None = None
    max_clock_skew: float = MAX_CLOCK_SKEW
    check_responses: bool = False

    @property
    def effective_body_limit(self) -> int:
        if self.body_limit is not None:
            return self.body_limit
        return 6 * max(self.payload_limit, DEFINITION_LIMIT)


def create_app(
    service: ServicePort,
    settings: ApiSettings | None = None,
    *,
    startup: Callable[[], None] | None = None,
    shutdown: Callable[[], None] | None = None,
    health: Callable[[], Mapping[str, Any]] | None = None,
    shapes: ApiShapes | None = None,
) -> PodiumApp:
    """The ASGI app serving `service`.

    `startup` and `shutdown` run (on a thread) when the ASGI server starts and stops the app:
    the place to start and stop the engine. `health` adds what it returns to GET /health.
    """
    settings = settings or ApiSettings()
    api = _Api(service, settings, shapes or ApiShapes.load(payload_limit=settings.payload_limit), health)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if startup is not None:
            await asyncio.to_thread(startup)
        try:
            yield
        finally:
            try:
                if shutdown is not None:
                    await asyncio.to_thread(shutdown)
            finally:
                api.close()

    rest = Starlette(
        routes=[Route("/", api.handle, methods=["POST"]), Route("/health", api.health, methods=["GET"])],
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    return PodiumApp(api, rest)


class PodiumApp:
    """The ASGI app: `POST /` (every API call) goes straight to the API's own ASGI handler,
    the rest (GET /health, 404s, 405s, the lifespan) to Starlette. Starlette's request,
    routing and middleware cost about as much per call as the rest of the HTTP layer, and
    POST / needs none of them."""

    def __init__(self, api: _Api, rest: Starlette) -> None:
        self._api = api
        self._rest = rest

    def lifespan(self) -> contextlib.AbstractAsyncContextManager[object]:
        """The app's startup and shutdown, for running it without an ASGI server (tests)."""
        return self._rest.router.lifespan_context(self._rest)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/":
            await self._api.serve(scope, receive, send)
        else:
            await self._rest(scope, receive, send)


class _Api:
    def __init__(
        self,
        service: ServicePort,
        settings: ApiSettings,
        shapes: ApiShapes,
        health: Callable[[], Mapping[str, Any]] | None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.shapes = shapes
        self.body_limit = settings.effective_body_limit
        self.verifier = None
        if settings.credentials:
            self.verifier = SigV4Verifier(settings.credentials, max_clock_skew=settings.max_clock_skew)
        self._health = health
        # The service's actions that run on the event loop itself (ServicePort.loop_handler).
        self._loop_handler: Callable[[str], _LoopCall | None] | None = getattr(service, "loop_handler", None)
        # Plain executors rather than anyio.to_thread: the hop costs about 55 us less CPU
        # per request (measured through uvicorn), a fifth of the layer's whole cost.
        self._short = ThreadPoolExecutor(SHORT_THREADS, thread_name_prefix="podium-api")
        self._long = ThreadPoolExecutor(LONG_THREADS, thread_name_prefix="podium-api-long")

    def close(self) -> None:
        # A request still running (a long poll) keeps its thread; nothing waits for it here.
        for pool in (self._short, self._long):
            pool.shutdown(wait=False, cancel_futures=True)

    async def handle(self, request: Request) -> Response:
        """POST / through Starlette (PodiumApp normally sends it to `serve` first)."""
        status, headers, body = await self._answer(request.scope, request.receive)
        return Response(body, status_code=status, headers=dict(headers), media_type=CONTENT_TYPE)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST / as a raw ASGI handler."""
        status, headers, body = await self._answer(scope, receive)
        raw = [(b"content-type", CONTENT_TYPE_BYTES), (b"content-length", str(len(body)).encode())]
        raw.extend((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers)
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, list[tuple[str, str]], bytes]:
        """(status, headers, body) of an API call: the request checked in order, then handled."""
        request_id = ENTROPY.uuid4()
        headers = [("x-amzn-RequestId", request_id)]  # botocore reads it into ResponseMetadata
        action = "?"
        try:
            target = content_type = declared = None
            for name, value in scope["headers"]:
                if name == b"x-amz-target":
                    target = value.decode("latin-1")
                elif name == b"content-type":
                    content_type = value.decode("latin-1")
                elif name == b"content-length":
                    declared = value.decode("latin-1")
            body = await self._read_body(receive, declared)
            if self.verifier is not None:
                raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
                self.verifier.verify(
                    scope["method"],
                    raw_path.decode("latin-1"),
                    scope.get("query_string", b"").decode("latin-1"),
                    [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
                    body,
                )
            action = action_of(target)
            if action not in self.shapes.operations:
                raise _unknown_action(action)
            check_content_type(content_type)
            params = self.shapes.check_input(action, decode_params(body))
            on_loop = self._loop_handler(action) if self._loop_handler is not None else None
            if on_loop is not None:
                result = await on_loop(params)
            else:
                pool = self._long if action in LONG_ACTIONS else self._short
                loop = asyncio.get_running_loop()
                # Cancelled (a server shutting down), the await ends at once; the thread finishes alone.
                result = await loop.run_in_executor(pool, self.service.handle, action, params)
            if self.settings.check_responses:
                self._check_response(action, result)
            return 200, headers, encode_response(result)
        except ApiError as exc:
            return exc.status, headers, encode_error(exc.type, exc.message)
        except ClientDisconnect:
            # The client went away before sending its whole body: nobody to answer, no failure.
            log.debug("request %s: the client disconnected before sending its body", request_id)
            return 400, headers, encode_error("ClientDisconnected", "The client disconnected")
        except Exception:
            log.exception("request %s (%s) failed", request_id, action)
            message = (
                f"The request processing has failed because of an unknown error (request id {request_id})"
            )
            return 500, headers, encode_error("InternalFailure", message)

    async def health(self, request: Request) -> Response:
        info: dict[str, Any] = {"ok": True, "version": __version__}
        if self._health is not None:
            try:
                info.update(await asyncio.to_thread(self._health))
            except Exception as exc:
                log.exception("health check failed")
                return JSONResponse({**info, "ok": False, "error": type(exc).__name__}, status_code=503)
        return JSONResponse(info)

    async def _read_body(self, receive: Receive, declared: str | None) -> bytes:
        if declared is not None and not declared.strip().isdigit():
            raise SerializationException(f"Invalid Content-Length header: {declared!r}")
        limit = self.body_limit
        size = int(declared) if declared is not None else 0
        if size > _DRAIN_FACTOR * limit:
            raise _too_large(size, limit)  # not worth reading: the connection just closes
        chunks: list[bytes] = []
        received = 0
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received <= limit:
                chunks.append(chunk)
            elif received > _DRAIN_FACTOR * limit:
                break
            if not message.get("more_body", False):
                break
        if received > limit:
            raise _too_large(max(size, received), limit)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _check_response(self, action: str, result: dict[str, Any]) -> None:
        problems = self.shapes.output_problems(action, result)
        if problems:
            log.error("%s returned a response outside its shape: %s", action, "; ".join(problems))
            raise InternalFailure(f"{action} returned a response outside its shape: {'; '.join(problems)}")


def _too_large(size: int, limit: int) -> ApiError:
    return RequestEntityTooLarge(f"Request body of {size} bytes exceeds the limit of {limit} bytes")


def _unknown_action(action: str) -> ApiError:
    return UnknownOperationException(f"Unknown operation: {action} is not an action of AWS Step Functions")


def _headers(request_id: str) -> dict[str, str]:
    # botocore reads this header into ResponseMetadata["RequestId"].
    return {"x-amzn-RequestId": request_id}


def _error_response(type: str, message: str, status: int, request_id: str) -> Response:
    return Response(
        encode_error(type, message), status_code=status, headers=_headers(request_id), media_type=CONTENT_TYPE
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    request_id = ENTROPY.uuid4()
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path} (allowed: {allowed})"
        response = _error_response("MethodNotAllowed", message, 405, request_id)
        response.headers["Allow"] = allowed
        return response
    if exc.status_code == 404:
        message = f"No such path {request.url.path}: the Step Functions API is POST / (and GET /health)"
        return _error_response("NotFound", message, 404, request_id)
    return _error_response("HttpError", str(exc.detail), exc.status_code, request_id)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Reached only by errors outside the API's own handler (routing, the health endpoint).
    request_id = ENTROPY.uuid4()
    log.error("request %s failed", request_id, exc_info=exc)
    return _error_response(
        "InternalFailure", f"An internal error occurred (request id {request_id})", 500, request_id
    )
