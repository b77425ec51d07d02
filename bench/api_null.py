"""A server that does nothing, for calibrating the API benchmark: `python -m bench.api_null`.

It answers every `POST /` with a canned StartExecution response (and GET /health with
`{"executions": {"running": 0}}`) from uvicorn with httptools, as `podium server` is served,
but without parsing the request, a store or an interpreter. The calls/s that the benchmark's
boto3 clients reach against it is the most the client side of the measurement can produce on
this machine: the ceiling of the setup, printed beside podium's figure. Prints
`null listening on http://127.0.0.1:PORT` and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import uvicorn

_ANSWER = json.dumps(
    {
        "executionArn": "arn:aws:states:us-east-1:000000000000:execution:bench-standard:null",
        "startDate": 1.7e9,
    }
).encode()
_HEALTH = json.dumps({"ok": True, "executions": {"running": 0}}).encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the body, as any server must
        message = await receive()
        more = message.get("more_body", False)
    body = _HEALTH if scope["method"] == "GET" else _ANSWER
    content_type = b"application/json" if scope["method"] == "GET" else b"application/x-amz-json-1.0"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def main() -> int:
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Served as `podium server` is (uvicorn's run: uvloop, httptools), so that only the work
    # behind the socket differs.
    config = uvicorn.Config(
        app, lifespan="off", log_config=None, access_log=False, ws="none", server_header=False
    )
    print(f"null listening on http://127.0.0.1:{port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
