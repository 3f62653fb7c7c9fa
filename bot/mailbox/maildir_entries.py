"""Reading the local inbox without trusting it: no link followed, no open that can block, the
size checked before a byte is read, and a time limit on every read."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from bot.clock import Deadline

# O_NOFOLLOW: a link is refused by the kernel, not followed (its target may be any file the
# bot's account can read). O_NONBLOCK: a FIFO or a device cannot make open() wait for ever.
# Neither exists on Windows, where the lstat() check below does the work alone.
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
CHUNK = 4 * 1024 * 1024  # what is read at a time after the expected size
_REFUSED_ERRNOS = {errno.ELOOP, errno.EACCES, errno.EPERM, errno.ENXIO, errno.EISDIR}


class Refused(Exception):
    """The entry is not an email the bot may read; `reason` says why, for the quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadTooSlow(Exception):
    """The time limit ran out while reading; the entry stays in the inbox for the next poll."""


@dataclass(frozen=True)
class Entry:
    """One name in inbox/new or inbox/cur, as lstat() saw it (links are not followed)."""

    key: str
    path: Path
    mtime_ns: int
    mode: int
    size: int


def key_of(name: str) -> str:
    """The message id for a file name: its part before any ":" flags, as text that can be
    stored (a name that is not UTF-8 gets its odd bytes written as \\xNN)."""
    key = name.split(":", 1)[0]
    if key.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in key):
        return key
    return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def what_it_is(mode: int) -> str | None:
    """None for a regular file; otherwise what the entry is, in words."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link (never followed: its target may be any file)"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def list_entries(folder: Path) -> list[Entry]:
    """Every entry of `folder` except Maildir's dot files, with lstat() details."""
    found = []
    with os.scandir(folder) as names:
        for item in names:
            if item.name.startswith("."):
                continue  # Maildir convention: never a message
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # moved away while we looked
            # In cur/ a client may add ":2,<flags>" to the name; the key is what comes before.
            key = key_of(item.name)
            found.append(Entry(key, Path(item.path), info.st_mtime_ns, info.st_mode, info.st_size))
    return found


def _too_large(size: int, limit: int) -> str:
    return (
        f"too large: {size:,} bytes, over the limit of {limit:,} "
        f"({limit / 1048576:g} MB, limits.max_message_mb); quarantined unread"
    )


def _check(mode: int, size: int, limit: int) -> None:
    kind = what_it_is(mode)
    if kind is not None:
        raise Refused(f"not an email file: {kind}")
    if size > limit:
        raise Refused(_too_large(size, limit))


def read_entry(entry: Entry, limit: int, deadline: Deadline) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, read within `deadline`.

    Raises Refused (quarantine it), ReadTooSlow (try next poll) or FileNotFoundError (gone).
    """
    _check(entry.mode, entry.size, limit)  # what lstat saw: a link or FIFO is never opened
    try:
        fd = os.open(entry.path, OPEN_FLAGS)
    except OSError as err:
        if err.errno in _REFUSED_ERRNOS:  # replaced by a link since, or not ours to read
            raise Refused(f"cannot be read: {err.strerror or err}") from err
        raise
    try:
        info = os.fstat(fd)  # what was actually opened, in case the entry changed under us
        _check(info.st_mode, info.st_size, limit)
        return _read_all(fd, info.st_size, limit, deadline)
    finally:
        os.close(fd)


def _read_all(fd: int, expected: int, limit: int, deadline: Deadline) -> bytes:
    """Read to the end: the size fstat() gave in one read (one copy in memory, not two), then
    any more in chunks; the time limit is checked before each read."""
    chunks: list[bytes] = []
    total = 0
    want = expected + 1  # one more byte than expected shows a file that is still growing
    while True:
        if deadline.expired():
            raise ReadTooSlow(f"reading took longer than {deadline.seconds:g} s")
        try:
            chunk = os.read(fd, min(want, limit + 1 - total))
        except OSError as err:
            if err.errno in _REFUSED_ERRNOS:
                raise Refused(f"cannot be read: {err.strerror or err}") from err
            raise
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = CHUNK
        if total > limit:  # it grew after fstat()
            raise Refused(_too_large(total, limit))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
