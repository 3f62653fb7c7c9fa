"""Keeping a message in the store as it is generated, a chunk at a time, so that a letter
carrying a large email is never whole in memory: its sha256, which names the file, is worked
out on the way."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bot.store.files import atomic_write, ensure_dir


def write_streamed(
    folder: Path, chunks: Iterable[bytes | memoryview], place: Callable[[str], Path]
) -> tuple[str, Path]:
    """Write `chunks` under `folder`, then move the file to `place(sha256)`; return both.
    Not fsynced: the caller's next commit does that."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield bytes(chunk) if isinstance(chunk, memoryview) else chunk

    ensure_dir(folder)
    # Written under a name of its own first: the sha that names it is known only at the end.
    writing = folder / f".writing-{os.urandom(16).hex()}.eml"
    try:
        atomic_write(writing, hashed(), sync=False)
        sha = digest.hexdigest()
        path = place(sha)
        ensure_dir(path.parent)
        os.replace(writing, path)
    except BaseException:
        writing.unlink(missing_ok=True)
        raise
    return sha, path
