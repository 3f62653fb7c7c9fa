"""Every hostile entry of tests/hostile_entries.py in the local inbox, and one `once` run as an
operator would (a subprocess under a time limit), with Python's audit hooks recording each file
the bot opens or changes: every entry ends handled, a duplicate, or quarantined with its reason,
unchanged; nothing outside the workspace is written, or read but the bot's code and the
system's files. Beside test_hostile_mailbox.py, this one runs at the default size limit (a
25 MB email), as root without root's power to read any file (so an unreadable file is real),
and with odd file names (not UTF-8, a backslash, 255 characters), a socket and a device."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hostile_entries import SECRET, Entry, entries, outside_files

from bot.clock import LONDON
from bot.demo.harness import PROJECT, Workspace
from bot.store import Store

START = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
NOW = "2026-11-02T11:00"
TIME_LIMIT = 300  # seconds for one `once`: only reached if it hangs
HERE = Path(__file__).resolve().parent
# Outside the workspace the bot may read its own code and the system's files, nothing else.
_CODE = {Path(sys.prefix), Path(sys.base_prefix), PROJECT, Path("/usr"), Path("/etc")}
READABLE = (*(str(p) for p in _CODE), "/dev/", "/proc/", "/sys/")


@dataclass
class Before:
    """What each entry was before the run, to prove it is still there, unchanged."""

    kind: int  # stat.S_IFMT of its lstat
    digest: str  # regular files: sha256 of the bytes; links: the target; folders: contents


def _describe(path: Path) -> Before:
    info = os.lstat(path)
    kind = stat.S_IFMT(info.st_mode)
    if stat.S_ISREG(info.st_mode):
        return Before(kind, hashlib.sha256(path.read_bytes()).hexdigest())
    if stat.S_ISLNK(info.st_mode):
        return Before(kind, os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return Before(kind, ",".join(sorted(os.listdir(path))))
    return Before(kind, "")


def _no_dac() -> list[str]:
    """A prefix that runs the bot without root's power to read any file, when root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.environ.get("CI") == "true":
            pytest.fail("setpriv (util-linux) is needed to test an unreadable file as root")
        return []
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, Path, list[Entry]]]:
    root = tmp_path / "workspace"
    ws = Workspace(root, START)
    limit = ws.app.config.limits.max_message_mb * 1024 * 1024
    ws.close()  # the bot under test runs in its own process
    outside = tmp_path / "outside"
    outside_files(outside)
    made = entries(START, limit)
    if not _no_dac():
        made = [e for e in made if e.needs != "no-dac"]
    new = root / "var" / "mailbox" / "inbox" / "new"
    for entry in made:
        entry.make(new, outside)
    yield root, outside, made


def _once(root: Path, log: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT), str(HERE)]),
        "PYTHONDONTWRITEBYTECODE": "1",  # no .pyc written beside the code
    }
    command = [sys.executable, str(HERE / "audited_cli.py"), str(log)]
    command += ["--config", str(root / "config.yaml"), "once", "--now", NOW]
    return subprocess.run(
        [*_no_dac(), *command],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        check=False,
    )


def _inside(path: str, folder: Path) -> bool:
    return path == str(folder) or path.startswith(str(folder) + os.sep)


def _reasons(root: Path) -> dict[str, str]:
    found = {}
    for sidecar in (root / "var" / "mailbox" / "quarantine-reasons").iterdir():
        record: dict[str, Any] = json.loads(sidecar.read_text())
        found[record["original_key"]] = record["reason"]
    return found


def _workspace_holds(root: Path, needle: bytes) -> list[str]:
    """Regular files in the workspace containing `needle`; links and FIFOs are not opened."""
    hits = []
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if stat.S_ISREG(os.lstat(path).st_mode) and needle in Path(path).read_bytes():
                hits.append(path)
    return hits


def test_every_hostile_entry_ends_handled_duplicate_or_quarantined(
    site: tuple[Path, Path, list[Entry]], tmp_path: Path
) -> None:
    root, outside, made = site
    mailbox = root / "var" / "mailbox"
    before = {e.name: _describe(mailbox / "inbox" / "new" / e.name) for e in made}
    outside_before = {p.name: (_describe(p), os.lstat(p).st_mtime_ns) for p in outside.iterdir()}
    log = tmp_path / "opened.json"

    run = _once(root, log)

    assert run.returncode == 0, run.stderr[-3000:]
    counts = re.search(
        r"poll: (\d+) fetched, (\d+) handled, (\d+) duplicates, (\d+) quarantined", run.stdout
    )
    assert counts is not None, run.stdout
    fetched, handled, duplicates, quarantined = map(int, counts.groups())
    wanted = {o: sum(1 for e in made if e.outcome == o) for o in ("handled", "duplicate")}
    assert (fetched, handled, duplicates) == (len(made), wanted["handled"], wanted["duplicate"])
    assert quarantined == len(made) - handled - duplicates

    # Nothing is left in the inbox, and nothing is lost: each entry is where its outcome
    # says, exactly as it was (a link still a link to the same target, never its target).
    for sub in ("new", "cur"):
        assert os.listdir(mailbox / "inbox" / sub) == []
    reasons = _reasons(root)
    for entry in made:
        folder = "quarantine" if entry.outcome == "quarantined" else "processed"
        path = mailbox / folder / "new" / entry.name
        assert os.path.lexists(path), f"{entry.name!r} is not in {folder}"
        assert _describe(path) == before[entry.name], entry.name
        if entry.outcome == "quarantined":
            assert entry.reason in reasons.get(entry.name, ""), (entry.name, reasons)
        else:
            assert entry.name not in reasons
    with Store(root / "var" / "store", read_only=True) as store:
        triage = [t for t in store.triage_items() if t.get("kind") == "quarantined"]
    assert len(triage) >= quarantined

    # Nothing outside the workspace was written, or read but the bot's code and the system's.
    opened: dict[str, list[str]] = json.loads(log.read_text())
    # /dev/null takes what a library throws away; it is no file.
    ours = (str(log), os.devnull)
    written = [p for p in opened["writes"] if not _inside(p, root) and p not in ours]
    assert written == []
    read = [p for p in opened["reads"] if not _inside(p, root)]
    assert [p for p in read if _inside(p, outside)] == []
    assert [p for p in read if not p.startswith(READABLE)] == []
    assert _workspace_holds(root, SECRET) == []
    after = {p.name: (_describe(p), os.lstat(p).st_mtime_ns) for p in outside.iterdir()}
    assert after == outside_before

    # A second run finds nothing more to do and changes nothing.
    again = _once(root, tmp_path / "opened-again.json")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "poll: 0 fetched" in again.stdout
