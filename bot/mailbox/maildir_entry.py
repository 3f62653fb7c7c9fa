"""One inbox entry read safely: no link followed, no open that blocks, size checked first."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

_MB = 1024 * 1024
# Opening never follows a link (ELOOP instead) and never waits for a FIFO's writer.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_KINDS = (
    (stat.S_ISLNK, "symbolic link"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


@dataclass(frozen=True)
class Entry:
    """What was found at one inbox path: the bytes, or why they were not read."""

    mtime_ns: int
    raw: bytes
    refused: str = ""  # set when the entry was left unread; raw is then empty


def kind_of(mode: int) -> str:
    """A person's name for what a file mode says the entry is."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "regular file" if stat.S_ISREG(mode) else "special file"


def _not_a_message(mtime_ns: int, kind: str) -> Entry:
    what = f"not a message file but a {kind}"
    if kind == "symbolic link":
        # Said explicitly: staff must know the target was never opened.
        what += "; the link itself was moved, its target never read"
    return Entry(mtime_ns, b"", f"{what} (quarantined unread)")


def _too_large(mtime_ns: int, size: int, max_bytes: int) -> Entry:
    return Entry(
        mtime_ns,
        b"",
        f"too large: {size / _MB:.1f} MB is over the {max_bytes / _MB:g} MB limit "
        "(limits.max_message_mb); quarantined unread",
    )


def read_entry(path: Path, max_bytes: int) -> Entry | None:
    """The entry at `path`, read only if it is a regular file no larger than `max_bytes`.

    None when it vanished while we looked (moved by another process: not ours to report).
    """
    try:
        seen = os.lstat(path)
    except FileNotFoundError:
        return None
    mtime = seen.st_mtime_ns
    # Judged on lstat first, so a device is never opened at all (opening one can act).
    if not stat.S_ISREG(seen.st_mode):
        return _not_a_message(mtime, kind_of(seen.st_mode))
    if seen.st_size > max_bytes:
        return _too_large(mtime, seen.st_size, max_bytes)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as err:
        if err.errno == errno.ELOOP:  # swapped for a link after the lstat
            return _not_a_message(mtime, "symbolic link")
        return Entry(mtime, b"", f"unreadable: {err.strerror or err} (quarantined unread)")
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
            seen.st_dev,
            seen.st_ino,
        ):
            return _not_a_message(mtime, f"{kind_of(opened.st_mode)} swapped in while read")
        if opened.st_size > max_bytes:
            return _too_large(mtime, opened.st_size, max_bytes)
        return _read_bounded(fd, opened.st_mtime_ns, opened.st_size, max_bytes)
    except OSError as err:
        return Entry(mtime, b"", f"unreadable: {err.strerror or err} (quarantined unread)")
    finally:
        os.close(fd)


def _read_bounded(fd: int, mtime_ns: int, size: int, max_bytes: int) -> Entry:
    """Read to the end, one allocation for a file that does not change; never past the limit."""
    # One read of the whole size (plus one byte to see growth): no chunk list to join, so a
    # large message is in memory once, not twice.
    data = os.read(fd, size + 1)
    while len(data) <= max_bytes:
        more = os.read(fd, min(1 << 20, max_bytes + 1 - len(data)))
        if not more:
            return Entry(mtime_ns, data)
        data += more  # only when the file is still being written: rare
    return _too_large(mtime_ns, len(data), max_bytes)
