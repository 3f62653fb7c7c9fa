"""A small owner-only file saying a poll is under way, so `status` in another process sees it."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from bot.store.files import atomic_write

MARKER = "poll-running.json"


def marker_path(store_directory: Path) -> Path:
    return Path(store_directory) / MARKER


def mark_started(store_directory: Path, started: datetime) -> None:
    """Record that a poll began at `started` (in a file, not the store: the store's changes
    are committed only when the poll ends, and a stuck poll never gets there)."""
    record = {"started": started.isoformat(), "pid": os.getpid()}
    atomic_write(marker_path(store_directory), json.dumps(record).encode(), sync=False)


def mark_finished(store_directory: Path) -> None:
    marker_path(store_directory).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def running_since(store_directory: Path) -> datetime | None:
    """When the poll now running began; None when none runs (or its process has died)."""
    try:
        record = json.loads(marker_path(store_directory).read_bytes())
        started = datetime.fromisoformat(str(record["started"]))
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # A daemon killed mid-poll leaves its marker behind: that poll is not running any more.
    return started if _alive(pid) else None
