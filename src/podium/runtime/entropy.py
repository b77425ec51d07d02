"""Unpredictable ids and secrets without a system call each: the runtime's random source.

Every StartExecution draws a seed and a task-token key for its execution, and every API call
a request id. `os.urandom` (behind `secrets` and `uuid.uuid4`) is a getrandom() call that
releases the GIL: on a busy server another thread takes it, and the event loop waits to get
it back. Three of them per StartExecution were a tenth of the event loop's time under load.

Here the OS gives 32 bytes once, as the key of BLAKE2b, a pseudo-random function; each draw
is that function of a counter that never repeats within the process. Without the key the
draws cannot be told from random, and no draw reveals another (BLAKE2b keyed is a MAC, so a
PRF). A forked child takes a new key, so that it does not repeat its parent's draws.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterator


class Entropy:
    """Draws of 16 unpredictable bytes, safe to call from any thread."""

    def __init__(self, key: bytes | None = None) -> None:
        self._rekey(key)

    def _rekey(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else os.urandom(32)
        # next() of an itertools.count is atomic under the GIL: no lock, no two equal counters.
        self._counter: Iterator[int] = itertools.count()

    def token_bytes(self) -> bytes:
        block = next(self._counter).to_bytes(16, "little")
        return hashlib.blake2b(block, key=self._key, digest_size=16).digest()

    def randbits128(self) -> int:
        return int.from_bytes(self.token_bytes(), "little")

    def token_hex(self) -> str:
        """32 hex digits, as `secrets.token_hex(16)` gives."""
        return self.token_bytes().hex()

    def uuid4(self) -> str:
        """A random (version 4, RFC 9562 variant) UUID in its canonical text form."""
        raw = bytearray(self.token_bytes())
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


ENTROPY = Entropy()  # the process's one source; the tests make their own with a fixed key

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=ENTROPY._rekey)
