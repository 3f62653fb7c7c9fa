"""One inbox entry read safely: no link followed, no open that blocks, size checked first."""

from __future__ import annotations

import errno
import hashlib
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
        f"too large: {size:,} bytes, over the limit of {max_bytes:,} "
        f"({max_bytes / _MB:g} MB, limits.max_message_mb); quarantined unread",
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


def key_of(name: str) -> str:
    """The message id for an entry's file name: the part before any ":" flags a mail client
    adds in cur/, as text the store can hold (odd bytes of a non-UTF-8 name become \\xNN)."""
    key = name.split(":", 1)[0]
    if key.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in key):
        return key
    return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_key(key: str) -> str:
    """`key` if it can only name an entry of one of our folders, never climb out of it."""
    separators = {"/", "\0", os.sep, os.altsep or "/"}
    if not key or key.startswith(".") or any(s in key for s in separators):
        raise ValueError(f"not a message id of this mailbox: {key!r}")
    return key


def sidecar_name(key: str) -> str:
    """The quarantine reason's file name: `key`.json, shortened to fit a file name's limit."""
    if len(key.encode("utf-8", "surrogateescape")) <= 200:
        return f"{key}.json"
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{key[:100]}-{digest}.json"


def waiting(inbox: Path, threshold_ns: int) -> list[tuple[int, str, Path]]:
    """(mtime, key, path) of the inbox's entries at or after the threshold, oldest first,
    from lstat alone: nothing is opened, and mail before the start date is not even read."""
    found = []
    for sub in ("new", "cur"):
        with os.scandir(inbox / sub) as names:
            for item in names:
                if item.name.startswith("."):
                    continue  # Maildir's rule: never a message
                try:
                    mtime = item.stat(follow_symlinks=False).st_mtime_ns
                except FileNotFoundError:
                    continue  # moved away while we looked
                if mtime >= threshold_ns:
                    found.append((mtime, key_of(item.name), Path(item.path)))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return found
