"""Retention: closed cases' raw mail goes after the configured days; nothing else does."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.upkeep.retention import purge_raw_mail

SAM = "sam.ward@council.example"
JSMITH = "jane.smith@council.example"
DAYS = 730  # config.yaml's retention.raw_mail_days_after_close


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def open_case(ws: Workspace, when: datetime, provider: str = "Oakview Care Home") -> str:
    ws.email(SAM, f"Concern: {provider}",
             f"I am raising a contract concern about {provider}. Residents missed evening "
             "medication.\n\nThe safeguarding enquiry has concluded.", at=when)
    ws.run(when + timedelta(minutes=1))
    subjects = [str(m["Subject"]) for m in ws.sent()]
    found = [re.search(r"\[(CC-\d{4}-\d{4})\]", s) for s in subjects]
    return sorted(m.group(1) for m in found if m)[-1]


def close_case(ws: Workspace, reference: str, when: datetime) -> datetime:
    """The officer returns it to be managed operationally: the case closes when handled."""
    ws.email(JSMITH, f"RE: [{reference}] Contract concern", "screen: operational", at=when)
    ws.run(when + timedelta(minutes=1))
    case = ws.app.store.get_case(reference)
    assert case is not None and case["status"] == "closed"
    closed = datetime.fromisoformat(case["closed_at"])
    return closed


def raw_files(ws: Workspace, reference: str, kind: str = "mail") -> list[str]:
    """The kept mail of a case (kind "mail"), or the letters it sent (kind "letter")."""
    case = ws.app.store.get_case(reference)
    assert case is not None
    return [d["sha"] for d in case["documents"] if (d["kind"] == "letter") == (kind == "letter")]


def present(ws: Workspace, sha: str) -> bool:
    return ws.app.store.has_raw(sha)


def test_raw_mail_of_a_case_closed_longer_than_the_period_is_removed(
        workspace: Workspace) -> None:
    ref = open_case(workspace, at("2026-11-02T10:00"))
    closed = close_case(workspace, ref, at("2026-11-02T11:00"))
    shas = raw_files(workspace, ref)
    assert len(shas) == 2 and all(present(workspace, sha) for sha in shas)
    letters = raw_files(workspace, ref, "letter")  # acknowledgement, screening, return, receipt
    assert len(letters) == 4 and all(present(workspace, sha) for sha in letters)
    store, config = workspace.app.store, workspace.app.config
    timeline_before = store.get_case(ref)["timeline"]  # type: ignore[index]

    assert purge_raw_mail(closed + timedelta(days=DAYS), store, config) == 2 + 4
    assert not any(present(workspace, sha) for sha in shas + letters)
    case = store.get_case(ref)
    assert case is not None and case["status"] == "closed"
    assert all(doc["purged"] for doc in case["documents"])
    # The record and timeline stay, with a note of what went.
    assert case["timeline"][: len(timeline_before)] == timeline_before
    assert "retention" in case["timeline"][-1]["text"]
    assert [e["event"] for e in store.audit_entries()][-1] == "retention"
    # Done once: a second run finds nothing to do.
    assert purge_raw_mail(closed + timedelta(days=DAYS + 1), store, config) == 0


def test_a_case_closed_more_recently_keeps_its_raw_mail(workspace: Workspace) -> None:
    ref = open_case(workspace, at("2026-11-02T10:00"))
    closed = close_case(workspace, ref, at("2026-11-02T11:00"))
    store, config = workspace.app.store, workspace.app.config
    almost = closed + timedelta(days=DAYS) - timedelta(seconds=1)
    assert purge_raw_mail(almost, store, config) == 0
    assert all(present(workspace, sha) for sha in raw_files(workspace, ref))
    case = store.get_case(ref)
    assert case is not None and not any(doc.get("purged") for doc in case["documents"])


def test_open_cases_keep_their_raw_mail_however_old(workspace: Workspace) -> None:
    ref = open_case(workspace, at("2026-11-02T10:00"))
    store, config = workspace.app.store, workspace.app.config
    assert purge_raw_mail(at("2040-01-01T10:00"), store, config) == 0
    assert all(present(workspace, sha) for sha in raw_files(workspace, ref))


def test_a_raw_file_shared_with_an_open_case_is_kept(workspace: Workspace) -> None:
    old = open_case(workspace, at("2026-11-02T10:00"))
    closed = close_case(workspace, old, at("2026-11-02T11:00"))
    current = open_case(workspace, at("2026-11-03T10:00"), "Brightpath Homecare")
    store, config = workspace.app.store, workspace.app.config
    shared, own = raw_files(workspace, old)
    # The open case points to the closed case's concern too (the same bytes, kept once).
    doc = store.get_case(current)
    assert doc is not None
    doc["documents"].append({"kind": "note", "sha": shared, "message_id": ""})
    store.put_case(doc)
    store.commit()

    letters = raw_files(workspace, old, "letter")
    assert purge_raw_mail(closed + timedelta(days=DAYS + 1), store, config) == 1 + len(letters)
    assert present(workspace, shared) and not present(workspace, own)
    case = store.get_case(old)
    assert case is not None
    assert {d["sha"]: bool(d.get("purged")) for d in case["documents"]} == {
        shared: False, own: True, **{sha: True for sha in letters},
    }


def test_a_crash_after_deleting_only_leaves_the_marks_for_the_next_run(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = open_case(workspace, at("2026-11-02T10:00"))
    closed = close_case(workspace, ref, at("2026-11-02T11:00"))
    store, config = workspace.app.store, workspace.app.config
    shas = raw_files(workspace, ref)

    def crash() -> None:
        raise OSError("killed")

    monkeypatch.setattr(store, "commit", crash)
    with pytest.raises(OSError):
        purge_raw_mail(closed + timedelta(days=DAYS + 1), store, config)
    monkeypatch.undo()
    store.rollback()
    assert not any(present(workspace, sha) for sha in shas)
    purge_raw_mail(closed + timedelta(days=DAYS + 2), store, config)
    case = store.get_case(ref)
    assert case is not None and all(doc.get("purged") for doc in case["documents"])
