"""Task functions that the black-box tests' servers load (`--functions tests/blackbox/functions.py`).

They run inside the server process. `hand_over_token` is the callback pattern's other side: it
POSTs the task token it was given to a URL the test listens on (tests/blackbox/conftest.py's
`token_inbox`), so that a test thread can answer with SendTaskSuccess / SendTaskFailure.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from podium import TaskError

_failed_once: set[str] = set()
_lock = threading.Lock()


def double(event: Any) -> Any:
    """{"n": 3} -> {"n": 6}."""
    return {"n": event["n"] * 2}


def fail_once(event: Any) -> Any:
    """Fails (Work.Failed) the first time it sees a key, then returns its input: a task to redrive."""
    key = str(event["key"])
    with _lock:
        first = key not in _failed_once
        _failed_once.add(key)
    if first:
        raise TaskError("Work.Failed", f"first attempt for {key}")
    return event


def hand_over_token(event: Any) -> Any:
    """POSTs {"token", "key"} to event["url"]; the answer of the task comes later, with the token."""
    body = json.dumps({"token": event["token"], "key": event.get("key")}).encode()
    request = urllib.request.Request(
        event["url"], data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    return {"handed": True}


FUNCTIONS = {"double": double, "fail_once": fail_once, "hand_over_token": hand_over_token}
