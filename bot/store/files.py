"""Durable, owner-only file primitives: atomic replace, fsynced appends, JSON Lines reading."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bot.store.errors import StoreError

FILE_MODE = 0o600
DIR_MODE = 0o700
_TAIL_BLOCK = 4096


def make_dir_unsynced(path: Path) -> bool:
    """Create `path` as 0700 (its parents as `ensure_dir` does); True if this made it, when
    its entry in the parent folder is the caller's to fsync (a batch of folders at once)."""
    if path.is_dir():
        return False
    ensure_dir(path.parent)
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        return False
    os.chmod(path, DIR_MODE)
    return True


def ensure_dir(path: Path) -> None:
    """Create `path` (and missing parents) as 0700 whatever the umask, and make it durable."""
    if path.is_dir():
        return
    ensure_dir(path.parent)
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        return
    os.chmod(path, DIR_MODE)
    fsync_dir(path.parent)


def remove_durably(path: Path) -> bool:
    """Unlink a file and persist that; True if it was there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def fsync_dir(path: Path) -> None:
    """Persist a directory entry change (create, rename, unlink)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_chunks(fd: int, chunks: Iterable[bytes]) -> None:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= 1 << 20:
            _write_all(fd, bytes(buffer))
            buffer.clear()
    _write_all(fd, bytes(buffer))


def atomic_write(
    path: Path, data: bytes | Iterable[bytes], *, sync: bool = True, sync_dir: bool = True
) -> None:
    """Replace `path` with `data` so a crash leaves either the old or the new file, never half.

    With `sync=False` the caller owes an `fsync_file` and an `fsync_dir` before relying on it
    surviving a power cut (the store batches those into its commit); with `sync_dir=False`
    only the `fsync_dir`.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        # Pieces are written as they come, never joined: open.json can be a hundred MB.
        if isinstance(data, bytes):
            _write_all(fd, data)
        else:
            _write_chunks(fd, data)
        if sync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    if sync and sync_dir:
        fsync_dir(path.parent)


def fsync_file(path: Path) -> None:
    """Persist a file's contents written earlier without fsync."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_bytes(path: Path, data: bytes) -> None:
    """Append and fsync; a new file is created 0600 and its directory entry made durable."""
    is_new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if is_new:
        fsync_dir(path.parent)


def _tail(path: Path) -> tuple[int, bytes]:
    """Return (size, the file's end from a line start) holding its last complete line."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        start, chunk = size, b""
        # Read backwards until the chunk holds a full line before any partial tail.
        while start > 0 and chunk.count(b"\n") < 2:
            start = max(0, start - _TAIL_BLOCK)
            handle.seek(start)
            chunk = handle.read(size - start)
        if start > 0:
            chunk = chunk[chunk.index(b"\n") + 1 :]
        return size, chunk


def drop_partial_tail(path: Path) -> None:
    """Cut off a half-written last line left by a crash, so the next append starts clean."""
    if not path.exists():
        return
    size, chunk = _tail(path)
    if size == 0 or chunk.endswith(b"\n"):
        return
    cut = chunk.rfind(b"\n")
    keep = size - len(chunk) + cut + 1 if cut >= 0 else size - len(chunk)
    os.truncate(path, keep)


def last_json_line(path: Path) -> dict[str, Any] | None:
    """The last complete JSON line of a file, ignoring a half-written tail."""
    if not path.exists():
        return None
    _, chunk = _tail(path)
    lines = [line for line in chunk.split(b"\n")[:-1] if line.strip()]
    if not lines:
        return None
    return _parse_line(path, lines[-1], None)


def _parse_line(path: Path, line: bytes, number: int | None) -> dict[str, Any]:
    where = f"{path} line {number}" if number is not None else f"the last line of {path}"
    try:
        value = load_json(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{where} is not valid JSON ({exc}); restore it from a backup") from exc
    if not isinstance(value, dict):
        raise StoreError(f"{where} is not a JSON object; restore the file from a backup")
    return value


def read_json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Each complete line of a JSON Lines file; a half-written last line is skipped."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                return
            if line.strip():
                yield _parse_line(path, line, number)


def read_json(path: Path) -> Any:
    """Parse a whole JSON file; damage is reported with the file name and the file left alone."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"could not read {path}: {exc.strerror or exc}") from exc
    try:
        return load_json(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(
            f"{path} is not valid JSON ({exc}); it was left untouched: "
            "restore it from a backup or move it aside"
        ) from exc


# orjson rather than the standard json module: the store writes and reads megabytes of its
# own JSON at every tick and start (a case is some 15 KB), and orjson does each three to five
# times faster. Times and dataclasses go to its `default`, which there is none of, so they
# fail here as with json: only plain data is stored.
_PLAIN = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON. Unlike json.dumps, keys must be strings, and NaN and infinities are
    written as null (`json_bytes`, which data from outside the store goes through, refuses
    them)."""
    return orjson.dumps(value, option=_PLAIN)


def load_json(data: bytes | str) -> Any:
    return orjson.loads(data)


def json_copy(value: Any, what: str) -> Any:
    """A deep copy that also proves `value` is plain JSON, so bad data fails at the call site."""
    return load_json(json_bytes(value, what))


def json_clone(value: Any) -> Any:
    """A deep copy of data known to be plain JSON (the store's own): several times quicker
    than copy.deepcopy, which the outbox's hundreds of items met at every delivery."""
    if type(value) is dict:
        return {key: json_clone(item) for key, item in value.items()}
    if type(value) is list:
        return [json_clone(item) for item in value]
    return value  # str, int, float, bool, None: immutable


def json_bytes(value: Any, what: str) -> bytes:
    """`value` encoded, proving it is plain JSON, so bad data fails at the call site."""
    try:
        encoded = dump_json(value)
        if b"null" in encoded:  # where orjson writes a NaN or an infinity, as well as None
            _refuse_non_finite(value)
        return encoded
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be plain JSON data (str, int, list, dict...): {exc}") from exc


def _refuse_non_finite(value: Any) -> None:
    """A ValueError for a NaN or an infinity anywhere in `value`, as json.dumps gave with
    allow_nan=False: JSON has no such numbers."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
    elif isinstance(value, dict):
        for item in value.values():
            _refuse_non_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_non_finite(item)
