"""Peak memory handling one maximum-size email, each shape in a fresh process.

    python -m bench.hostile_memory [--mb 25] [--work DIR]

The parent builds a workspace and writes the email straight into its inbox, in pieces (so
making it costs the child nothing); the child starts the bot, reads VmHWM (its idle
baseline), runs one poll and reads VmHWM again. The target (issue 16) is a peak at most
3 times the email's size above the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from bench.child import peak_mb
from bot.clock import LONDON, FixedClock
from bot.demo.harness import PROJECT, Workspace

RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
POLLED = datetime(2026, 11, 2, 9, 5, tzinfo=LONDON)
_LINE = b"QUJDRA" * 12 + b"\r\n"  # 74 bytes of base64 a line, as mail programs write it


def _head(header_mb: float, content_type: str) -> bytes:
    lines = [
        "From: Sam Ward <sam.ward@council.example>",
        "To: contract.concerns@council.example",
        "Subject: Concern about Oakview Care Home, with the scans",
        "Date: Mon, 02 Nov 2026 09:00:00 +0000",
        "Message-ID: <bench-max-size@council.example>",
        "MIME-Version: 1.0",
    ]
    if header_mb:
        lines.append("X-Filler: " + ("y" * 70 + "\r\n ") * int(header_mb * 1048576 / 73) + "end")
    lines.append(content_type)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def pieces(shape: str, size: int) -> Iterator[bytes]:
    """The email of `shape` and exactly `size` bytes, as pieces to write one after another."""
    boundary = "bench-boundary"
    if shape == "text":
        head = _head(0, "Content-Type: text/plain; charset=utf-8")
        tail = b"\r\n"
        note = b""
        filler_line = b"Oakview Care Home missed the medication round again today.\r\n"
    else:
        mixed = f'Content-Type: multipart/mixed; boundary="{boundary}"'
        head = _head(2 if shape == "header" else 0, mixed)
        note = (
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nOakview: scans attached.\r\n"
            f'--{boundary}\r\nContent-Type: application/pdf; name="scans.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        filler_line = _LINE
    room = size - len(head) - len(note) - len(tail)
    yield head + note
    block = filler_line * (1048576 // len(filler_line))
    while room >= len(block):
        yield block
        room -= len(block)
    lines = room // len(filler_line)
    yield filler_line * lines + b"A" * (room - lines * len(filler_line))
    yield tail


def prepare(root: Path, shape: str, size: int) -> Path:
    ws = Workspace(root, RECEIVED)
    ws.close()
    new = root / "var" / "mailbox" / "inbox" / "new"
    path = new / f"{int(RECEIVED.timestamp())}.bench-{shape}.local"
    with path.open("wb") as out:
        for piece in pieces(shape, size):
            out.write(piece)
    os.utime(path, (RECEIVED.timestamp(), RECEIVED.timestamp()))
    return path


def child(root: Path) -> dict[str, object]:
    from bot.app import build_app
    from bot.upkeep.memory import release_large_buffers

    release_large_buffers()  # as the command line does before it builds the bot
    app = build_app(root / "config.yaml", FixedClock(POLLED))
    try:
        baseline = peak_mb()
        report = app.poll()
        peak = peak_mb()
    finally:
        app.store.close()
    return {
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak, 1),
        "handled": len(report.handled),
        "quarantined": [reason for _, reason in report.quarantined],
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_memory")
    parser.add_argument("--mb", type=float, default=25.0, help="the email's size (MB)")
    parser.add_argument("--work", type=Path, help="keep the workspaces here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    size = int(args.mb * 1048576)  # the largest email the default limit accepts
    work = args.work or Path(tempfile.mkdtemp(prefix="hostile-memory-"))
    failed = False
    print(f"one {size / 1048576:.2f} MB email, peak RSS above the idle bot (target <= 3x size)")
    for shape in ("attachment", "header", "text"):
        root = work / shape
        prepare(root, shape, size)
        out = subprocess.run(
            [sys.executable, "-m", "bench.hostile_memory", "--child", str(root)],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        above = result["peak_mb"] - result["baseline_mb"]
        ratio = above / (size / 1048576)
        failed |= ratio > 3
        print(
            f"  {shape:<11} baseline {result['baseline_mb']:6.1f} MB  peak {result['peak_mb']:6.1f}"
            f" MB  above {above:6.1f} MB = {ratio:.2f}x  handled {result['handled']}"
            f" quarantined {result['quarantined']}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
