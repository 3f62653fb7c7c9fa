"""The poll in progress, recorded in a small file beside the store, so that `status` (another
process) shows a poll that has run too long even while the daemon itself cannot answer."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.store.files import atomic_write

FILE = "poll-running.json"


@dataclass(frozen=True)
class RunningPoll:
    started: datetime
    pid: int


def record_start(directory: Path, started: datetime, pid: int) -> None:
    # Not fsynced: after a power cut no poll is running, and a stale file names a dead pid.
    record = {"started": started.isoformat(), "pid": pid}
    atomic_write(directory / FILE, json.dumps(record).encode("utf-8"), sync=False)


def record_end(directory: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (directory / FILE).unlink()


def running_poll(directory: Path) -> RunningPoll | None:
    """The poll running now, if any: None when none is recorded or its process is gone."""
    try:
        record = json.loads((directory / FILE).read_text(encoding="utf-8"))
        started = datetime.fromisoformat(str(record["started"]))
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if started.tzinfo is None or not _alive(pid):
        return None
    return RunningPoll(started, pid)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # there, signal 0 is CTRL_C_EVENT: never send it; assume alive
        return True
    try:
        os.kill(pid, 0)  # no signal is sent: only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another account
        return True
    return True
