"""Small kept mail goes into the commit's append, and out to raw/ at the next checkpoint."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import bot.store.storage
from bot.clock import LONDON, FixedClock
from bot.store import Store, StoreError
from bot.store.raw_spill import SPILL_BYTES

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=LONDON)


def mail(marker: str, size: int = 0) -> bytes:
    body = f"Concern about Mrs {marker} at Oak House\r\n".encode() + b"x" * size
    return b"Subject: concern\r\nMessage-ID: <" + marker.encode() + b"@x>\r\n\r\n" + body


def files_holding(root: Path, needle: bytes) -> list[str]:
    """Every file in the store with `needle` in it, as kept or as base64."""
    found = []
    encoded = base64.b64encode(needle)[:-4]  # clear of the padding
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if needle in data or encoded in data:
                found.append(str(path.relative_to(root)))
    return found


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> Iterator[Store]:
    with Store(root, clock=FixedClock(NOW)) as opened:
        opened.set_meta("opened", True)
        opened.commit()  # the first commit is a checkpoint: later ones append
        yield opened


def test_small_mail_is_committed_in_the_changes_file_not_a_file_of_its_own(
    root: Path, store: Store
) -> None:
    raw = mail("Quill")
    sha = store.keep_raw(raw)
    assert store.load_raw(sha) == raw  # readable before the commit
    store.commit()
    assert not store.raw_path(sha).exists()
    assert files_holding(root, b"Mrs Quill") == ["changes-1.jsonl"]
    assert store.load_raw(sha) == raw and store.has_raw(sha)
    with Store.open_snapshot(root) as reader:
        assert reader.load_raw(sha) == raw and reader.has_raw(sha)


def test_it_is_there_after_a_restart(root: Path, store: Store) -> None:
    raw = mail("Fenwick")
    sha = store.keep_raw(raw)
    store.commit()
    store.close()
    with Store(root, clock=FixedClock(NOW)) as again:
        assert again.load_raw(sha) == raw


def test_uncommitted_mail_is_gone_after_a_crash_and_leaves_nothing(
    root: Path, store: Store
) -> None:
    sha = store.keep_raw(mail("Ashdown"))
    store.close()  # as a crash before the commit leaves it
    with Store(root, clock=FixedClock(NOW)) as again:
        assert not again.has_raw(sha)
    assert files_holding(root, b"Mrs Ashdown") == []


def test_a_rollback_keeps_it_as_it_keeps_a_file(store: Store) -> None:
    raw = mail("Tarrant")
    sha = store.keep_raw(raw)
    store.set_meta("handled", "no")
    store.rollback()  # the email's handling failed: it is kept, to quarantine
    store.commit()
    assert store.load_raw(sha) == raw
    assert store.get_meta("handled") is None


def test_a_checkpoint_writes_it_out_owner_only_and_the_changes_file_forgets_it(
    root: Path, store: Store
) -> None:
    raw = mail("Pendle")
    sha = store.keep_raw(raw)
    store.commit()
    store.compact()
    path = store.raw_path(sha)
    assert path.read_bytes() == raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert files_holding(root, b"Mrs Pendle") == [str(path.relative_to(root))]
    assert store.load_raw(sha) == raw


def test_a_checkpoint_that_fails_loses_nothing(
    root: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = mail("Hollis")
    sha = store.keep_raw(raw)
    store.commit()

    def fails(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bot.store.storage, "write_checkpoint", fails)
    with pytest.raises(StoreError, match="disk full; nothing was lost"):
        store.compact()
    monkeypatch.undo()
    assert store.load_raw(sha) == raw
    store.close()
    with Store(root, clock=FixedClock(NOW)) as again:
        assert again.load_raw(sha) == raw
        again.compact()
        assert again.raw_path(sha).read_bytes() == raw


def test_deleted_mail_leaves_no_byte_on_the_disk(root: Path, store: Store) -> None:
    kept = store.keep_raw(mail("Kestrel"))
    sha = store.keep_raw(mail("Mallory"))
    store.commit()
    assert store.delete_raw(sha)
    store.commit()  # retention commits its marks; the checkpoint follows at once
    assert not store.has_raw(sha)
    assert files_holding(root, b"Mrs Mallory") == []
    assert store.has_raw(kept) and files_holding(root, b"Mrs Kestrel")
    with Store.open_snapshot(root) as reader:
        assert not reader.has_raw(sha)


def test_mail_deleted_before_its_commit_is_never_written(root: Path, store: Store) -> None:
    sha = store.keep_raw(mail("Wren"))
    assert store.delete_raw(sha)
    store.commit()
    assert not store.has_raw(sha)
    assert files_holding(root, b"Mrs Wren") == []


def test_larger_mail_is_a_file_of_its_own_at_the_commit(root: Path, store: Store) -> None:
    raw = mail("Birch", size=SPILL_BYTES)
    sha = store.keep_raw(raw)
    store.commit()
    assert store.raw_path(sha).read_bytes() == raw
    assert "changes-1.jsonl" not in files_holding(root, b"Mrs Birch")


def test_a_copy_a_crash_left_half_written_is_replaced_at_the_checkpoint(
    root: Path, store: Store
) -> None:
    raw = mail("Corbett")
    sha = store.keep_raw(raw)
    store.commit()
    path = store.raw_path(sha)
    os.makedirs(path.parent, exist_ok=True)
    path.write_bytes(raw[:10])  # as a power cut during an earlier checkpoint may leave it
    store.compact()
    assert path.read_bytes() == raw
