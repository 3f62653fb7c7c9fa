"""`doctor`'s store check: the bot can write its data, and no other account can read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bot.operations.doctor import Finding


def check_store(directory: Path, *, windows: bool = os.name == "nt") -> list[Finding]:
    """Writable by the bot, and readable by nobody else."""
    if not directory.exists():
        parent = next((p for p in directory.parents if p.exists()), Path("/"))
        if os.access(parent, os.W_OK):
            return [Finding("store", "ok", f"{directory} will be created on first run (0700)")]
        return [
            Finding(
                "store",
                "fail",
                f"{directory} does not exist and {parent} is not writable",
                f"create {directory}, owned by the bot's account, mode 0700",
            )
        ]
    if not os.access(directory, os.W_OK | os.X_OK):
        return [
            Finding(
                "store",
                "fail",
                f"{directory} is not writable by this account",
                f"chown the folder to the bot's account (chown -R ccbot {directory})",
            )
        ]
    if windows:
        # Windows reports every file as readable by all (0666): the ACL is what counts, and
        # reading it needs the Windows API, so the operator is asked to look.
        return [
            Finding(
                "store",
                "warn",
                f"{directory} is writable; who else may read it is set by its ACL, not checked",
                f"icacls {directory} should list only the service account (and "
                "administrators): docs/windows.md, step 3",
            )
        ]
    exposed = [
        path
        for path in (directory, *directory.rglob("*"))
        if not path.is_symlink() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]
    if exposed:
        return [
            Finding(
                "store",
                "fail",
                f"{len(exposed)} file(s) in the store can be read by others, e.g. {exposed[0]}",
                f"chmod -R go-rwx {directory}",
            )
        ]
    # A command run once as root leaves root's files, which the service's account cannot
    # write: the next commit would fail in the night, not now.
    owner = directory.stat().st_uid
    strangers = [
        path
        for path in directory.rglob("*")
        if not path.is_symlink() and path.stat().st_uid != owner
    ]
    if strangers:
        return [
            Finding(
                "store",
                "fail",
                f"{len(strangers)} file(s) in the store belong to another account than the "
                f"store itself ({account(owner)}), e.g. {strangers[0]}",
                f"chown -R {account(owner)} {directory}, and run the bot only as that account",
            )
        ]
    return [Finding("store", "ok", f"{directory} is writable and owner-only ({account(owner)})")]


def account(uid: int) -> str:
    """The user name of `uid` where the system has one (not on Windows), else the number."""
    try:
        import pwd
    except ImportError:
        return str(uid)
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
