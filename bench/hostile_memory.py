"""Peak memory for one maximum-size email: `python -m bench.hostile_memory [--mb N] [--repeat R]`.

Each case runs in a fresh process: the bot starts over the example config, settles, and then
polls one email of exactly `limits.max_message_mb`; the figure is its peak RSS above that idle
baseline, as a multiple of the email's size (issue 16 asks for at most 3).
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bot.clock import LONDON
from bot.demo.harness import PROJECT, Workspace
from bot.upkeep.memory import release_large_buffers

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)
LIMIT = 3.0  # peak above idle, in multiples of the email's size
MB = 1024 * 1024


def max_size_email(size: int, header_bytes: int = 0, seed: int = 16) -> bytes:
    """A referral of exactly `size` bytes: a short text and one attachment of random bytes,
    with a `header_bytes` long X-Padding header when asked (the issue's 2 MB header)."""
    rng = random.Random(seed)
    boundary = "=_max_size_16"
    padding = ""
    if header_bytes:
        padding = "X-Padding: " + "".join(rng.choices("abcdefghij", k=header_bytes)) + "\r\n"
    head = (
        "From: Sam Ward <sam.ward@council.example>\r\n"
        "To: contract.concerns@council.example\r\n"
        "Subject: Concern: Oakview Care Home, evidence attached\r\n"
        f"Date: {format_datetime(NOW - timedelta(minutes=5))}\r\n"
        f"Message-ID: <max-size-{seed}-{header_bytes}@council.example>\r\n"
        f"{padding}MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Oakview Care Home missed medication rounds; the evidence is attached.\r\n"
        f"--{boundary}\r\nContent-Type: application/pdf; name=evidence.pdf\r\n"
        "Content-Disposition: attachment; filename=evidence.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    room = size - len(head) - len(tail)
    if room < 100:
        raise ValueError(f"{size} bytes is too small for the headers asked for")
    # base64 lines of 76 characters plus CRLF: 78 bytes carry 57 bytes of content.
    body = base64.encodebytes(rng.randbytes(room // 78 * 57)).replace(b"\n", b"\r\n")
    raw = head + body + tail
    return raw + b" " * (size - len(raw))  # the rest as the epilogue, after the last boundary


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> bool:
    """Make VmHWM start again from the current RSS (Linux 4.0+: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(work: Path) -> dict[str, Any]:
    """In this process: start the bot on `work`, settle, then poll the one waiting email."""
    meta = json.loads((work / "case.json").read_text())
    release_large_buffers()  # as the command line does before it builds the bot
    ws = Workspace(work / "ws", NOW, replace=meta["replace"])
    try:
        # The first poll loads what every poll needs (rules, templates, parser tables).
        ws.email("sam.ward@council.example", "Hello", "warm-up", at=NOW - timedelta(minutes=9))
        ws.run(NOW - timedelta(minutes=8))
        raw = (work / "mail.eml").read_bytes()
        ws.server.inject(raw, NOW - timedelta(minutes=5))
        del raw
        gc.collect()
        idle = _status_kb("VmRSS")
        exact = _reset_peak()
        ws.clock.set(NOW)
        report = ws.app.poll()
        peak = _status_kb("VmHWM")
    finally:
        ws.close()
    return {
        "idle_kb": idle,
        "peak_kb": peak,
        "peak_is_exact": exact,
        "handled": len(report.handled),
        "quarantined": len(report.quarantined),
    }


def measure(size_mb: int, header_mb: float, repeat: int, work: Path) -> dict[str, Any]:
    size = size_mb * MB
    header = int(header_mb * MB)
    runs = []
    for n in range(repeat):
        case = work / f"{size_mb}mb-{header_mb}h-{n}"
        case.mkdir(parents=True)
        (case / "mail.eml").write_bytes(max_size_email(size, header))
        replace = {"max_attachment_mb: 25": f"max_attachment_mb: {size_mb}"}
        (case / "case.json").write_text(json.dumps({"replace": replace}))
        out = subprocess.run(
            [sys.executable, "-m", "bench.hostile_memory", "--child", str(case)],
            check=True,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    above = sorted((r["peak_kb"] - r["idle_kb"]) / 1024 for r in runs)
    worst = above[-1]
    return {
        "email_mb": size_mb,
        "header_mb": header_mb,
        "idle_mb": runs[0]["idle_kb"] / 1024,
        "peak_above_idle_mb": above,
        "times_size": worst / size_mb,
        "within_limit": worst <= LIMIT * size_mb,
        "peak_is_exact": all(r["peak_is_exact"] for r in runs),
        "outcome": {k: runs[0][k] for k in ("handled", "quarantined")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_memory", description=__doc__)
    parser.add_argument("--mb", type=int, default=25, help="the email's size (default 25 MB)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as temp:
        for header_mb in (0.0, 2.0):
            rows.append(measure(args.mb, header_mb, args.repeat, Path(temp)))
    print(f"{'email':>6} {'header':>7} {'idle':>8} {'peak above idle (MB)':>24} {'x size':>7}")
    for row in rows:
        above = "/".join(f"{v:.1f}" for v in row["peak_above_idle_mb"])
        verdict = "PASS" if row["within_limit"] else "FAIL"
        print(
            f"{row['email_mb']:>4}MB {row['header_mb']:>5.1f}MB {row['idle_mb']:>6.1f}MB "
            f"{above:>24} {row['times_size']:>6.2f}x {verdict} (limit {LIMIT:g}x)"
        )
        if not row["peak_is_exact"]:
            print("  note: /proc/self/clear_refs unavailable; the peak includes start-up")
    print(json.dumps(rows))
    return 0 if all(row["within_limit"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
