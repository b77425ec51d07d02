"""One write per response: uvicorn's HTTP protocol with the response's head held for its body.

uvicorn writes a response's status line and headers as soon as the app sends
`http.response.start`, then the body as a second write: two send() calls on the socket,
two TCP segments, and on loopback two wake-ups of the client, which reads the head and the
body separately. On loopback the sender pays for the receiver's wake-up inside send(): the
two writes were a quarter of the event loop's time under StartExecution load on this
project's benchmark machine, the second about half as much as the first.

The transport given to uvicorn's protocol holds a response's head until the next write
(the body, which the API sends at once) and sends both in one. A head with no write after
it (a 204, a HEAD request, a body the app sends later) goes out when the event loop has run
the current callback, so nothing waits longer than that.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_HEAD = b"HTTP/"  # every response head uvicorn writes begins with its status line


class CoalescingTransport:
    """A transport that holds a response head until the next write or the loop's next turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + bytes(data))
        elif bytes(data[:5]) == _HEAD:
            self._held = bytes(data)
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        held = self._held
        return self._transport.get_write_buffer_size() + (len(held) if held is not None else 0)

    def __getattr__(self, name: str) -> Any:
        # Everything else (get_extra_info, is_closing, pause_reading, ...) is the socket's own.
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through a CoalescingTransport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
