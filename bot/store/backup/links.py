"""Hard links of the folders a commit changes outside its changes file, in a private folder
of the store, kept up to date cheaply: the backup's picture of them at one commit."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

from bot.store.backup.layout import STAGING
from bot.store.files import DIR_MODE, FILE_MODE


def make_staging(directory: Path) -> tuple[Path, int]:
    """A private folder in the store (hard links need the same file system), locked while in
    use so that a later backup knows a killed one's folder and removes it."""
    folder = Path(tempfile.mkdtemp(prefix=STAGING, dir=directory))
    os.chmod(folder, DIR_MODE)
    fd = os.open(folder / ".in-use", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return folder, fd


def remove_stale_staging(directory: Path) -> None:
    for folder in directory.glob(f"{STAGING}*"):
        try:
            fd = os.open(folder / ".in-use", os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime > 60:  # not one just being made
                    shutil.rmtree(folder, ignore_errors=True)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # another backup is running
        finally:
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)


def sync_links(source: Path, target: Path, linked: dict[str, int]) -> None:
    """Make `target` hold hard links to the files under `source` as they are now: `linked`
    says which file (by inode) each link is to. A file the bot replaced (it renames a new file
    over the old) has a new inode; the old inode stays linked here, so its number is never
    reused meanwhile. Where links are not possible, the file is copied."""
    seen: set[str] = set()
    _sync_folder(source, target, "", linked, seen)
    for name in [name for name in linked if name not in seen]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target / name)
        del linked[name]


def _sync_folder(
    source: Path, target: Path, prefix: str, linked: dict[str, int], seen: set[str]
) -> None:
    try:
        entries = list(os.scandir(source))
    except FileNotFoundError:
        return
    target.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for entry in entries:
        name = f"{prefix}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            _sync_folder(Path(entry.path), target / entry.name, f"{name}/", linked, seen)
            continue
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue  # an atomic write under way
        seen.add(name)
        inode = entry.inode()
        if linked.get(name) == inode:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target / entry.name)
        try:
            os.link(entry.path, target / entry.name)
        except FileNotFoundError:
            seen.discard(name)  # an instruction the daemon finished meanwhile (in done/)
            linked.pop(name, None)
            continue
        except OSError:
            try:
                shutil.copyfile(entry.path, target / entry.name)
            except FileNotFoundError:
                seen.discard(name)
                linked.pop(name, None)
                continue
            os.chmod(target / entry.name, FILE_MODE)
        linked[name] = inode
