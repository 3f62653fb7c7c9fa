"""Seen keys and sent Message-IDs: 64-bit fingerprints of an append-only file's values, and a
cache of them beside the file, so a start reads only the lines added since the cache."""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import heapq
import struct
import zlib
from array import array
from collections.abc import Iterable
from pathlib import Path

from bot.store.files import atomic_write, load_json, read_json_lines
from bot.store.journal import Record

# magic, bytes of the file covered, crc32 of the file's last 64 covered bytes, crc32 of prints
_HEADER = struct.Struct("<8sQII")
_MAGIC = b"ccbotfp1"
_CHECKED_TAIL = 64
REBUILD_AFTER = 2000  # values read past the cache before the writer rewrites it


def fingerprint(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


class KeySet:
    """One field of every line of an append-only file (seen keys, sent Message-IDs), plus the
    pending records bound for it and what is added later.

    Years of mail make hundreds of thousands of values; the file's are held as sorted 64-bit
    fingerprints (8 bytes each, not ~100 as strings), and a fingerprint match is confirmed
    against the file itself, so the answer stays exact. A match means a real duplicate,
    which is rare, so the cost of one email does not grow with the history. The fingerprints
    are kept in `<file>.fp` (owner-only, checked, rebuilt when it does not match the file).
    """

    def __init__(
        self,
        root: Path,
        file: str,
        field: str,
        pending: Iterable[Record],
        *,
        writable: bool = False,
    ) -> None:
        self._path = root / file
        self._cache = self._path.with_suffix(".fp")
        self._field = field
        cached, covered = self._load_cache()
        extra, end = self._read_from(covered)
        if cached is None or (writable and len(extra) > REBUILD_AFTER):
            merged = heapq.merge(cached or array("Q"), sorted(extra))
            self._prints = array("Q", merged)
            self._extra: set[int] = set()
            if writable and end:
                self._save(end)
        else:
            self._prints, self._extra = cached, set(extra)
        self._recent: set[str] = {r["line"][field] for r in pending if r["file"] == file}

    def __contains__(self, value: str) -> bool:
        if value in self._recent:
            return True
        mark = fingerprint(value)
        at = bisect.bisect_left(self._prints, mark)
        found = at < len(self._prints) and self._prints[at] == mark
        if not found and mark not in self._extra:
            return False
        return any(line.get(self._field) == value for line in read_json_lines(self._path))

    def update(self, values: Iterable[str]) -> None:
        self._recent.update(values)

    def _load_cache(self) -> tuple[array[int] | None, int]:
        """The cached fingerprints and the bytes of the file they cover; (None, 0) if none fit."""
        try:
            data = self._cache.read_bytes()
            magic, covered, tail_crc, prints_crc = _HEADER.unpack_from(data)
            body = memoryview(data)[_HEADER.size :]
            with self._path.open("rb") as handle:
                start = max(0, covered - _CHECKED_TAIL)
                handle.seek(start)
                tail = handle.read(covered - start)
        except (OSError, struct.error):
            return None, 0
        if (
            magic != _MAGIC
            or len(tail) != covered - start
            or not tail.endswith(b"\n")
            or zlib.crc32(tail) != tail_crc
            or zlib.crc32(body) != prints_crc
            or len(body) % 8
        ):
            return None, 0
        prints = array("Q")
        prints.frombytes(body)
        return prints, covered

    def _read_from(self, offset: int) -> tuple[list[int], int]:
        """Fingerprints of the whole lines from `offset`, and where those lines end."""
        prints: list[int] = []
        if not self._path.exists():
            return prints, 0
        end = offset
        with self._path.open("rb") as handle:
            handle.seek(offset)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a half-written last line: not there yet
                end += len(line)
                if line.strip():
                    value = load_json(line).get(self._field)
                    if isinstance(value, str):
                        prints.append(fingerprint(value))
        return prints, end

    def _save(self, covered: int) -> None:
        """Rewrite the cache (not fsynced: it is checked when read and rebuilt if wrong)."""
        with self._path.open("rb") as handle:
            start = max(0, covered - _CHECKED_TAIL)
            handle.seek(start)
            tail = handle.read(covered - start)
        body = self._prints.tobytes()
        header = _HEADER.pack(_MAGIC, covered, zlib.crc32(tail), zlib.crc32(body))
        with contextlib.suppress(OSError):  # only a cache: the next start reads the file again
            atomic_write(self._cache, header + body, sync=False)
