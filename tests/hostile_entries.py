"""Hostile entries for the local inbox (test_hostile_inbox_audited.py), made here by code:
links, FIFOs, devices, directories, unreadable and odd files, and emails built to hurt a
parser or eat memory.

Each `Entry` says what the bot must make of it: handled, a duplicate, or quarantined with a
reason containing `reason`.
"""

from __future__ import annotations

import base64
import os
import random
import socket
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

SAM = "Sam Ward <sam.ward@council.example>"
OAKVIEW = "manager@oakview-care.example"
MAILBOX = "contract.concerns@council.example"
SECRET = b"TOP-SECRET-OUTSIDE-THE-WORKSPACE-7f3a"  # must never appear inside the workspace

Make = Callable[[Path, Path], None]  # (the inbox's new/ folder, the folder outside)


@dataclass(frozen=True)
class Entry:
    name: str  # its file name in inbox/new
    outcome: str  # "handled", "duplicate" or "quarantined"
    reason: str  # for quarantined entries: part of the reason recorded with it
    make: Make
    needs: str = ""  # "no-dac": the bot must run without root's override of permissions


def email(
    headers: list[tuple[str, str]], body: str | bytes, *, subtype: str = "plain"
) -> bytes:
    """A simple email; `headers` first, then MIME headers for a text body."""
    lines = [f"{k}: {v}" for k, v in headers]
    lines += ["MIME-Version: 1.0", f"Content-Type: text/{subtype}; charset=utf-8", "", ""]
    head = "\r\n".join(lines).encode()
    return head + (body.encode() if isinstance(body, str) else body)


def basics(sender: str, subject: str, at: datetime, message_id: str) -> list[tuple[str, str]]:
    return [
        ("From", sender),
        ("To", MAILBOX),
        ("Subject", subject),
        ("Date", format_datetime(at)),
        ("Message-ID", f"<{message_id}>"),
    ]


def nested(depth: int, at: datetime) -> bytes:
    """multipart/mixed inside multipart/mixed, `depth` times, a short text at the bottom."""
    head = "\r\n".join(f"{k}: {v}" for k, v in basics(SAM, "Deep", at, "deep@council.example"))
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
        for n in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % n for n in reversed(range(depth)))
    return (
        head.encode() + b"\r\nMIME-Version: 1.0\r\n" + opening
        + b"Content-Type: text/plain\r\n\r\nThe concern is at the bottom.\r\n" + closing
    )


def with_attachments(at: datetime, names: list[str]) -> bytes:
    """A referral carrying small attachments under the given (hostile) file names."""
    boundary = "=_names_16"
    head = basics(SAM, "Concern: Oakview Care Home, files", at, "names@council.example")
    parts = [
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Oakview Care Home missed medication rounds; files attached.\r\n"
    ]
    for number, name in enumerate(names):
        encoded = base64.b64encode(f"file {number}".encode()).decode()
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(
            f"--{boundary}\r\nContent-Type: application/octet-stream; name=\"{quoted}\"\r\n"
            f'Content-Disposition: attachment; filename="{quoted}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        )
    lines = [f"{k}: {v}" for k, v in head]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{boundary}"', ""]
    text = "\r\n".join(lines) + "\r\n" + "".join(parts) + f"--{boundary}--\r\n"
    return text.encode("utf-8", "surrogateescape")


def max_size(size: int, at: datetime, message_id: str) -> bytes:
    """A referral of exactly `size` bytes, most of it one base64 attachment."""
    boundary = "=_max_16"
    lines = [f"{k}: {v}" for k, v in basics(SAM, "Concern: Oakview evidence", at, message_id)]
    head = (
        "\r\n".join(lines)
        + f'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        + f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nOakview Care Home: evidence.\r\n"
        + f"--{boundary}\r\nContent-Type: application/pdf; name=evidence.pdf\r\n"
        + "Content-Disposition: attachment; filename=evidence.pdf\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    room = size - len(head) - len(tail)
    body = base64.encodebytes(random.Random(16).randbytes(room // 78 * 57))
    raw = head + body.replace(b"\n", b"\r\n") + tail
    return raw + b" " * (size - len(raw))


def drop(new: Path, name: str | bytes, raw: bytes, at: datetime, mode: int = 0o600) -> None:
    """Deliver as an MDA does: complete in tmp/, then rename into new/; mtime is `at`."""
    temp = new.parent / "tmp" / "delivering"
    temp.write_bytes(raw)
    os.chmod(temp, mode)
    stamp = int(at.timestamp()) * 10**9
    os.utime(temp, ns=(stamp, stamp))
    target = os.path.join(os.fsencode(new), name if isinstance(name, bytes) else name.encode())
    os.rename(temp, target)


def _stamp(path: Path | bytes, at: datetime) -> None:
    stamp = int(at.timestamp()) * 10**9
    os.utime(path, ns=(stamp, stamp), follow_symlinks=False)


def outside_files(outside: Path) -> None:
    """What a link in the inbox could point at: a secret, a FIFO, a folder."""
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_bytes(b"From: x@y.example\r\nSubject: s\r\n\r\n" + SECRET)
    os.mkfifo(outside / "pipe")  # followed, it would hang a reader for ever
    (outside / "folder").mkdir()
    (outside / "folder" / "inside.eml").write_bytes(SECRET)


def entries(start: datetime, max_bytes: int) -> list[Entry]:
    """Every hostile entry, each received a minute after the one before, from `start`."""
    clock = iter(start + timedelta(minutes=n) for n in range(1000))

    def regular(name: str | bytes, raw: bytes, mode: int = 0o600) -> Make:
        at = next(clock)
        return lambda new, outside: drop(new, name, raw, at, mode)

    def special(create: Callable[[Path, Path], None], name: str) -> Make:
        at = next(clock)

        def make(new: Path, outside: Path) -> None:
            create(new / name, outside)
            _stamp(new / name, at)

        return make

    t = start
    rng = random.Random(16)
    refs = " ".join(f"<ref{n}.{rng.randrange(10**9)}@elsewhere.example>" for n in range(20000))
    long_name = "evidence-" + "x" * 288 + ".pdf"  # 300 characters
    found = [
        Entry("referral", "handled", "", regular("referral", email(
            basics(SAM, "Concern: Oakview Care Home", t, "ok@council.example"),
            "Oakview Care Home missed medication rounds twice last week.")),
        ),
        Entry("empty", "quarantined", "empty message", regular("empty", b"")),
        Entry("binary", "quarantined", "unreadable", regular("binary", rng.randbytes(4096))),
        Entry("nested-3000", "quarantined", "unreadable", regular("nested-3000", nested(3000, t))),
        Entry("header-2mb", "handled", "", regular("header-2mb", email(
            [*basics(SAM, "Concern: Oakview", t, "big-header@council.example"),
             ("X-Padding", "p" * (2 * 1024 * 1024))],
            "A concern with a two megabyte header.")),
        ),
        Entry("references-20000", "handled", "", regular("references-20000", email(
            [*basics(OAKVIEW, "Re: our reply", t, "refs@oakview-care.example"),
             ("References", refs)],
            "Our reply, in a very long thread.")),
        ),
        Entry("duplicate-first", "handled", "", regular("duplicate-first", email(
            basics(SAM, "Concern: Meadows Day Centre", t, "same-id@council.example"),
            "Meadows Day Centre: first copy.")),
        ),
        Entry("duplicate-second", "duplicate", "", regular("duplicate-second", email(
            basics(SAM, "Concern: Meadows Day Centre", t, "same-id@council.example"),
            "Meadows Day Centre: a second copy, changed on the way.")),
        ),
        Entry("unknown-charsets", "handled", "", regular("unknown-charsets", (
            b"From: =?x-klingon-7?B?U2FtIFdhcmQ=?= <sam.ward@council.example>\r\n"
            b"To: " + MAILBOX.encode() + b"\r\n"
            b"Subject: =?x-unknown-42?Q?Concern=3A_Riverside?= =?utf-8?B?/w==?=\r\n"
            b"Message-ID: <charsets@council.example>\r\n"
            b"MIME-Version: 1.0\r\n"
            b'Content-Type: text/plain; charset="x-no-such-charset"\r\n'
            b"Content-Transfer-Encoding: 8bit\r\n\r\n"
            b"Riverside Supported Living: \xe9\xff\xfe text in no known charset.\r\n"
        ))),
        Entry("attachment-names", "handled", "", regular("attachment-names", with_attachments(
            t, ["../../../../etc/cron.d/evil", "..\\..\\windows\\evil.bat",
                "nul\x00byte.pdf", long_name, "/absolute/path.txt"]))),
        Entry("max-size", "handled", "", regular("max-size", max_size(
            max_bytes, t, "max-size@council.example"))),
        Entry("over-size", "quarantined", "too large", regular("over-size", max_size(
            max_bytes + 1, t, "over-size@council.example"))),
        Entry("n" * 255, "quarantined", "empty message", regular("n" * 255, b"")),
        Entry("back\\slash", "handled", "", regular("back\\slash", email(
            basics(SAM, "Concern: Brightpath", t, "backslash@council.example"),
            "Brightpath Home Care: late visits.")),
        ),
        Entry(os.fsdecode(b"latin-\xe9-name"), "handled", "", regular(b"latin-\xe9-name", email(
            basics(SAM, "Concern: Brightpath again", t, "latin-name@council.example"),
            "Brightpath Home Care: more late visits.")),
        ),
        Entry("link-to-secret", "quarantined", "symbolic link", special(
            lambda p, o: os.symlink(o / "secret.txt", p), "link-to-secret")),
        Entry("link-to-fifo", "quarantined", "symbolic link", special(
            lambda p, o: os.symlink(o / "pipe", p), "link-to-fifo")),
        Entry("link-to-folder", "quarantined", "symbolic link", special(
            lambda p, o: os.symlink(o / "folder", p), "link-to-folder")),
        Entry("link-dangling", "quarantined", "symbolic link", special(
            lambda p, o: os.symlink(o / "not-there", p), "link-dangling")),
        Entry("fifo", "quarantined", "FIFO", special(lambda p, o: os.mkfifo(p), "fifo")),
        Entry("directory", "quarantined", "directory", special(_folder, "directory")),
        Entry("unreadable", "quarantined", "Permission denied", regular("unreadable", email(
            basics(SAM, "Concern: Meadows", t, "unreadable@council.example"),
            "Meadows Day Centre: unreadable file."), mode=0o000), needs="no-dac"),
    ]
    if _can_make_devices():
        found.append(Entry("device", "quarantined", "device", special(_device, "device")))
    found.append(Entry("socket", "quarantined", "socket", special(_socket, "socket")))
    return found


def _folder(path: Path, outside: Path) -> None:
    path.mkdir()
    (path / "inside.eml").write_bytes(b"From: a@b.example\r\n\r\nin a folder\r\n")


def _device(path: Path, outside: Path) -> None:
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is


def _can_make_devices() -> bool:
    return hasattr(os, "mknod") and os.geteuid() == 0


def _socket(path: Path, outside: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))  # the file stays after the socket is closed
