"""Hostile entries for a local inbox, made by code: odd files, and emails built to hurt a parser."""

from __future__ import annotations

import os
import random
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

_MB = 1024 * 1024
SENDER = "Sam Ward <sam.ward@council.example>"
TO = "contract.concerns@council.example"


def _mail(headers: list[str], body: bytes, n: int) -> bytes:
    head = [f"From: {SENDER}", f"To: {TO}", "Date: Mon, 02 Nov 2026 09:00:00 +0000"]
    head += [h for h in headers if not h.startswith("Message-ID")] or []
    ids = [h for h in headers if h.startswith("Message-ID")] or [f"Message-ID: <h{n}@x.example>"]
    return ("\r\n".join(head + ids) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body


def nested_multipart(depth: int) -> bytes:
    """A multipart inside a multipart, `depth` times, with a text part at the bottom."""
    parts = [b"Content-Type: text/plain\r\n\r\nHello from the bottom.\r\n"]
    for level in range(depth):
        boundary = f"b{level}".encode()
        parts.append(
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
        )
    # Built inside out: every level opens, holds the next, then closes.
    inner = parts[0]
    for level in range(depth):
        boundary = f"b{level}".encode()
        inner = parts[level + 1] + inner + b"\r\n--" + boundary + b"--\r\n"
    return _mail(["Subject: nested", "MIME-Version: 1.0"], b"", 1)[:-2] + inner


def big_header(size: int) -> bytes:
    """One folded header line of about `size` bytes."""
    words = ("x" * 70 + "\r\n ") * (size // 73)
    return _mail([f"X-Filler: {words}end", "Subject: big header"], b"Short body.\r\n", 2)


def many_references(count: int) -> bytes:
    refs = " ".join(f"<r{i}@elsewhere.example>" for i in range(count))
    return _mail([f"References: {refs}", "Subject: long thread"], b"Reply text.\r\n", 3)


def same_message_id(variant: int) -> bytes:
    # Different bytes, one Message-ID: the second is the same email delivered again.
    return _mail(
        ["Subject: Concern about Oakview Care Home", "Message-ID: <dup-1@council.example>"],
        f"Oakview Care Home missed medication rounds (copy {variant}).\r\n".encode(),
        4,
    )


def unknown_charsets() -> bytes:
    return _mail(
        [
            "Subject: =?x-klingon-99?B?SGVsbG8=?= and =?utf-8?Q?caf=C3=A9?=",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="x-unknown-charset-42"',
            "Content-Transfer-Encoding: 8bit",
        ],
        "Text in a charset nobody knows: \xe9\xff\xfe.\r\n".encode("latin-1"),
        5,
    )


def hostile_attachment_names() -> bytes:
    names = ["../../../etc/passwd", "nul\x00byte.pdf", "a" * 300 + ".pdf", "..\\..\\win.ini"]
    boundary = "att-boundary"
    body = b""
    for name in names:
        body += (
            f'--{boundary}\r\nContent-Type: application/pdf; name="{name}"\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        ).encode()
    body = (
        b"--" + boundary.encode() + b"\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" + body
    )
    body += f"--{boundary}--\r\n".encode()
    headers = ["Subject: files", "MIME-Version: 1.0"]
    headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    return _mail(headers, body, 6)


def sized_mail(size: int, n: int) -> bytes:
    """An email of exactly `size` bytes: a short note and a base64 attachment filling the rest."""
    boundary = "size-boundary"
    head = _mail(
        [
            "Subject: big attachment",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/mixed; boundary="{boundary}"',
        ],
        (
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nScan attached.\r\n"
            f'--{boundary}\r\nContent-Type: application/octet-stream; name="scan.bin"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode(),
        n,
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    room = size - len(head) - len(tail)
    line = b"QUJDRA" * 12 + b"\r\n"  # 74 bytes of valid base64 per line
    filler = line * (room // len(line))
    filler += b"A" * (room - len(filler))
    return head + filler + tail


def _write(path: Path, data: bytes, stamp: float) -> None:
    path.write_bytes(data)
    os.utime(path, (stamp, stamp))


# name -> (what it is, how to make it at a path, given the outside secret and the limit)
Maker = Callable[[Path, Path, int, float], None]


def _symlink(target_name: str) -> Maker:
    def make(path: Path, outside: Path, limit: int, stamp: float) -> None:
        path.symlink_to(outside / target_name)
        os.utime(path, (stamp, stamp), follow_symlinks=False)

    return make


def _fifo(path: Path, outside: Path, limit: int, stamp: float) -> None:
    os.mkfifo(path, 0o600)
    os.utime(path, (stamp, stamp))


def _directory(path: Path, outside: Path, limit: int, stamp: float) -> None:
    path.mkdir()
    (path / "inside.eml").write_bytes(same_message_id(9))
    os.utime(path, (stamp, stamp))


def _bytes(make: Callable[[int], bytes]) -> Maker:
    def write(path: Path, outside: Path, limit: int, stamp: float) -> None:
        _write(path, make(limit), stamp)

    return write


def _binary(limit: int) -> bytes:
    return random.Random(16).randbytes(64 * 1024)


HOSTILE: dict[str, Maker] = {
    "link-to-secret": _symlink("secret.txt"),
    "link-to-folder": _symlink("."),
    "link-dangling": _symlink("nothing-here"),
    "fifo": _fifo,
    "directory": _directory,
    "empty": _bytes(lambda limit: b""),
    "binary": _bytes(_binary),
    "nested-3000": _bytes(lambda limit: nested_multipart(3000)),
    "header-2mb": _bytes(lambda limit: big_header(2 * _MB)),
    "references-20000": _bytes(lambda limit: many_references(20_000)),
    "duplicate-a": _bytes(lambda limit: same_message_id(1)),
    "duplicate-b": _bytes(lambda limit: same_message_id(2)),
    "unknown-charsets": _bytes(lambda limit: unknown_charsets()),
    "attachment-names": _bytes(lambda limit: hostile_attachment_names()),
    "max-size": _bytes(lambda limit: sized_mail(limit, 7)),
    "over-size": _bytes(lambda limit: sized_mail(limit + 1, 8)),
}


def drop_hostile(inbox_new: Path, outside: Path, limit: int, received: datetime) -> list[str]:
    """Make every hostile entry in `inbox_new`, in order, received a second apart."""
    base = received.timestamp()
    names = []
    for offset, (name, make) in enumerate(HOSTILE.items()):
        # Maildir-like names, so keys sort as the entries were made.
        key = f"{int(base) + offset}.{name}.hostile"
        make(inbox_new / key, outside, limit, base + offset)
        names.append(key)
    return names


def try_device(path: Path, stamp: float) -> bool:
    """A character device like /dev/null, where the system allows making one (root only)."""
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError):
        return False
    os.utime(path, (stamp, stamp), follow_symlinks=False)
    return True
