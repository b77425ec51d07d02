"""The console: a child's output copied whole line by line, prefixed with its name."""

from __future__ import annotations

import io
import os
import time

from podium.supervisor.output import GATHER_SECONDS, Console


def test_the_pump_copies_every_line_whole_however_the_child_writes_them() -> None:
    out = io.StringIO()
    console = Console(out, colour=False)
    read_end, write_end = os.pipe()
    thread = console.pump("svc-1", os.fdopen(read_end, "rb"))
    os.write(write_end, b"first line\nsecond ")
    time.sleep(GATHER_SECONDS * 2)  # the pump has read the half line and holds it
    os.write(write_end, b"line\r\nthird\xff\nno newline at the end")
    os.close(write_end)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert out.getvalue().splitlines() == [
        "svc-1  | first line",
        "svc-1  | second line",
        "svc-1  | third\ufffd",
        "svc-1  | no newline at the end",
    ]


def test_a_busy_child_wakes_the_pump_once_per_gathering_not_once_per_line() -> None:
    class Counting(Console):
        def __init__(self) -> None:
            super().__init__(io.StringIO(), colour=False)
            self.lines = 0

        def line(self, source: str, text: str) -> None:
            self.lines += 1

    console = Counting()
    read_end, write_end = os.pipe()
    reads: list[int] = []
    real_read = os.read

    def counted_read(fd: int, n: int) -> bytes:
        if fd == read_end:
            reads.append(fd)
        return real_read(fd, n)

    os.read = counted_read  # type: ignore[assignment]
    try:
        thread = console.pump("svc-1", os.fdopen(read_end, "rb"))
        started = time.monotonic()
        for i in range(200):  # a line every millisecond or so, for about 0.3 s
            os.write(write_end, f"task {i} done\n".encode())
            time.sleep(0.001)
        elapsed = time.monotonic() - started
        os.close(write_end)
        thread.join(timeout=5)
    finally:
        os.read = real_read
    assert console.lines == 200
    assert len(reads) <= elapsed / GATHER_SECONDS + 3  # (+ the end of the stream)
