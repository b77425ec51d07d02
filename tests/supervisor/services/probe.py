"""Serve GET /health on $PORT: 200 for the first $HEALTHY_FOR seconds, 500 after."""

import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

STARTED = time.monotonic()
HEALTHY_FOR = float(os.environ.get("HEALTHY_FOR", "1e9"))


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = time.monotonic() - STARTED < HEALTHY_FOR
        self.send_response(200 if ok else 500)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"broken")

    def log_message(self, format: str, *args: object) -> None:
        pass


if os.environ.get("STARTS"):
    with open(os.environ["STARTS"], "a") as starts:
        starts.write(f"{os.environ['PODIUM_WORKER_ID']} {time.time()}\n")
HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Health).serve_forever()
