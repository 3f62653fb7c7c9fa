"""The wheel `python -m build` makes installs in a fresh virtual environment and plays the demo."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from readme_steps import server

from bot.demo.harness import copy_example, project_files

PROJECT = Path(__file__).resolve().parents[1]

# Building and installing with every dependency takes a few minutes: CI always runs it.
slow = pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("CCBOT_WHEEL_TEST") != "1",
    reason="slow: runs under CI=true, or set CCBOT_WHEEL_TEST=1",
)


def run(argv: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{argv}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_the_demo_never_takes_a_config_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "config.yaml").write_text("council: {name: A council's live config}\n")
    monkeypatch.chdir(tmp_path)
    assert project_files() == PROJECT  # the checkout's example, in a checkout


@slow
def test_the_wheel_installs_and_runs_the_demo_away_from_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(PROJECT)], cwd=tmp_path)
    [wheel] = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "bot/project_files/config.yaml",
        "bot/project_files/rules/procedure.yaml",
        "bot/project_files/assets/logo.svg",
        "bot/letters/assets/letter.css",
        "bot/project_files/examples/mailbox-graph.yaml",
        "bot/project_files/docs/microsoft-365.md",
        "bot/project_files/docs/windows.md",
        "bot/operations/units/contract-concerns-bot.service",
        "bot/views/web/templates/layout.html",
        "bot/views/web/static/dashboard.css",
    ):
        assert shipped in names
    assert any(name.startswith("bot/project_files/templates/") for name in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    # A council's own config folder: the demo must play on its own example, never on this.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "rules").mkdir(parents=True)
    (elsewhere / "config.yaml").write_text("council: {name: Not The Example}\n")
    where = run([str(python), "-c", "import bot; print(bot.__file__)"], cwd=elsewhere)
    assert str(venv) in where.stdout, "the demo must run the installed copy, not the checkout"
    demo = run([str(python), "-m", "bot", "demo", "--quiet"], cwd=elsewhere)
    assert "11 cases" in demo.stdout and "closed 9" in demo.stdout
    assert " web --now 2027-04-09T18:00" in demo.stdout  # the command for the dashboard
    follow_running_it_for_real(python, tmp_path)
    # 7 and 8: backing up, restoring and upgrading, by the README's own commands.
    host = server(tmp_path, str(python))
    host.keys()
    host.back_up()
    [archive] = (tmp_path / "var/backups/contract-concerns").iterdir()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    host.restore()
    data = tmp_path / "var/lib/contract-concerns"
    assert (data / "store.before-restore" / "open.json").is_file()
    assert (data / "store" / "open.json").read_bytes() == (
        data / "store.before-restore" / "open.json"
    ).read_bytes()
    host.upgrade(dist)


def follow_running_it_for_real(python: Path, root: Path) -> None:
    """README's "Running it for real", step by step, under `root` instead of / (no systemctl)."""
    etc, data = root / "etc/contract-concerns", root / "var/lib/contract-concerns"
    units = root / "units"
    etc.mkdir(parents=True)
    data.mkdir(parents=True, mode=0o700)
    # 2. Configure: the files the package carries, with the data folders under /var/lib.
    probe = "import bot, pathlib; print(pathlib.Path(bot.__file__).parent)"
    where = run([str(python), "-c", probe], cwd=root)
    shipped = Path(where.stdout.strip()) / "project_files"
    copy_example(etc, source=shipped, config=False)
    text = (shipped / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("directory: var/store", f"directory: {data}/store")
    text = text.replace("directory: var/mailbox", f"directory: {data}/mailbox")
    text = text.replace("shared_drive: var/shared-drive", f"shared_drive: {data}/shared-drive")
    config = etc / "config.yaml"
    config.write_text(text, encoding="utf-8")
    bot = [str(python), "-m", "bot", "--config", str(config)]
    assert "ok" in run([*bot, "lint"], cwd=root).stdout
    # 3. Check before the first real email.
    doctor = run([*bot, "doctor"], cwd=root)
    assert "everything checked is ready" in doctor.stdout
    # 4. Install the services.
    installed = run([*bot, "install-service", "--unit-dir", str(units)], cwd=root)
    assert "systemctl enable --now" in installed.stdout
    unit = (units / "contract-concerns-bot.service").read_text(encoding="utf-8")
    assert f"ReadWritePaths={data}/mailbox {data}/shared-drive {data}/store" in unit
    assert f"ExecStart={python} -m bot --config {config} --log-format json run" in unit
    # 5 and 6. One poll as the service would run it, logging JSON lines.
    once = run([*bot, "--log-format", "json", "--log-level", "INFO", "once"], cwd=root)
    assert "poll: 0 fetched" in once.stdout
    status = run([*bot, "status", "--json"], cwd=root)
    assert json.loads(status.stdout)["last_poll"]
