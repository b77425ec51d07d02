"""Task tokens: what a worker or a callback service holds to answer for one task.

A token names its task and proves it was handed out by podium:

    base64url(execution ARN + "\\n" + task id) + "." + HMAC-SHA256(key, same bytes)[:16] in hex

The key is the execution's own secret, drawn by the runtime when the execution starts and
journaled inside the StartExecution signal. So the core can mint the token (it must: the token
appears in `$$.Task.Token`, hence in payloads and history events, and replay must rebuild it
byte for byte) without reading anything but its signals; the API can tell a forged or mistyped
token (InvalidToken) from a genuine one whose task has closed (TaskTimedOut) with no lookup
table that a restart could lose; and anyone without read access to the database cannot forge
one. Tokens stay under AWS's 2048-character limit: an ARN is at most 256 characters.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

_MAC_HEX = 32  # 128 bits of the HMAC: enough against guessing, short enough to paste


@dataclass(frozen=True)
class TokenParts:
    execution_arn: str
    task_id: str
    mac: str


def _subject(execution_arn: str, task_id: str) -> bytes:
    return f"{execution_arn}\n{task_id}".encode()


def _mac(key: str, subject: bytes) -> str:
    return hmac.new(key.encode(), subject, hashlib.sha256).hexdigest()[:_MAC_HEX]


def mint(key: str, execution_arn: str, task_id: str) -> str:
    subject = _subject(execution_arn, task_id)
    encoded = base64.urlsafe_b64encode(subject).decode().rstrip("=")
    return f"{encoded}.{_mac(key, subject)}"


def parse(token: str) -> TokenParts | None:
    """The parts of a well-formed token (not yet verified), or None."""
    encoded, dot, mac = token.rpartition(".")
    if not dot or len(mac) != _MAC_HEX:
        return None
    try:
        subject = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    arn, newline, task_id = subject.rpartition("\n")
    if not newline or not arn or not task_id:
        return None
    return TokenParts(arn, task_id, mac)


def verify(key: str, parts: TokenParts) -> bool:
    expected = _mac(key, _subject(parts.execution_arn, parts.task_id))
    return hmac.compare_digest(expected, parts.mac)
