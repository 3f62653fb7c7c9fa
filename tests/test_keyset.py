"""Seen keys and sent ids: exact answers from fingerprints, and the cache that skips a re-read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bot.store.keyset
from bot.store.keyset import KeySet


def write_lines(path: Path, keys: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        for key in keys:
            handle.write(json.dumps({"key": key}) + "\n")


@pytest.fixture(autouse=True)
def small_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.store.keyset, "REBUILD_AFTER", 10)


def test_answers_are_exact_with_and_without_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "seen" / "seen.jsonl"
    keys = [f"<m{n}@x>" for n in range(100)]
    write_lines(path, keys)
    first = KeySet(tmp_path, "seen/seen.jsonl", "key", [], writable=True)
    assert (tmp_path / "seen" / "seen.fp").exists()  # 100 values read: the cache is written
    write_lines(path, ["<late@x>"])
    again = KeySet(tmp_path, "seen/seen.jsonl", "key", [])
    for keyset in (first, again):
        assert all(key in keyset for key in keys)
        assert "<m100@x>" not in keyset
    assert "<late@x>" in again  # read from the lines after what the cache covers


def test_a_reader_never_writes_the_cache(tmp_path: Path) -> None:
    write_lines(tmp_path / "seen" / "seen.jsonl", [f"<m{n}@x>" for n in range(50)])
    KeySet(tmp_path, "seen/seen.jsonl", "key", [])
    assert not (tmp_path / "seen" / "seen.fp").exists()


@pytest.mark.parametrize("damage", ["garbled", "file restored shorter", "file changed"])
def test_a_cache_that_does_not_fit_the_file_is_rebuilt(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "seen" / "seen.jsonl"
    write_lines(path, [f"<m{n}@x>" for n in range(50)])
    KeySet(tmp_path, "seen/seen.jsonl", "key", [], writable=True)
    cache = tmp_path / "seen" / "seen.fp"
    if damage == "garbled":
        data = bytearray(cache.read_bytes())
        data[-3] ^= 0xFF
        cache.write_bytes(bytes(data))
    elif damage == "file restored shorter":
        path.write_text("".join(json.dumps({"key": f"<o{n}@x>"}) + "\n" for n in range(5)))
    else:
        text = path.read_text().replace("<m49@x>", "<z49@x>")
        path.write_text(text)
    keyset = KeySet(tmp_path, "seen/seen.jsonl", "key", [])
    now = {json.loads(line)["key"] for line in path.read_text().splitlines()}
    assert all(key in keyset for key in now)
    gone = {f"<m{n}@x>" for n in range(50)} - now
    assert bool(gone) == (damage != "garbled")
    assert not any(key in keyset for key in gone)
