"""moto in server mode for the API benchmark: `python -m bench.api_moto`.

Starts `moto.server.ThreadedMotoServer` on a free loopback port, prints
`moto listening on http://127.0.0.1:PORT`, and serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading


def main() -> int:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # server mode needs Flask: moto[server]
        print(f"moto server mode is not installed ({exc}): pip install 'moto[server]'", flush=True)
        return 3

    # moto's interpreter logs every execution error with a dump of its AST.
    logging.getLogger("moto").setLevel(logging.CRITICAL + 1)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"moto listening on http://{host}:{port}", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
