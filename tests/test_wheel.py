"""The wheel `python -m build` makes installs in a fresh virtual environment and plays the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

# Building and installing with every dependency takes a minute or two: CI always runs it.
pytestmark = pytest.mark.skipif(
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


def test_the_wheel_installs_and_runs_the_demo_away_from_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(PROJECT)], cwd=tmp_path)
    [wheel] = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "bot/project_files/config.yaml",
        "bot/project_files/rules/procedure.yaml",
        "bot/operations/units/contract-concerns-bot.service",
    ):
        assert shipped in names
    assert any(name.startswith("bot/project_files/templates/") for name in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run([str(python), "-c", "import bot; print(bot.__file__)"], cwd=elsewhere)
    assert str(venv) in where.stdout, "the demo must run the installed copy, not the checkout"
    demo = run([str(python), "-m", "bot", "demo", "--quiet"], cwd=elsewhere)
    assert "9 cases" in demo.stdout and "final stages: closed 9" in demo.stdout
