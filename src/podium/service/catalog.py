"""What the catalog actions share (state machines, versions, aliases, activities, tags).

The clock, the lock that keeps read-modify-write actions whole, timestamps as the API gives
them, tags, and paging. Pages are cut by the last key handed out, not by offset, so a page
stays right while items are created or deleted; the token is opaque to clients (base64 of a
small JSON document naming the list it belongs to).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from podium.api.errors import InvalidToken, TooManyTags
from podium.service.registry import Params, Service

T = TypeVar("T")

# The revision of a state machine that was never updated: AWS gives it no revisionId, and
# PublishStateMachineVersion accepts "INITIAL" for it.
INITIAL_REVISION = "INITIAL"

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_TAGS = 50

_LOCK = "podium.catalog_lock"
_CLOCK = "clock"  # a `Clock` in Service.extras wins over the engine's (tests set one)


def now_ms(service: Service) -> int:
    clock = service.extras.get(_CLOCK) or getattr(service.engine, "clock", None)
    if clock is not None:
        return int(clock.now_ms())
    return time.time_ns() // 1_000_000


def seconds(ms: int) -> float:
    """A store timestamp (epoch milliseconds) as the API gives it (epoch seconds)."""
    return ms / 1000


def revision_of(revision_id: str) -> str | None:
    """The revisionId a response shows: none for the initial revision."""
    return None if revision_id == INITIAL_REVISION else revision_id


def catalog_lock(service: Service) -> threading.RLock:
    """One lock for the catalog's read-modify-write actions (publish, update, create)."""
    lock: threading.RLock | None = service.extras.get(_LOCK)
    if lock is None:
        lock = service.extras.setdefault(_LOCK, threading.RLock())
    return lock


# --- tags ------------------------------------------------------------------------------------


def tags_of(params_tags: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """A request's tag list as a dict; a key given twice keeps its last value."""
    return {str(tag["key"]): str(tag.get("value", "")) for tag in params_tags or ()}


def check_tag_count(resource_arn: str, existing: Mapping[str, str], added: Mapping[str, str]) -> None:
    if len({**existing, **added}) > MAX_TAGS:
        raise TooManyTags(f"Too many tags: a resource can have at most {MAX_TAGS} tags: '{resource_arn}'")


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in tags.items()]


# --- paging ----------------------------------------------------------------------------------


def page_size(params: Params, *, maximum: int = MAX_PAGE_SIZE) -> int:
    """maxResults: 0 or absent means the default of 100."""
    size = params.get("maxResults") or 0
    return min(int(size), maximum) if size > 0 else DEFAULT_PAGE_SIZE


def _invalid_token() -> InvalidToken:
    return InvalidToken("Invalid Token: 'Invalid token'")


def encode_token(kind: str, after: Any) -> str:
    document = json.dumps({"list": kind, "after": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode()


def decode_token(token: str | None, kind: str) -> Any:
    """The key a token resumes after (None without a token); InvalidToken for a foreign one."""
    if token is None:
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise _invalid_token() from None
    if not isinstance(document, dict) or document.get("list") != kind or "after" not in document:
        raise _invalid_token()
    return document["after"]


def paginate(
    items: Sequence[T],
    params: Params,
    *,
    kind: str,
    key: Callable[[T], Any],
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The page of `items` (sorted by `key`) that `params` asks for, and the next page's token."""
    after = decode_token(params.get("nextToken"), kind)
    if after is not None:
        try:
            items = [item for item in items if (key(item) < after if descending else key(item) > after)]
        except TypeError:  # a token made by hand, with a key of another type
            raise _invalid_token() from None
    size = page_size(params)
    page = list(items[:size])
    token = encode_token(kind, key(page[-1])) if len(items) > size else None
    return page, token


def page_response(member: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A List* response: the items under `member`, and `nextToken` when there is more."""
    response: dict[str, Any] = {member: items}
    if token is not None:
        response["nextToken"] = token
    return response
