"""`python -m bot status`: figures, JSON, exit code, and that it changes nothing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import LONDON
from bot.demo.harness import Workspace, copy_example
from bot.mailbox.base import SentRecord

PROJECT = Path(__file__).resolve().parents[1]
SAM = "sam.ward@council.example"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def status(config: Path, now: str, capsys: pytest.CaptureFixture[str],
           *extra: str) -> tuple[int, str]:
    code = main(["--config", str(config), "status", "--now", now, *extra])
    return code, capsys.readouterr().out


def refer(ws: Workspace, when: datetime) -> None:
    ws.email(SAM, "Concern: Oakview Care Home medication errors",
             "I am raising a contract concern about Oakview Care Home. Residents missed "
             "evening medication.\n\nThe safeguarding enquiry has concluded.", at=when)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and mtime, to prove nothing was written."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_before_the_bot_ever_ran(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy_example(tmp_path, source=PROJECT)
    code, out = status(tmp_path / "config.yaml", "2026-11-02T10:00", capsys)
    assert code == 0
    assert "last successful poll:  never" in out
    assert "token expires:         n/a" in out
    assert out.rstrip().endswith("healthy")
    assert not (tmp_path / "var" / "store").exists()  # it created no store
    code, out = status(tmp_path / "config.yaml", "2026-11-02T10:00", capsys, "--json")
    data = json.loads(out)
    assert code == 0 and data["healthy"] is True and data["last_poll"] is None
    assert data["token_expires_at"] is None and data["overdue"] == {"count": 0, "steps": []}


def test_a_healthy_bot_beside_the_running_daemon(
        workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    refer(workspace, at("2026-11-02T10:00"))
    workspace.run(at("2026-11-02T10:01"))
    # The workspace's bot holds the store's lock, as a running daemon would.
    code, out = status(workspace.root / "config.yaml", "2026-11-02T10:02", capsys)
    assert code == 0, out
    assert "last successful poll:  Mon 02 Nov 2026 10:01 (1 min ago)" in out
    assert "open cases:            1" in out
    assert "mailbox backlog:       0" in out


def test_every_figure_and_the_alert_exit_code(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        raise ConnectionError("smtp down")

    monkeypatch.setattr(workspace.mailbox, "send", refuse)
    refer(workspace, at("2026-11-02T10:00"))
    workspace.email("someone@example.org", "Question", "Who do I talk to?",
                    at=at("2026-11-02T10:05"))
    workspace.run(at("2026-11-02T10:10"))
    store = workspace.app.store
    store.set_meta("token_expires_at", "2026-12-01T00:00:00+00:00")
    store.commit()
    # Two emails not yet polled.
    refer(workspace, at("2026-11-02T11:00"))
    workspace.email("nina.novak@nhs.example", "Hello", "Another", at=at("2026-11-02T11:01"))

    code, out = status(workspace.root / "config.yaml", "2026-11-03T10:00", capsys, "--json")
    data = json.loads(out)
    assert code == 1 and data["healthy"] is False
    assert data["mailbox_backlog"] == 2
    assert data["outbox_pending"]["count"] >= 1
    assert data["outbox_pending"]["oldest"] == at("2026-11-02T10:10").isoformat()
    assert data["outbox_pending"]["oldest_age_minutes"] == 23 * 60 + 50
    assert data["triage"] == {"count": 1, "oldest": at("2026-11-02T10:05").isoformat()}
    assert data["quarantined"] == 0
    assert data["open_cases"] == 1
    assert data["overdue"]["count"] == 1
    assert data["overdue"]["steps"][0]["reference"] == "CC-2026-0001"
    assert data["overdue"]["steps"][0]["title"] == "Screen the concern"
    assert data["token_expires_at"] == "2026-12-01T00:00:00+00:00"
    assert {a["kind"] for a in data["alerts"]} == {"poll", "outbox"}

    code, out = status(workspace.root / "config.yaml", "2026-11-03T10:00", capsys)
    assert code == 1
    assert "    CC-2026-0001 [1] Screen the concern: due 2026-11-02" in out
    assert "ALERT outbox:" in out and "token expires:         2026-12-01" in out


def test_quarantined_mail_is_counted(
        workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    store = workspace.app.store
    store.triage_add({"received": at("2026-11-02T10:00").isoformat(), "sender": "",
                      "subject": "", "reason": "quarantined, unreadable", "reference": None,
                      "message_id": "", "sha": "", "kind": "quarantined"})
    store.set_meta("last_poll", at("2026-11-02T10:01").isoformat())
    store.commit()
    code, out = status(workspace.root / "config.yaml", "2026-11-02T10:02", capsys, "--json")
    data = json.loads(out)
    assert data["quarantined"] == 1 and data["triage"]["count"] == 1
    assert code == 0


def test_status_changes_nothing(
        workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    refer(workspace, at("2026-11-02T10:00"))
    workspace.run(at("2026-11-02T10:01"))
    refer(workspace, at("2026-11-02T10:30"))  # waiting in the inbox
    before = snapshot(workspace.root)
    status(workspace.root / "config.yaml", "2026-11-05T10:00", capsys)
    status(workspace.root / "config.yaml", "2026-11-05T10:00", capsys, "--json")
    assert snapshot(workspace.root) == before
    assert len(workspace.mailbox.fetch_new(at("2026-11-01T00:00"))) == 1
