"""One write per response: the response head waits for its body, and nothing waits longer
than the event loop's current turn."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from podium.api.coalescing import CoalescingHttpToolsProtocol, CoalescingTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Recording(asyncio.Transport):
    """A transport that keeps what is written to it, write by write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1234) if name == "peername" else default


def test_a_head_and_its_body_go_out_as_one_write() -> None:
    async def scenario() -> list[bytes]:
        inner = Recording()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(HEAD)
        assert inner.writes == []  # held for the body
        transport.write(b"{}")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [HEAD + b"{}"]


def test_a_head_alone_goes_out_at_the_end_of_the_loops_turn() -> None:
    async def scenario() -> list[bytes]:
        inner = Recording()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"HTTP/1.1 204 No Content\r\n\r\n"]


def test_other_writes_go_out_at_once_and_in_order() -> None:
    async def scenario() -> list[bytes]:
        inner = Recording()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"chunk-1")
        transport.write(HEAD)
        transport.write(memoryview(b"ab"))
        transport.write(b"chunk-2")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(scenario()) == [b"chunk-1", HEAD + b"ab", b"chunk-2"]


def test_close_sends_a_held_head_first_and_abort_drops_it() -> None:
    async def scenario() -> tuple[Recording, Recording]:
        loop = asyncio.get_running_loop()
        closed, aborted = Recording(), Recording()
        first = CoalescingTransport(closed, loop)
        first.write(HEAD)
        first.close()
        second = CoalescingTransport(aborted, loop)
        second.write(HEAD)
        second.abort()
        await asyncio.sleep(0)  # the flush scheduled by the writes finds nothing to send
        return closed, aborted

    closed, aborted = asyncio.run(scenario())
    assert closed.writes == [HEAD] and closed.closed
    assert aborted.writes == [] and aborted.aborted


def test_the_rest_of_the_transport_is_the_sockets_own() -> None:
    async def scenario() -> None:
        inner = Recording()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        assert transport.get_extra_info("peername") == ("127.0.0.1", 1234)
        transport.write(HEAD)
        assert transport.get_write_buffer_size() == len(HEAD)
        transport.write(b"{}")

    asyncio.run(scenario())


# --- through uvicorn, over a real socket -----------------------------------------------------


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/stream":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
    else:
        body = b'{"path": "%s"}' % path.encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@contextmanager
def uvicorn_serving(protocol: type[asyncio.Protocol]) -> Iterator[int]:
    """`app` served by uvicorn with `protocol`, on a thread; the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=protocol, lifespan="off", log_config=None, access_log=False, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def served() -> Iterator[int]:
    with uvicorn_serving(CoalescingHttpToolsProtocol) as port:
        yield port


def test_responses_through_uvicorn_are_whole_and_in_order(served: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        for index in range(20):  # one keep-alive connection, response after response
            connection.request("POST", f"/call-{index}", body=b"{}")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == b'{"path": "/call-%d"}' % index
        connection.request("GET", "/empty")
        response = connection.getresponse()
        assert response.status == 204 and response.read() == b""
        connection.request("GET", "/stream")
        response = connection.getresponse()
        assert response.status == 200 and response.read() == b"one,two,three"
        connection.request("HEAD", "/head")
        response = connection.getresponse()
        assert response.status == 200 and response.read() == b""
        assert response.getheader("content-length") == str(len(b'{"path": "/head"}'))
    finally:
        connection.close()


class Counted:
    """The socket's transport, with its writes counted."""

    writes: list[bytes] = []

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: Any) -> None:
        Counted.writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CountingProtocol(CoalescingHttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(Counted(transport))  # type: ignore[arg-type]


def test_each_response_is_one_write_on_the_socket() -> None:
    Counted.writes = []
    with (
        uvicorn_serving(CountingProtocol) as port,
        socket.create_connection(("127.0.0.1", port), timeout=10) as client,
    ):
        for _ in range(10):
            client.sendall(b"POST /x HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n")
            received = b""
            while not received.endswith(b'{"path": "/x"}'):
                received += client.recv(65536)
    assert len(Counted.writes) == 10
    assert all(w.startswith(b"HTTP/1.1 200 OK") and w.endswith(b'{"path": "/x"}') for w in Counted.writes)
