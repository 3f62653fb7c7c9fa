"""Reading a backup back: every member checked for a safe name and against the manifest,
written owner-only into an empty folder. Nothing is trusted until the whole file is read."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bot.store.backup import age
from bot.store.backup.layout import MANIFEST, safe_name
from bot.store.backup.manifest import Manifest
from bot.store.errors import BackupError
from bot.store.files import DIR_MODE, FILE_MODE

_GZIP = b"\x1f\x8b"
_MANIFEST_MAX = 256 << 20  # a manifest of a million files is a fraction of this


def unpack(file: Path, into: Path, *, key: str | None) -> Manifest:
    """Extract the backup `file` into `into` (an empty folder) and check it by its manifest."""
    try:
        with file.open("rb") as source:
            head = source.read(len(age.MAGIC))
            source.seek(0)
            with _plain(source, head, key, file) as plain:
                return _extract(plain, file, into)
    except FileNotFoundError:
        raise BackupError(f"there is no backup at {file}; check the path") from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(
            f"{file} is damaged or is not a backup made by this bot ({exc}); it was not restored"
        ) from None
    except OSError as exc:
        raise BackupError(f"could not restore {file}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def _plain(source: BinaryIO, head: bytes, key: str | None, file: Path) -> Iterator[BinaryIO]:
    if head == age.MAGIC:
        with age.decrypting(source, age.identity(key, file), file) as plain:
            yield plain
    elif head.startswith(_GZIP):
        yield source
    else:
        raise BackupError(f"{file} is not a backup made by this bot (neither gzip nor age)")


def _extract(plain: BinaryIO, file: Path, into: Path) -> Manifest:
    found: dict[str, dict[str, Any]] = {}
    manifest: Manifest | None = None
    with gzip.GzipFile(fileobj=plain, mode="rb") as unzipped, tarfile.open(
        fileobj=unzipped, mode="r|"
    ) as tar:
        for member in tar:
            if manifest is not None:
                raise BackupError(f"{file} has files after its manifest; it was not restored")
            stream = tar.extractfile(member) if member.isreg() else None
            if stream is None:
                raise BackupError(f"{file} holds {member.name!r}, which is not a plain file; "
                                  "it was not restored")
            if member.name == MANIFEST:
                if member.size > _MANIFEST_MAX:
                    raise BackupError(f"{file} has an oversized manifest; not restored")
                manifest = Manifest.parse(stream.read(), file)
                continue
            name = safe_name(member.name)
            if name is None or name in found:
                raise BackupError(f"{file} holds {member.name!r}, a name a store never has; "
                                  "it was not restored")
            found[name] = _write(into, name, stream)
        # The tar ends at its end-of-archive blocks; gzip checks its CRC and length only
        # at the end of the stream, so read the padding and the trailer too.
        while unzipped.read(1 << 16):
            pass
    if manifest is None:
        raise BackupError(f"{file} has no manifest: it was cut short; it was not restored")
    _check(manifest, found, file)
    # One sync for every file and folder written (an fsync each took 50,000 of them 100 s).
    os.sync()
    return manifest


def _write(into: Path, name: str, stream: Any) -> dict[str, Any]:
    path = into / name
    for folder in reversed(path.relative_to(into).parents):
        with contextlib.suppress(FileExistsError):
            os.mkdir(into / folder, DIR_MODE)
    sha, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return {"sha256": sha.hexdigest(), "size": size}


def _check(manifest: Manifest, found: dict[str, dict[str, Any]], file: Path) -> None:
    for name, expected in manifest.files.items():
        got = found.get(name)
        if got is None:
            raise BackupError(f"{file} is damaged: store/{name}, listed in its manifest, is "
                              "missing; it was not restored")
        if got["sha256"] != expected["sha256"] or got["size"] != expected.get("size"):
            raise BackupError(f"{file} is damaged: store/{name} does not match its manifest "
                              "(sha256); it was not restored")
    extra = sorted(set(found) - set(manifest.files))
    if extra:
        raise BackupError(f"{file} holds store/{extra[0]}, which its manifest does not list; "
                          "it was not restored")
