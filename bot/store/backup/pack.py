"""Writing a backup: the frozen store streamed into a tar.gz (age-encrypted when a key is
given), its manifest last, into an owner-only temporary file renamed into place at the end."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from bot import __version__
from bot.store.backup import age
from bot.store.backup.frozen import Frozen, Piece
from bot.store.backup.layout import MANIFEST, PREFIX
from bot.store.backup.manifest import Manifest, tally
from bot.store.errors import BackupError
from bot.store.files import FILE_MODE, fsync_dir


class _Counted:
    """A piece's bytes as tarfile reads them: hashed, and their lines counted, on the way."""

    def __init__(self, piece: Piece) -> None:
        self._piece = piece
        self.sha = hashlib.sha256()
        self.lines = 0

    def read(self, size: int = -1) -> bytes:
        data = self._piece.data.read(size)
        self.sha.update(data)
        self.lines += data.count(b"\n")
        return data


def write_backup(
    directory: Path, target: Path, *, key: str | None, now: datetime, timeout: float = 120.0
) -> Manifest:
    """Back up the store at `directory` to `target`, beside the running bot; never replaces a
    file. `key` (an age public or secret key) encrypts it."""
    directory, target = Path(directory).absolute(), Path(target).absolute()
    if target.exists():
        raise BackupError(f"{target} exists already; give the backup a new name (backups are "
                          "never overwritten)")
    if target.parent == directory or directory in target.parents:
        raise BackupError(f"{target} is inside the store it backs up; keep backups elsewhere")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist; create it (owner-only: "
                          "mkdir -m 700) first")
    to = age.recipient(key) if key else None
    return pack(directory, target, to, now, timeout)


def pack(directory: Path, target: Path, to: Any, now: datetime, timeout: float) -> Manifest:
    """The archive itself (also the automatic backup before an upgrade)."""
    frozen = Frozen(directory, timeout=timeout)
    try:
        # mkstemp makes the file 0600 from the start: it is never readable by others.
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                manifest = _stream(frozen, out, to, now)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        fsync_dir(target.parent)
        return manifest
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise BackupError(
            f"could not back up to {target}: {exc.strerror or exc}{where}; nothing was written"
        ) from exc
    finally:
        frozen.close()


def _stream(frozen: Frozen, out: BinaryIO, to: Any, now: datetime) -> Manifest:
    encrypted = age.encrypting(out, to) if to is not None else contextlib.nullcontext(out)
    with (
        encrypted as sink,
        gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6, mtime=0) as packed,
        tarfile.open(fileobj=packed, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        files: dict[str, dict[str, Any]] = {}
        history: dict[str, tuple[int, int]] = {}
        for piece in frozen.pieces():
            counted = _Counted(piece)
            info = tarfile.TarInfo(PREFIX + piece.name)
            info.size, info.mtime, info.mode = piece.size, int(piece.mtime), FILE_MODE
            try:
                tar.addfile(info, counted)
            except OSError as exc:
                if "unexpected end of data" not in str(exc):
                    raise
                raise BackupError(
                    f"{frozen.directory / piece.name} shrank while it was read; it is not "
                    "the store's own file: move it out of the store folder"
                ) from None
            files[piece.name] = {"sha256": counted.sha.hexdigest(), "size": piece.size}
            if piece.last_seq is not None:
                history[piece.name] = (counted.lines, piece.last_seq)
        manifest = Manifest(
            schema_version=frozen.schema_version,
            bot_version=__version__,
            created_at=now.isoformat(),
            source=str(frozen.directory),
            counts=tally(frozen.reader.tables, history, files, frozen.reader.path),
            files=files,
        )
        data = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(now.timestamp()), FILE_MODE
        tar.addfile(info, io.BytesIO(data))
    return manifest
