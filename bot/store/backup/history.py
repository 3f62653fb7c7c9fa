"""A history file as of one commit: its lines up to the commit's counter, read from the end."""

from __future__ import annotations

import os
from pathlib import Path

from bot.store.errors import BackupError
from bot.store.files import load_json

_BLOCK = 65536


def _last_newline(fd: int, before: int) -> int:
    """The offset of the last newline in the first `before` bytes, or -1."""
    at = before
    while at > 0:
        low = max(0, at - _BLOCK)
        cut = os.pread(fd, at - low, low).rfind(b"\n")
        if cut >= 0:
            return low + cut
        at = low
    return -1


def kept_part(fd: int, size: int, last: int, path: Path) -> tuple[int, int]:
    """(bytes, seq of the last line kept) of the lines whose "seq" is at most `last`.

    Lines go in in seq order, so only the lines appended after the commit are read (from the
    end); a half-written last line is left out, as every reader of the store does.
    """
    end = _last_newline(fd, size) + 1
    while end > 0:
        start = _last_newline(fd, end - 1) + 1
        line = os.pread(fd, end - start, start)
        if line.strip():
            try:
                seq = load_json(line).get("seq")
            except (ValueError, AttributeError):
                raise BackupError(
                    f"{path} has a damaged line at byte {start}; the store would refuse it "
                    "too: restore it from an earlier backup"
                ) from None
            if isinstance(seq, int) and seq <= last:
                return end, seq
        end = start
    return 0, 0


def last_seq(path: Path) -> tuple[int, int]:
    """(lines, seq of the last line) of a whole history file, for checking a restore."""
    lines, seq = 0, 0
    if not path.exists():
        return lines, seq
    with path.open("rb") as handle:
        for line in handle:
            if line.endswith(b"\n") and line.strip():
                lines += 1
                found = load_json(line).get("seq")
                seq = found if isinstance(found, int) else seq
    return lines, seq
