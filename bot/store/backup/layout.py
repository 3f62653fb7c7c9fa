"""What a backup holds of a store folder, under which names, and what each part is."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from bot.store.journal import SEEN_FILE, SENT_FILE, TRIAGE_FILE

FORMAT = "contract-concerns-bot backup"
FORMAT_VERSION = 1
PREFIX = "store/"  # every file of the store is under this folder in the archive
MANIFEST = "manifest.json"  # the last member: versions, counts, a sha256 for every file
UPGRADE_FOLDER = "upgrade-backups"  # in the store: the automatic backup before a migration
STAGING = ".backup-"  # in the store: a backup's hard links, gone when it ends
# Frozen by hard links while commits wait: what a commit changes outside the changes file
# (closed cases), and the dashboard's instructions, which leave `new/` just after a commit.
FROZEN = ("closed", "instructions")
# Left out: locks, the poll marker, caches rebuilt from what they cache, temporary files.
_SKIPPED_NAMES = frozenset({"bot.lock", "commit.lock", "poll-running.json"})
_SKIPPED_FOLDERS = frozenset({"cache", UPGRADE_FOLDER})
_CHANGES = re.compile(r"^changes-\d+\.jsonl$")
_AUDIT = re.compile(r"^audit/\d{4}-\d{2}\.jsonl$")
_HISTORY = {SEEN_FILE: "seen", SENT_FILE: "sent", TRIAGE_FILE: "resolved"}
# What each history file counts in the manifest, by the store's counter that numbers its lines.
KINDS = {"audit": "audit_lines", "seen": "seen_keys", "sent": "letters_sent",
         "resolved": "triage_resolved"}


def counter_of(name: str) -> str | None:
    """The meta counter numbering the lines of a history file ("seq"), None for other files."""
    if _AUDIT.match(name):
        return "audit"
    return _HISTORY.get(name)


def skipped(name: str) -> bool:
    """Whether a file of the store folder stays out of backups (`name` relative, posix)."""
    parts = PurePosixPath(name).parts
    if not parts:
        return True
    last = parts[-1]
    return (
        (len(parts) == 1 and (last in _SKIPPED_NAMES or bool(_CHANGES.match(last))))
        or parts[0] in _SKIPPED_FOLDERS
        or parts[0].startswith(STAGING)
        or last.endswith(".fp")  # fingerprints of seen keys and sent ids: rebuilt when read
        or (last.startswith(".") and last.endswith(".tmp"))  # an atomic write under way
    )


def safe_name(name: str) -> str | None:
    """The store-relative path of an archive member, or None when it could escape the folder."""
    if not name.startswith(PREFIX):
        return None
    path = PurePosixPath(name[len(PREFIX) :])
    if not path.parts or path.is_absolute() or any(p in ("", ".", "..") for p in path.parts):
        return None
    if "\\" in name or "\x00" in name:
        return None
    return path.as_posix()
