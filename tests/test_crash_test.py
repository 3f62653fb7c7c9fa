"""The crash test script: a tiny run passes, its checks catch double work, its plan is seeded."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bot.config import load_config

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "crash_test.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_test"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


crash_test = _load()


def test_a_tiny_workload_survives_three_kills(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Kills are timed from the store's opening, so they land while the bot reads and writes.
    argv = ["--kills", "3", "--seed", "11", "--emails", "4", "--days", "1", "--mode", "store"]
    status = crash_test.main([*argv, "--workdir", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "crash test passed" in out
    found = re.search(r"^kills: (\d+) of at most 3", out, re.M)
    assert found is not None and int(found.group(1)) >= 1, out
    assert "FAILED" not in out


DELIVERED = [b"raw one", b"raw two"]


def _failed(**crash_changes: Any) -> list[str]:
    """The checks that fail when the crash run ends like the reference but for these fields."""

    def final() -> Any:
        return crash_test.Final(
            filed=Counter(crash_test._sha(raw) for raw in DELIVERED),
            placed={("processed", crash_test._sha(DELIVERED[0])),
                    ("quarantine", crash_test._sha(DELIVERED[1]))},
            mail_entries=Counter({"key-1": 1, "key-2": 1}),
            sent={"<m1@x>": b"one", "<m2@x>": b"two"},
            sent_ids=Counter({"<m1@x>": 1, "<m2@x>": 1}),
            stages={"CC-2026-0001": "open 4"},
        )

    crash = final()
    for name, value in crash_changes.items():
        setattr(crash, name, value)
    rows = crash_test.checks(DELIVERED, crash, final())
    return [name for name, _, _, ok in rows if not ok]


def test_the_checks_pass_when_both_runs_agree() -> None:
    assert _failed() == []


def test_the_checks_catch_a_letter_sent_twice_and_an_email_handled_twice() -> None:
    assert _failed(
        sent_ids=Counter({"<m1@x>": 2, "<m2@x>": 1}),
        mail_entries=Counter({"key-1": 2, "key-2": 1}),
        filed=Counter({crash_test._sha(DELIVERED[0]): 2, crash_test._sha(DELIVERED[1]): 1}),
    ) == [
        "every email filed once (processed/, quarantine/)",
        "one 'mail' audit entry per dedupe key",
        "no Message-ID twice in sent/",
    ]


def test_the_checks_catch_a_lost_letter_a_changed_stage_and_a_broken_store() -> None:
    assert _failed(
        inbox=1,
        sent={"<m1@x>": b"one"},
        sent_ids=Counter({"<m1@x>": 1}),
        stages={"CC-2026-0001": "closed 14"},
        store_error="StoreError: damaged",
    ) == [
        "inbox empty",
        "sent Message-IDs equal the reference set",
        "same final stage per case",
        "store opens cleanly",
    ]


def test_the_checks_catch_an_email_filed_in_the_wrong_folder() -> None:
    placed = {("processed", crash_test._sha(raw)) for raw in DELIVERED}
    assert _failed(placed=placed) == ["each email in the same folder as in the reference"]


def test_the_checks_catch_a_quarantined_email_recorded_twice() -> None:
    assert _failed(quarantines=Counter({"17.abc.host": 2}), triaged=Counter({"e3b0": 2})) == [
        "each quarantined email recorded once (audit, triage)"
    ]


def test_the_workload_is_fixed_by_the_seed() -> None:
    config = load_config(SCRIPT.parents[1] / "config.yaml")
    first, again = (crash_test.build_plan(config, 5, 12, 3) for _ in range(2))
    other = crash_test.build_plan(config, 6, 12, 3)
    assert [(m.at, m.raw) for m in first.mails] == [(m.at, m.raw) for m in again.mails]
    assert first.times == again.times
    assert [m.raw for m in first.mails] != [m.raw for m in other.mails]
    labels = {m.label.split()[0] for m in first.mails}
    assert {"referral", "screen", "auto-reply", "stranger", "bounce", "forged"} <= labels
    assert all(m.at.tzinfo is not None for m in first.mails)


@pytest.mark.parametrize("point", crash_test.POINTS, ids=lambda point: point[1])
def test_every_crash_point_names_a_callable_of_the_bot(point: tuple[str, ...]) -> None:
    module, _, dotted = point[1].partition(":")
    owner: Any = importlib.import_module(module)
    for part in dotted.split("."):
        owner = getattr(owner, part)
    assert callable(owner)
    assert point[0] in ("before", "after")
