"""Where large queued letters are kept as files, and reading back any kept file."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.store.errors import StoreError
from bot.store.files import atomic_write, ensure_dir

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def letter_path(directory: Path, sha: str) -> Path:
    """A queued letter's file in the store at `directory`, by the sha256 of its bytes."""
    if not _SHA256.match(sha):
        raise ValueError(f"{sha!r} is not a sha256 hex digest")
    return directory / "letters" / f"{sha}.eml"


def read_kept(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StoreError(
            f"could not read {what} {path}: {exc.strerror or exc}; restore it from a backup"
        ) from exc


def write_letter(
    directory: Path, chunks: Iterable[bytes | memoryview]
) -> tuple[str, Path, bool]:
    """Write a letter to the store at `directory` as it is generated, a chunk at a time;
    return its sha256, its path and whether it is new. Not fsynced: the next commit does."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield bytes(chunk) if isinstance(chunk, memoryview) else chunk

    folder = directory / "letters"
    ensure_dir(folder)
    # Written under a name of its own first: the sha that names it is known only at the end.
    writing = folder / f".writing-{uuid.uuid4().hex}.eml"
    try:
        atomic_write(writing, hashed(), sync=False)
        path = letter_path(directory, digest.hexdigest())
        new = not path.exists()
        os.replace(writing, path)
    except BaseException:
        writing.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), path, new
