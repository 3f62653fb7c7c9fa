"""Encryption of backups with age (X25519, via pyrage), streamed through a pipe.

age is a small, well-specified format (age-encryption.org/v1) that the `age` and `rage` tools
read too, so a backup opens without this bot. Its payload is authenticated in 64 KiB chunks:
nothing is read back that was changed, and a cut-short file is refused.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pyrage

from bot.store.errors import BackupError

KEY_ENV = "CCBOT_BACKUP_KEY"
MAGIC = b"age-encryption.org/v1\n"
_SECRET = "AGE-SECRET-KEY-1"
_MAKE = "make a key pair with `python -m bot backup-key`"


def new_key() -> tuple[str, str]:
    """A new (secret key, public key)."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def recipient(key: str) -> Any:
    """Who a backup is encrypted for: the public key, or the public half of a secret key."""
    key = key.strip()
    try:
        if key.upper().startswith(_SECRET):
            return pyrage.x25519.Identity.from_str(key).to_public()
        if key.startswith("age1"):
            return pyrage.x25519.Recipient.from_str(key)
    except (pyrage.IdentityError, pyrage.RecipientError, ValueError):
        pass
    raise BackupError(
        f"{KEY_ENV} holds neither an age public key (age1...) nor an age secret key "
        f"(AGE-SECRET-KEY-1...); {_MAKE}"
    )


def identity(key: str | None, file: Path) -> Any:
    """The secret key that opens `file`, from the environment variable's value."""
    if not key:
        raise BackupError(
            f"{file} is encrypted: set {KEY_ENV} to the secret key (AGE-SECRET-KEY-1...) "
            "kept when the backups were set up, and run the restore again"
        )
    key = key.strip()
    if key.startswith("age1"):
        raise BackupError(
            f"{KEY_ENV} holds a public key (age1...), which makes backups but cannot open "
            f"{file}: set it to the matching secret key (AGE-SECRET-KEY-1...)"
        )
    try:
        return pyrage.x25519.Identity.from_str(key)
    except (pyrage.IdentityError, ValueError):
        raise BackupError(f"{KEY_ENV} is not an age secret key (AGE-SECRET-KEY-1...)") from None


class _Pump:
    """pyrage copies `source` to `target` through age in a thread, then closes `owned` (its
    end of the pipe the other side reads or writes)."""

    def __init__(self, work: Any, source: BinaryIO, target: BinaryIO, keys: list[Any],
                 owned: BinaryIO) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            try:
                work(source, target, keys)
            except BaseException as exc:
                self.error = exc
            finally:
                with contextlib.suppress(OSError):  # the other side had gone
                    owned.close()

        self._thread = threading.Thread(target=run, name="backup-age", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()


def _pipe() -> tuple[BinaryIO, BinaryIO]:
    read_fd, write_fd = os.pipe()
    return os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb")


@contextmanager
def encrypting(out: BinaryIO, to: Any) -> Iterator[BinaryIO]:
    """Bytes written to what this yields reach `out` encrypted for `to`."""
    source, sink = _pipe()
    pump = _Pump(pyrage.encrypt_io, source, out, [to], owned=source)
    try:
        yield sink
        sink.close()
    except BrokenPipeError:
        pass  # pyrage stopped: its error is raised below
    finally:
        with contextlib.suppress(OSError):
            sink.close()
        pump.join()
    if pump.error is not None:
        raise BackupError(f"could not encrypt the backup: {pump.error}") from pump.error


@contextmanager
def decrypting(source: BinaryIO, key: Any, file: Path) -> Iterator[BinaryIO]:
    """What this yields reads `source` decrypted; a wrong key or a change is a BackupError."""
    plain, sink = _pipe()
    pump = _Pump(pyrage.decrypt_io, source, sink, [key], owned=sink)
    try:
        yield plain
    except Exception:
        plain.close()  # the pump's writes fail now, and it stops
        pump.join()
        if pump.error is not None:
            raise _decrypt_error(pump.error, key, file) from None
        raise
    while plain.read(1 << 16):
        pass  # the rest, so that age checks the last chunk
    plain.close()
    pump.join()
    if pump.error is not None:
        raise _decrypt_error(pump.error, key, file) from None


def _decrypt_error(error: BaseException, key: Any, file: Path) -> BackupError:
    if "no matching keys" in str(error).lower():
        return BackupError(
            f"{file} was not encrypted for the key in {KEY_ENV} (public key "
            f"{key.to_public()}): set it to the secret key the backup was made for"
        )
    return BackupError(f"{file} is damaged: it could not be decrypted ({error}); not restored")
