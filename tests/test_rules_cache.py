"""Checked rules kept for the next start: used while their files stay the same, never trusted
once one changes, and never written by the read-only commands."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from referrals import refer

from bot.clock import LONDON
from bot.config import ProblemsError
from bot.config.rules_cache import CACHE, cached_listing
from bot.demo.harness import PROJECT, Workspace, copy_example
from bot.rules import Rules


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    copy_example(tmp_path, source=PROJECT)
    (tmp_path / "var" / "store").mkdir(parents=True)
    return tmp_path


def kept(workspace: Path) -> Rules:
    rules = Rules.load(workspace / "config.yaml")
    assert not rules.kept
    rules.keep(workspace / "config.yaml")
    return rules


def test_kept_rules_are_used_while_nothing_changes(workspace: Path) -> None:
    first = kept(workspace)
    cache = workspace / "var" / "store" / CACHE
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    again = Rules.load(workspace / "config.yaml")
    assert again.kept  # from the cache
    assert again.config.model_dump() == first.config.model_dump()
    assert again.procedure == first.procedure
    assert again.classification == first.classification
    assert again.policy == first.policy
    assert again.renderer.names() == first.renderer.names()


@pytest.mark.parametrize(
    "change",
    ["config.yaml", "rules/procedure.yaml", "rules/commands.yaml", "a new template"],
)
def test_any_change_to_what_they_were_read_from_is_read_again(
    workspace: Path, change: str
) -> None:
    kept(workspace)
    if change == "a new template":
        template = workspace / "templates" / "extra_note.txt.j2"
        template.write_text("{% block subject %}x{% endblock %}")
    else:
        path = workspace / change
        path.write_text(path.read_text() + "\n# edited\n")
    assert not Rules.load(workspace / "config.yaml").kept


def test_a_mistake_is_still_reported_with_its_file_and_line(workspace: Path) -> None:
    kept(workspace)
    path = workspace / "rules" / "commands.yaml"
    path.write_text(path.read_text() + "\nbroken: [not closed\n")
    with pytest.raises(ProblemsError) as raised:
        Rules.load(workspace / "config.yaml")
    lines = len(path.read_text().splitlines())
    assert any(p.file == str(path) and p.line >= lines - 1 for p in raised.value.problems)


def test_a_damaged_cache_is_ignored(workspace: Path) -> None:
    kept(workspace)
    cache = workspace / "var" / "store" / CACHE
    data = bytearray(cache.read_bytes())
    data[-10] ^= 0xFF
    cache.write_bytes(bytes(data))
    rules = Rules.load(workspace / "config.yaml")
    assert not rules.kept and rules.config.council.name


def test_nothing_is_kept_without_a_store_folder(workspace: Path) -> None:
    shutil.rmtree(workspace / "var")
    kept(workspace)
    assert not (workspace / "var").exists()


def listed(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot cases` in its own process, reporting after it whether pydantic and
    a YAML parser were imported."""
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        f"status = main(['--config', {str(config)!r}, 'cases', '--now', '2026-12-01T11:00'])\n"
        "print('imported:', sorted(m for m in ('pydantic', 'yaml') if m in sys.modules))\n"
        "raise SystemExit(status)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *extra], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def played(tmp_path: Path) -> Path:
    """A workspace whose bot has run once (so it kept its rules) with three cases open."""
    start = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
    space = Workspace(tmp_path / "ws", start)
    refer(space, ("Oakview Care Home", "Brightpath Home Care", "Oakview"), start)
    space.run(start + timedelta(hours=1))
    space.close()
    return tmp_path / "ws" / "config.yaml"


def test_the_list_of_cases_comes_from_the_cache_without_pydantic_or_yaml(played: Path) -> None:
    """What the list shows is the same whether it came from the cache's plain listing or from
    the rules read and checked again; only the first spares importing the models."""
    fast = listed(played)
    assert fast.returncode == 0, fast.stderr
    assert fast.stdout.endswith("imported: []\n"), fast.stdout[-300:]
    assert "Oakview Care Home Ltd" in fast.stdout and "3 open case(s)" in fast.stdout

    assert cached_listing(played) == Rules.check(played).listing
    (played.parent / "var" / "store" / CACHE).unlink()
    assert cached_listing(played) is None
    slow = listed(played)
    assert slow.returncode == 0, slow.stderr
    assert "'pydantic'" in slow.stdout.splitlines()[-1]
    assert slow.stdout.splitlines()[:-1] == fast.stdout.splitlines()[:-1]


@pytest.mark.parametrize(
    "section",
    [
        "store:\n  directory: 'var/elsewhere'   # quoted, with a comment\n",
        "store:\n  # a comment first\n\n  directory: var/elsewhere\n",
        "store: {directory: var/elsewhere}\n",  # no plain pair: found by the YAML parser
    ],
)
def test_the_cache_is_found_however_the_store_folder_is_written(
    workspace: Path, section: str
) -> None:
    config = workspace / "config.yaml"
    text = config.read_text()
    old = re.search(r"^store:\n(?:[ \t]+.*\n)+", text, flags=re.MULTILINE)
    assert old is not None
    config.write_text(text.replace(old.group(0), section))
    (workspace / "var" / "elsewhere").mkdir()
    kept(workspace)
    assert (workspace / "var" / "elsewhere" / CACHE).is_file()
    listing = cached_listing(config)
    assert listing is not None and listing.store == workspace / "var" / "elsewhere"


def test_a_cache_where_the_guess_looks_is_not_taken_for_another_configs(
    workspace: Path,
) -> None:
    """The plain `directory:` line is only a guess at where the cache is: a cache there that
    was kept for another config file is refused, whatever it holds."""
    config = workspace / "config.yaml"
    kept(workspace)
    twin = workspace / "twin.yaml"  # the same text, the same store folder, another file
    twin.write_text(config.read_text())
    assert cached_listing(config) is not None
    assert cached_listing(twin) is None
    assert not Rules.load(twin).kept
