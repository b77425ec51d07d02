"""The runtime's random source: ids and secrets that do not repeat and cannot be predicted
from one another, drawn without a system call each."""

from __future__ import annotations

import os
import re
import threading
import uuid

import pytest

from podium.runtime.entropy import ENTROPY, Entropy

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_uuid4_is_a_canonical_version_4_uuid() -> None:
    for _ in range(200):
        text = ENTROPY.uuid4()
        assert UUID4.match(text), text
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_token_hex_and_randbits_have_their_sizes() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", ENTROPY.token_hex())
    draws = [ENTROPY.randbits128() for _ in range(200)]
    assert all(0 <= d < 2**128 for d in draws)
    assert max(draws).bit_length() > 120  # 128 random bits, not a small counter


def test_draws_do_not_repeat_across_threads() -> None:
    source = Entropy()
    seen: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [source.token_hex() for _ in range(2000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16000 and len(set(seen)) == 16000


def test_the_key_decides_the_draws() -> None:
    # Same key, same sequence (the draws are a function of the key and a counter); another
    # key, another sequence: without the key they cannot be foretold.
    a, b, c = Entropy(b"k" * 32), Entropy(b"k" * 32), Entropy(b"j" * 32)
    first = [a.token_hex() for _ in range(5)]
    assert first == [b.token_hex() for _ in range(5)]
    assert not set(first) & {c.token_hex() for _ in range(5)}
    assert len(set(first)) == 5


def test_two_sources_with_fresh_keys_differ() -> None:
    assert Entropy().token_hex() != Entropy().token_hex()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_does_not_repeat_its_parents_draws() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next draws, to the parent
        try:
            os.write(write, "".join(ENTROPY.token_hex() for _ in range(4)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = "".join(ENTROPY.token_hex() for _ in range(4))
    assert len(child) == len(parent) == 128
    assert child != parent
