"""Fixtures of the black-box suite: `podium server` processes, boto3 clients, a token inbox.

The session's servers are shared by every test of the suite (they start in about a second
each): every test names its resources uniquely (`names`), so that tests never see each
other's state machines or executions.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.blackbox.process import CORPUS_FUNCTIONS, TEST_FUNCTIONS, PodiumProcess, client

SIGNING_KEY, SIGNING_SECRET = "AKIDPODIUMBLACKBOX", "blackbox-secret-key"


def _run(process: PodiumProcess) -> Iterator[PodiumProcess]:
    process.start()
    try:
        yield process
    finally:
        status = process.stop()
    # A clean stop, and nothing unexpected along the way (an InternalFailure logs its traceback).
    assert status == 0, f"podium server exited with {status}:\n{process.stderr}"
    assert "Traceback" not in process.stderr, process.stderr


@pytest.fixture(scope="session")
def podium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodiumProcess]:
    """The suite's server: a temp SQLite file, the corpus's functions and the tests' own."""
    db = tmp_path_factory.mktemp("podium") / "podium.db"
    functions = ("--functions", str(CORPUS_FUNCTIONS), "--functions", str(TEST_FUNCTIONS))
    yield from _run(PodiumProcess(db, *functions))


@pytest.fixture(scope="session")
def endpoint(podium: PodiumProcess) -> str:
    return podium.endpoint


@pytest.fixture(scope="session")
def sfn(endpoint: str) -> Any:
    """A boto3 `stepfunctions` client of the suite's server (no host prefix, no retries)."""
    return client(endpoint)


@pytest.fixture(scope="session")
def signed_podium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodiumProcess]:
    """A server that requires every request to be signed (SigV4) by SIGNING_KEY."""
    directory = tmp_path_factory.mktemp("signed")
    credentials = directory / "credentials"
    credentials.write_text(f"# the only key\n{SIGNING_KEY}:{SIGNING_SECRET}\n")
    yield from _run(PodiumProcess(directory / "podium.db", "--credentials", str(credentials)))


@pytest.fixture
def names(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Unique resource names for this test: names("order") -> "order-<test>-<random>"."""
    test = "".join(c if c.isalnum() else "-" for c in request.node.name)[:30].strip("-")

    def make(prefix: str) -> str:
        return f"{prefix}-{test}-{uuid.uuid4().hex[:8]}"[:80]

    return make


class TokenInbox:
    """An HTTP endpoint that the server's `hand_over_token` function POSTs task tokens to."""

    def __init__(self) -> None:
        self._queues: dict[str, queue.Queue[str]] = {}
        self._lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                message = json.loads(self.rfile.read(length))
                inbox._queue(str(message["key"])).put(message["token"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _queue(self, key: str) -> queue.Queue[str]:
        with self._lock:
            return self._queues.setdefault(key, queue.Queue())

    def token(self, key: str, timeout: float = 20.0) -> str:
        """The token handed over for `key`, waiting for it up to `timeout` seconds."""
        try:
            return self._queue(key).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no task token was handed over for {key!r} within {timeout} s") from None

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def token_inbox() -> Iterator[TokenInbox]:
    inbox = TokenInbox()
    try:
        yield inbox
    finally:
        inbox.close()
