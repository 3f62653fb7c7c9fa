"""`backup`, `restore` and `backup-key`: the store copied beside the running bot, and back."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from bot.store import Store
from bot.store.backup import age
from bot.store.backup.manifest import Manifest, tally_folder
from bot.store.backup.pack import write_backup
from bot.store.backup.unpack import unpack
from bot.store.errors import BackupError, StoreError
from bot.store.files import DIR_MODE, ensure_dir, fsync_dir
from bot.store.meta_keys import SCHEMA_VERSION

__all__ = ["backup", "new_key_text", "restore"]


def backup(directory: Path, target: Path, now: datetime) -> str:
    """Write the backup; what to print. Encrypted when CCBOT_BACKUP_KEY is set."""
    key = os.environ.get(age.KEY_ENV) or None
    manifest = write_backup(directory, target, key=key, now=now)
    size = target.stat().st_size
    return (
        f"backed up {directory} to {target} ({_size(size)}, "
        f"{'encrypted with age' if key else f'not encrypted: {age.KEY_ENV} is not set'}): "
        f"{_counts(manifest)}"
    )


def restore(file: Path, target: Path) -> str:
    """Restore into `target` (missing or empty, with no bot on it); what to print."""
    target = target.absolute()
    _refuse_live(target)
    ensure_dir(target.parent)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.restoring-", dir=target.parent))
    try:
        os.chmod(work, DIR_MODE)
        manifest = unpack(file, work, key=os.environ.get(age.KEY_ENV) or None)
        _check_restored(manifest, work, file)
        _place(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    after = (
        f"; the bot will upgrade it to schema {SCHEMA_VERSION} when it starts, after backing "
        "it up" if manifest.schema_version < SCHEMA_VERSION else ""
    )
    return (
        f"restored {file} (made {manifest.created_at} by bot {manifest.bot_version} from "
        f"{manifest.source}) into {target}: {_counts(manifest)}{after}. Point store.directory "
        "at it if it is not there already, then start the bot"
    )


def new_key_text() -> str:
    secret, public = age.new_key()
    return (
        f"public key (for making backups; not secret):\n  {public}\n"
        f"secret key (for restoring; keep it away from the server, e.g. in the council's "
        f"password vault; without it the backups cannot be read):\n  {secret}\n"
        f"Back up with {age.KEY_ENV}={public}; restore with {age.KEY_ENV} set to the secret key."
    )


def _refuse_live(target: Path) -> None:
    lock = target / "bot.lock"
    if lock.exists():
        pid = _holder(lock)
        if pid is not False:
            raise BackupError(
                f"a bot is running on {target} (pid {pid or 'unknown'}): restore never "
                "overwrites a live store. Stop it (systemctl stop contract-concerns-bot "
                "contract-concerns-dashboard), move the folder aside, then restore"
            )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(
            f"{target} is not empty: restore only writes into an empty or missing folder, so "
            f"that it never overwrites a store. Move it aside first (mv {target} "
            f"{target}.before-restore), or restore elsewhere with --into DIR and point "
            "store.directory at it"
        )


def _holder(lock: Path) -> int | bool | None:
    """The pid holding the store's lock (None if unknown), or False when nobody holds it."""
    fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        with contextlib.suppress(ValueError, OSError):
            return int(os.pread(fd, 32, 0).decode().strip())
        return None
    finally:
        os.close(fd)
    return False


def _check_restored(manifest: Manifest, work: Path, file: Path) -> None:
    if manifest.schema_version > SCHEMA_VERSION:
        raise BackupError(
            f"{file} holds a store of schema {manifest.schema_version}, made by bot "
            f"{manifest.bot_version}; this bot knows schema {SCHEMA_VERSION} at most: restore "
            "it with that version of the bot or a later one"
        )
    try:
        with Store.open_snapshot(work):  # the restored store opens, as the bot will open it
            pass
        counts = tally_folder(work)
    except StoreError as exc:
        raise BackupError(f"{file} was read whole but its store does not open: {exc}") from exc
    wrong = {k: (v, counts.get(k)) for k, v in manifest.counts.items() if counts.get(k) != v}
    if wrong:
        detail = ", ".join(f"{k} {got} (manifest: {want})" for k, (want, got) in wrong.items())
        raise BackupError(f"{file} does not hold what its manifest says: {detail}; "
                          "it was not restored")


def _place(work: Path, target: Path) -> None:
    if target.exists():
        target.rmdir()  # empty, checked above: rename cannot replace a folder on every system
    os.rename(work, target)
    fsync_dir(target.parent)


def _counts(manifest: Manifest) -> str:
    c = manifest.counts
    return (
        f"{c['open_cases']} open cases, {c['closed_case_files']} closed, "
        f"{c['outbox_pending']} letters waiting and {c['letters_sent']} sent, "
        f"{c['audit_lines']} audit lines, {c['raw_files']} kept emails"
    )


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    amount, unit = size / 1024, "KB"
    for bigger in ("MB", "GB"):
        if amount < 1024:
            break
        amount, unit = amount / 1024, bigger
    return f"{amount:.1f} {unit}"
