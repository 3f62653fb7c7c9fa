"""README's backup and restore steps (Running it for real, step 7), read from the README and
run as written against a store the bot made, on this checkout's bot."""

from __future__ import annotations

import stat
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from readme_steps import commands, server

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.store import Store

START = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
PROJECT = Path(__file__).resolve().parents[1]


def test_the_readme_backup_and_restore_steps_work_as_written(tmp_path: Path) -> None:
    data = tmp_path / "var/lib/contract-concerns"
    data.mkdir(parents=True, mode=0o700)
    ws = Workspace(tmp_path / "etc/contract-concerns", START, replace={
        "directory: var/store": f"directory: {data}/store",
        "directory: var/mailbox": f"directory: {data}/mailbox",
    })
    for n in range(2):
        ws.email(f"referrer{n}@nhs.example", f"Concern {n}: Oakview Care Home",
                 f"A contract concern about Oakview Care Home, visit {n}.\nRegards",
                 at=START + timedelta(minutes=n))
    ws.run(START + timedelta(minutes=30))
    ws.close()

    host = server(tmp_path, sys.executable, pythonpath=str(PROJECT))
    host.keys()
    assert any("crontab -u ccbot" in line for line in commands("backup-commands"))
    host.back_up()
    backups = tmp_path / "var/backups/contract-concerns"
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    [archive] = backups.iterdir()
    assert archive.name == f"store-{date.today():%Y-%m-%d}.tar.gz.age"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert archive.read_bytes().startswith(b"age-encryption.org/v1\n")

    host.restore()
    assert (data / "store.before-restore" / "open.json").is_file()
    with Store(data / "store") as restored:
        assert len(restored.open_references()) == 2
