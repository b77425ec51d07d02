"""A small HTTP server on 127.0.0.1 for the HTTP task tests: it records what it receives.

Routes (any method):
    /echo              200 JSON: {method, path, query, headers: [[name, value]], body}
    /text              200 text/plain "hello, podium"
    /status/NNN        NNN with a JSON body (that AWS discards on failure)
    /flaky/KEY/N       503 for the first N calls of KEY, then 200 JSON {"calls": n}
    /slow/SECONDS      200 JSON after sleeping that long
    /binary            200 image/png
    /redirect          302 to /echo
    /empty             204, no body
    /big/BYTES         200 text/plain of that many bytes
    /token             OAuth token endpoint: {"access_token": "token-N", "expires_in": 3600}
    /protected         200 JSON if `Authorization: Bearer <the latest token>`, else 401
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


@dataclass
class Recorder:
    requests: list[Received] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    tokens_issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


class _Handler(BaseHTTPRequestHandler):
    recorder: Recorder  # set on the subclass each server makes

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        received = Received(self.command, parts.path, parts.query, list(self.headers.items()), body)
        rec = self.recorder
        with rec.lock:
            rec.requests.append(received)
            rec.calls[parts.path] += 1
            calls = rec.calls[parts.path]
        segments = [s for s in parts.path.split("/") if s]
        route = segments[0] if segments else ""
        if route == "echo":
            self._json(
                200,
                {
                    "method": self.command,
                    "path": parts.path,
                    "query": parts.query,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body": body.decode("utf-8", "replace"),
                },
            )
        elif route == "text":
            self._send(200, b"hello, podium", "text/plain; charset=utf-8")
        elif route == "status":
            self._json(int(segments[1]), {"message": "the server explains itself here"})
        elif route == "flaky":
            failures = int(segments[2])
            if calls <= failures:
                self._json(503, {"message": "try again"})
            else:
                self._json(200, {"calls": calls})
        elif route == "slow":
            time.sleep(float(segments[1]))
            self._json(200, {"slept": float(segments[1])})
        elif route == "binary":
            self._send(200, b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")
        elif route == "redirect":
            self.send_response(302)
            self.send_header("Location", "/echo")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "empty":
            self.send_response(204)
            self.end_headers()
        elif route == "big":
            self._send(200, b"x" * int(segments[1]), "text/plain")
        elif route == "token":
            with rec.lock:
                rec.tokens_issued += 1
                token = f"token-{rec.tokens_issued}"
            self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
        elif route == "protected":
            with rec.lock:
                expected = f"Bearer token-{rec.tokens_issued}"
            if self.headers.get("Authorization") == expected:
                self._json(200, {"ok": True})
            else:
                self._json(401, {"message": "expired"})
        else:
            self._json(404, {"message": "no such route"})

    # http.server's names for its per-method hooks
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle  # noqa: N815

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Head", "yes")
        self.end_headers()

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Multi", "one")
        self.send_header("X-Multi", "two")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass
class LocalServer:
    url: str
    recorder: Recorder


@contextmanager
def local_server() -> Iterator[LocalServer]:
    recorder = Recorder()
    handler = type("Handler", (_Handler,), {"recorder": recorder})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True  # a slow handler must not hold the test run at the end
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    try:
        yield LocalServer(f"http://127.0.0.1:{server.server_address[1]}", recorder)
    finally:
        server.shutdown()
        server.server_close()
