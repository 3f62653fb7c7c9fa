"""Owner-only folders, atomic writes, and the shared-drive save of disk-based backends."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_atomically(target: Path, content: bytes, mtime_ns: int | None = None) -> None:
    """Write via a 0600 temp file in the same directory, fsync, then rename into place."""
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if mtime_ns is not None:
            os.utime(temp, ns=(mtime_ns, mtime_ns))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def save_to_drive(shared_drive: Path, name: str, content: bytes) -> str:
    """Write a document to the shared drive atomically, owner-only; return its path."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise ValueError(f"unsafe file name for the shared drive: {name!r}")
    if not shared_drive.exists():
        private_dir(shared_drive)
    target = shared_drive / name
    write_atomically(target, content)  # mkstemp made it 0600; the rename keeps that
    return str(target)
