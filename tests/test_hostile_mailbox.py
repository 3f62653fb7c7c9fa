"""Hostile entries in the local inbox: each `once` ends in time, every entry accounted for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hostile_inputs import drop_hostile, try_device

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.store import Store

PROJECT = Path(__file__).resolve().parents[1]
RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
SECRET = b"SECRET-4f1c9e-NOT-FOR-THE-STORE"
# Below the default 25 MB to keep the suite quick; bench/hostile_memory.py runs the full size.
LIMIT_MB = 8
ONCE_TIMEOUT = 300  # seconds: far above a normal run, far below "hangs for ever"


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _entries(folder: Path) -> dict[str, Path]:
    """Every entry in a Maildir folder's new/ and cur/, by key, links and FIFOs included."""
    found = {}
    for sub in ("new", "cur"):
        for path in (folder / sub).iterdir():
            if not path.name.startswith("."):
                found[path.name.split(":", 1)[0]] = path
    return found


def _once(root: Path, now: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    command = [sys.executable, "-m", "bot", "--config", str(root / "config.yaml"), "once"]
    # A hang (a FIFO opened for reading waits for a writer for ever) fails here, in time.
    return subprocess.run(
        [*command, "--now", now],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=ONCE_TIMEOUT,
        check=False,
    )


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path, list[str], dict[str, bytes]]:
    """A closed workspace whose inbox holds every hostile entry; a secret file outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET + b"\n")
    ws = Workspace(
        tmp_path / "ws", RECEIVED, replace={"max_message_mb: 25": f"max_message_mb: {LIMIT_MB}"}
    )
    ws.close()
    new = ws.root / "var" / "mailbox" / "inbox" / "new"
    names = drop_hostile(new, outside, LIMIT_MB * 1024 * 1024, RECEIVED)
    device = f"{int(RECEIVED.timestamp()) + len(names)}.device.hostile"
    if try_device(new / device, RECEIVED.timestamp() + len(names)):
        names.append(device)
    originals = {
        n: (new / n).read_bytes()
        for n in names
        if (new / n).is_file() and not (new / n).is_symlink() and "device" not in n
    }
    return ws.root, outside, names, originals


def test_every_hostile_entry_ends_handled_duplicate_or_quarantined(
    hostile: tuple[Path, Path, list[str], dict[str, bytes]],
) -> None:
    root, outside, names, originals = hostile
    before = _snapshot(outside)
    run = _once(root, "2026-11-02T09:30")
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"poll: {len(names)} fetched" in run.stdout, run.stdout + run.stderr[-2000:]
    mailbox = root / "var" / "mailbox"
    assert _entries(mailbox / "inbox") == {}, "an entry was left in the inbox"
    processed, quarantined = _entries(mailbox / "processed"), _entries(mailbox / "quarantine")
    # Nothing lost: every entry is in exactly one place, every regular file byte for byte.
    assert not processed.keys() & quarantined.keys()
    assert sorted(processed | quarantined) == sorted(names)
    for name, raw in originals.items():
        assert (processed | quarantined)[name].read_bytes() == raw, name
    reasons = {
        name: json.loads((mailbox / "quarantine-reasons" / f"{name}.json").read_text())["reason"]
        for name in quarantined
    }
    assert all(reasons.values()), reasons
    expected = {
        "link-to-secret": "symbolic link",
        "link-to-folder": "symbolic link",
        "link-dangling": "symbolic link",
        "fifo": "FIFO",
        "directory": "directory",
        "device": "character device",
        "empty": "empty message",
        "over-size": "limits.max_message_mb",
    }
    for name in names:
        label = name.split(".")[1]
        if label in expected:
            assert expected[label] in reasons.get(name, ""), (name, reasons.get(name))
    # Links were moved as links, their targets untouched; the target never read into the store.
    for name in names:
        if ".link-" in name:
            assert quarantined[name].is_symlink()
    assert _snapshot(outside) == before
    store_dir = root / "var" / "store"
    for path in store_dir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_bytes(), path
    # The duplicate is recognised as one; the over-size email was never read into the store.
    with Store(store_dir, read_only=True) as store:
        events = [e.get("event") for e in store.audit_entries()]
        assert events.count("duplicate") == 1
        triage = store.triage_items()
    over = next(n for n in names if ".over-size." in n)
    assert any(t["reason"].endswith(reasons[over]) and t["sha"] == "" for t in triage)
    # A second run finds nothing left and still ends in time.
    again = _once(root, "2026-11-02T09:45")
    assert again.returncode == 0 and "poll: 0 fetched" in again.stdout, again.stderr[-2000:]
