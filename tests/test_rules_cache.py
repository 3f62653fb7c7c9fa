"""Checked rules kept for the next start: used while their files stay the same, never trusted
once one changes, and never written by the read-only commands."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from bot.config import ProblemsError
from bot.config.rules_cache import CACHE
from bot.demo.harness import PROJECT, copy_example
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
