"""`python -m bot backup`, `restore` and `backup-key` as an operator runs them: owner-only
files whatever the umask, encryption with a key from the environment, and clear refusals."""

from __future__ import annotations

import gzip
import io
import os
import stat
import subprocess
import sys
import tarfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.store import Store

START = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace whose store holds a few cases, letters and audit lines; its config."""
    space = Workspace(tmp_path / "ws", START)
    for n in range(3):
        space.email(f"referrer{n}@nhs.example", f"Concern {n}: Oakview Care Home",
                    f"I am raising a contract concern about Oakview Care Home, visit {n}.\n"
                    "Regards", at=START + timedelta(minutes=n))
    space.run(START + timedelta(minutes=30))
    space.close()
    return tmp_path / "ws" / "config.yaml"


def bot(*args: str, key: str | None = None, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CCBOT_BACKUP_KEY"}
    env["PYTHONPATH"] = str(PROJECT)
    if key is not None:
        env["CCBOT_BACKUP_KEY"] = key

    def set_umask() -> None:
        os.umask(umask)

    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True,
        timeout=300, check=False, preexec_fn=set_umask,
    )


def keys() -> tuple[str, str]:
    made = bot("backup-key")
    assert made.returncode == 0, made.stderr
    lines = [line.strip() for line in made.stdout.splitlines()]
    public = next(line for line in lines if line.startswith("age1"))
    secret = next(line for line in lines if line.startswith("AGE-SECRET-KEY-1"))
    return public, secret


def test_backup_and_restore_through_the_command_line(ws: Path, tmp_path: Path) -> None:
    archive = tmp_path / "backups" / "store-2026-11-02.tar.gz"
    archive.parent.mkdir()
    made = bot("--config", str(ws), "backup", str(archive), umask=0)  # even with umask 0
    assert made.returncode == 0, made.stderr
    assert "3 open cases" in made.stdout and "not encrypted" in made.stdout
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert not [p for p in archive.parent.iterdir() if p != archive]  # no temporary left
    again = bot("--config", str(ws), "backup", str(archive))
    assert again.returncode == 3 and f"{archive} exists already" in again.stderr

    into = tmp_path / "restored"
    done = bot("restore", str(archive), "--into", str(into), umask=0)
    assert done.returncode == 0, done.stderr
    assert "3 open cases" in done.stdout
    assert stat.S_IMODE(into.stat().st_mode) == 0o700
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in into.rglob("*")}
    assert all(mode == (0o700 if p.is_dir() else 0o600) for p, mode in modes.items())
    assert not list(tmp_path.glob(".restored.restoring-*"))
    with Store(into) as store:
        assert len(store.open_references()) == 3
    original = ws.parent / "var" / "store"
    for path in original.rglob("*"):
        name = path.relative_to(original).as_posix()
        if path.is_file() and not name.endswith((".lock", ".fp")) and "cache" not in name:
            assert (into / name).read_bytes() == path.read_bytes(), name


def test_restore_goes_to_the_configured_store_only_when_it_is_empty(
    ws: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "b.tar.gz"
    assert bot("--config", str(ws), "backup", str(archive)).returncode == 0
    store = ws.parent / "var" / "store"

    with Store(store):  # the bot is running on it
        refused = bot("--config", str(ws), "restore", str(archive))
    assert refused.returncode == 3
    assert f"a bot is running on {store} (pid {os.getpid()})" in refused.stderr
    assert "systemctl stop contract-concerns-bot" in refused.stderr

    refused = bot("--config", str(ws), "restore", str(archive))  # stopped, but not empty
    assert refused.returncode == 3
    assert f"{store} is not empty" in refused.stderr and f"mv {store}" in refused.stderr

    store.rename(tmp_path / "moved-aside")
    store.mkdir(mode=0o700)  # an empty folder is fine too
    done = bot("--config", str(ws), "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert (store / "open.json").is_file()


def test_an_encrypted_backup_needs_the_secret_key(ws: Path, tmp_path: Path) -> None:
    public, secret = keys()
    archive = tmp_path / "b.tar.gz.age"
    made = bot("--config", str(ws), "backup", str(archive), key=public)
    assert made.returncode == 0 and "encrypted with age" in made.stdout
    assert archive.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert b"CC-2026-0001" not in archive.read_bytes()

    into = str(tmp_path / "restored")
    missing = bot("restore", str(archive), "--into", into)
    assert missing.returncode == 3
    assert f"{archive} is encrypted: set CCBOT_BACKUP_KEY" in missing.stderr
    only_public = bot("restore", str(archive), "--into", into, key=public)
    assert "holds a public key (age1...), which makes backups but cannot open" in (
        only_public.stderr
    )
    _, other = keys()
    wrong = bot("restore", str(archive), "--into", into, key=other)
    assert wrong.returncode == 3
    assert f"{archive} was not encrypted for the key in CCBOT_BACKUP_KEY" in wrong.stderr
    nonsense = bot("--config", str(ws), "backup", str(tmp_path / "x"), key="hunter2")
    assert nonsense.returncode == 3 and "neither an age public key" in nonsense.stderr
    assert not (tmp_path / "restored").exists()

    data = archive.read_bytes()
    changed = tmp_path / "changed.tar.gz.age"
    middle = len(data) // 2
    changed.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    refused = bot("restore", str(changed), "--into", into, key=secret)
    assert refused.returncode == 3 and f"{changed} is damaged" in refused.stderr
    assert not (tmp_path / "restored").exists()

    done = bot("restore", str(archive), "--into", into, key=secret)
    assert done.returncode == 0, done.stderr
    with Store(Path(into)) as store:
        assert len(store.open_references()) == 3


def test_a_damaged_backup_is_refused_and_named(ws: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    assert bot("--config", str(ws), "backup", str(archive)).returncode == 0
    data = archive.read_bytes()
    into = str(tmp_path / "restored")

    flipped = tmp_path / "flipped.tar.gz"
    middle = len(data) // 2
    flipped.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    other = tmp_path / "notes.txt"
    other.write_text("not a backup\n")
    for bad in (flipped, cut, other):
        refused = bot("restore", str(bad), "--into", into)
        assert refused.returncode == 3, bad
        assert str(bad) in refused.stderr
        assert not Path(into).exists() and not list(tmp_path.glob(".restored.restoring-*"))

    # A file changed and the archive packed again, well formed: only the manifest tells.
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive, "r:gz") as source, tarfile.open(tampered, "w:gz") as target:
        for member in source:
            content = source.extractfile(member)
            assert content is not None
            body = content.read()
            if member.name == "store/changes-1.jsonl":  # where the cases are, so far
                body = body.replace(b"CC-2026-0001", b"CC-2026-0009")
            target.addfile(member, io.BytesIO(body))
    refused = bot("restore", str(tampered), "--into", into)
    assert refused.returncode == 3
    assert f"{tampered} is damaged: store/changes-1.jsonl does not match its manifest" in (
        refused.stderr
    )
    # A member that would escape the folder.
    escape = tmp_path / "escape.tar.gz"
    with gzip.open(escape, "wb") as packed, tarfile.open(fileobj=packed, mode="w|") as tar:
        info = tarfile.TarInfo("store/../../evil")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    refused = bot("restore", str(escape), "--into", into)
    assert refused.returncode == 3 and "a name a store never has" in refused.stderr
    assert not (tmp_path / "evil").exists()
