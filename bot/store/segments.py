"""Documents left on disk until used: where each one's JSON sits in a file that never changes."""

from __future__ import annotations

import os
from pathlib import Path

from bot.store.errors import StoreError


class Segment:
    """An open store file whose bytes, once there, never change: the checkpoint (replaced
    whole, never edited) or a changes file (only appended to). Holding the descriptor keeps
    the bytes readable after the writer replaces or removes the file."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd: int | None = fd
        info = os.fstat(fd)
        self.identity = (info.st_dev, info.st_ino)  # the file, whatever its name later

    @classmethod
    def open(cls, path: Path, flags: int = os.O_RDONLY) -> Segment:
        return cls(path, os.open(path, flags | os.O_CLOEXEC, 0o600))

    def read(self, offset: int, length: int) -> bytes:
        if self.fd is None:
            raise StoreError(f"cannot read {self.path}: the store was closed")
        data = os.pread(self.fd, length, offset)
        while len(data) < length:  # short reads are allowed, though rare on local files
            more = os.pread(self.fd, length - len(data), offset + len(data))
            if not more:
                raise StoreError(
                    f"{self.path} ends before byte {offset + length}: it was cut short; "
                    "restore the store from a backup"
                )
            data += more
        return data

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class DocRef:
    """One document's JSON in a segment, read when the document is used."""

    __slots__ = ("length", "offset", "segment")

    def __init__(self, segment: Segment, offset: int, length: int) -> None:
        self.segment = segment
        self.offset = offset
        self.length = length

    def json(self) -> bytes:
        return self.segment.read(self.offset, self.length)

    def will_need(self) -> None:
        """Ask the kernel to start reading this document from the disk now (Linux), so that
        reading it later finds it in memory; elsewhere nothing happens."""
        if self.segment.fd is not None and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.segment.fd, self.offset, self.length, os.POSIX_FADV_WILLNEED)

    def version(self) -> tuple[int, int, int, int]:
        """Where the JSON is: equal versions are the same bytes (the files never change)."""
        return (*self.segment.identity, self.offset, self.length)


Stored = DocRef | bytes  # a case on disk, or staged in memory until the commit


def encoded(doc: Stored) -> bytes:
    return doc.json() if isinstance(doc, DocRef) else doc
