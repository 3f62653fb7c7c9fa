"""Small kept mail written into the changes file with its commit, and out to raw/ at a checkpoint.

A morning's deadlines keep a letter per case and a backlog an email per message. As a file
each, every one costs a file created and fsynced before the commit can refer to it: on a
virtual disk, most of a due tick. Here each goes into the commit's own append instead (one
fdatasync for all of them), read back from there until the next checkpoint writes them out as
files under raw/, made durable before the new open.json is switched in. A crash at any point
leaves each one in the changes file still named by open.json, or in its file, or both.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.store.errors import StoreError
from bot.store.files import fsync_dir, make_dir_unsynced
from bot.store.raw_writer import put_durably
from bot.store.segments import DocRef

RAW = "raw"  # the changes file's pseudo-table of spilled mail, keyed by sha256
SPILL_BYTES = 128 * 1024  # larger mail is a file at once, as before
_WRITERS = 8  # files written and fsynced at once at a checkpoint
_PREFIX, _SUFFIX = b'{"b":"', b'"}'

Spilled = DocRef | bytes  # committed (where in the changes file), or its JSON until the commit


def raw_file(directory: Path, sha: str) -> Path:
    """Where an email's own file is in the store at `directory`: raw/<first two>/<sha>.eml."""
    return directory / "raw" / sha[:2] / f"{sha}.eml"


def encode_raw(raw: bytes) -> bytes:
    """The JSON object a changes-file line holds for `raw` (base64 is plain JSON text)."""
    return _PREFIX + base64.b64encode(raw) + _SUFFIX


def decode_raw(doc: bytes, where: Path) -> bytes:
    if not (doc.startswith(_PREFIX) and doc.endswith(_SUFFIX)):
        raise StoreError(f"{where} holds kept mail that does not read; restore it from a backup")
    return base64.b64decode(doc[len(_PREFIX) : -len(_SUFFIX)])


class RawSpill:
    """Spilled mail by sha256: what the last commits appended, and what the next one will."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.held: dict[str, Spilled] = {}
        self.pending: dict[str, bytes] = {}  # staged for the next commit (never rolled back)
        self.dropped: set[str] = set()  # removed since the last commit (retention)
        self.purged = False  # a removal whose bytes only a checkpoint clears from the disk

    def __contains__(self, sha: str) -> bool:
        return sha in self.held

    def add(self, sha: str, raw: bytes) -> None:
        if sha in self.held:
            return
        doc = encode_raw(raw)
        self.held[sha] = doc
        self.pending[sha] = doc
        self.dropped.discard(sha)

    def load(self, sha: str) -> bytes | None:
        doc = self.held.get(sha)
        if doc is None:
            return None
        if isinstance(doc, DocRef):  # a committed line: a damaged one names its changes file
            return decode_raw(doc.json(), doc.segment.path)
        return decode_raw(doc, self.directory)

    def drop(self, sha: str) -> bool:
        """Forget it: at once if not committed yet, else by the next commit and, its bytes,
        by the checkpoint the store writes straight after."""
        if self.held.pop(sha, None) is None:
            return False
        if self.pending.pop(sha, None) is None:
            self.dropped.add(sha)
            self.purged = True
        return True

    def rows(self) -> list[tuple[str, str, bytes | None]]:
        """The next commit's lines: additions, then removals."""
        return [(RAW, sha, doc) for sha, doc in self.pending.items()] + [
            (RAW, sha, None) for sha in sorted(self.dropped)
        ]

    def committed(self, placed: Iterable[tuple[str, DocRef]]) -> None:
        for sha, ref in placed:
            if sha in self.held:
                self.held[sha] = ref
        self.pending.clear()
        self.dropped.clear()

    def replay(self, sha: str, ref: DocRef | None) -> None:
        """A committed line read back from the changes file."""
        if ref is None:
            self.held.pop(sha, None)
        else:
            self.held[sha] = ref

    def write_out(self) -> None:
        """Every spilled email as its own file, durable with its folder's entry: before a
        checkpoint that no longer holds them is switched in. What is held stays held until
        `clear` (a checkpoint that then fails leaves them in the changes file as well)."""
        if not self.held:
            return
        jobs = [(raw_file(self.directory, sha), sha) for sha in self.held]
        folders = sorted({path.parent for path, _ in jobs})
        made = {folder.parent for folder in folders if make_dir_unsynced(folder)}

        def write(job: tuple[Path, str]) -> None:
            path, sha = job
            data = self.load(sha)
            assert data is not None
            put_durably(path, data)

        with ThreadPoolExecutor(min(len(jobs), _WRITERS), "raw-out") as pool:
            list(pool.map(write, jobs))
            list(pool.map(fsync_dir, [*folders, *sorted(made)]))

    def clear(self) -> None:
        self.held.clear()
        self.pending.clear()
        self.dropped.clear()
        self.purged = False
