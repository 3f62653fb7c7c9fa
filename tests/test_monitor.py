"""Self-monitoring: each alert condition at its threshold, and the admin emails it sends."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.mailbox.base import MailboxAuthError, SentRecord
from bot.store import StoreError
from bot.store.meta_keys import LOGIN_FAILURE, POLL_FAILING_SINCE
from bot.upkeep.daemon import Cycle
from bot.upkeep.health import Alert, check_health
from bot.upkeep.monitor import AlertMemory, send_alerts

ADMIN = "ict.servicedesk@council.example"  # config.yaml's admin_contacts
SAM = "sam.ward@council.example"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def kinds(alerts: list[Alert]) -> list[str]:
    return [alert.kind for alert in alerts]


def refer(ws: Workspace, when: datetime) -> None:
    ws.email(SAM, "Concern: Oakview Care Home medication errors",
             "I am raising a contract concern about Oakview Care Home. Residents missed "
             "evening medication.\n\nThe safeguarding enquiry has concluded.", at=when)


def admin_mail(ws: Workspace) -> list[EmailMessage]:
    return [m for m in ws.sent() if ADMIN in str(m["To"])]


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return " ".join(str(part.get_content()).split())


def check(ws: Workspace, now: datetime, failing_since: datetime | None = None) -> list[str]:
    app = ws.app
    return kinds(check_health(now, app.store, app.config, failing_since=failing_since))


def test_a_bot_that_just_ran_is_healthy(workspace: Workspace) -> None:
    refer(workspace, at("2026-11-02T10:00"))
    workspace.run(at("2026-11-02T10:01"))
    assert check(workspace, at("2026-11-02T10:02")) == []


def test_polling_failing_longer_than_the_limit_alerts(workspace: Workspace) -> None:
    workspace.run(at("2026-11-02T10:00"))
    workspace.app.store.set_meta(POLL_FAILING_SINCE, at("2026-11-02T10:01").isoformat())
    assert check(workspace, at("2026-11-02T10:31")) == []  # 30 minutes: not longer
    assert check(workspace, at("2026-11-02T10:32")) == ["poll"]


def test_a_failure_kept_only_in_memory_alerts_without_a_store() -> None:
    from bot.config import load_config
    from bot.demo.harness import project_files

    config = load_config(project_files() / "config.yaml")
    since = at("2026-11-02T10:00")
    assert check_health(at("2026-11-02T10:20"), None, config, failing_since=since) == []
    (alert,) = check_health(at("2026-11-02T10:45"), None, config, failing_since=since)
    assert alert.kind == "poll" and alert.since == since
    assert "45 minutes" in alert.problem


def test_a_stopped_bot_shows_as_polling_that_stopped(workspace: Workspace) -> None:
    workspace.run(at("2026-11-02T10:00"))
    # 30 minutes plus the 60 second poll interval is still a running bot.
    assert check(workspace, at("2026-11-02T10:31")) == []
    alerts = check_health(at("2026-11-02T11:00"), workspace.app.store, workspace.app.config)
    assert kinds(alerts) == ["poll"] and "Is the bot running?" in alerts[0].problem


def test_a_letter_stuck_in_the_outbox_alerts(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        raise ConnectionError("smtp down")

    monkeypatch.setattr(workspace.mailbox, "send", refuse)
    refer(workspace, at("2026-11-02T10:00"))
    workspace.run(at("2026-11-02T10:01"))
    assert workspace.app.store.outbox_pending()
    workspace.app.store.set_meta("last_poll", at("2026-11-02T11:01").isoformat())
    assert check(workspace, at("2026-11-02T11:01")) == []  # 60 minutes: not longer
    assert check(workspace, at("2026-11-02T11:02")) == ["outbox"]


def test_triage_not_cleared_in_two_working_days_alerts(workspace: Workspace) -> None:
    workspace.email("someone@example.org", "Question", "Who do I talk to?",
                    at=at("2026-11-06T16:00"))  # a Friday
    workspace.run(at("2026-11-06T16:01"))
    assert len(workspace.app.store.triage_items()) == 1

    def on(day: str) -> list[str]:
        now = at(day)
        workspace.app.store.set_meta("last_poll", now.isoformat())
        return check(workspace, now)

    assert on("2026-11-10T16:00") == []  # Monday and Tuesday: two working days
    alerts = on("2026-11-11T09:00")
    assert alerts == ["triage"]


def test_mail_left_in_the_inbox_by_working_polls_alerts(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    refer(workspace, at("2026-11-02T10:30"))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in handling")

    # A poll that works but cannot take this email leaves it in the inbox for a retry.
    monkeypatch.setattr(workspace.app.handler, "handle", broken)
    workspace.run(at("2026-11-02T10:31"))
    store = workspace.app.store
    assert check(workspace, at("2026-11-02T10:31")) == []
    store.set_meta("last_poll", at("2026-11-02T11:00").isoformat())
    assert check(workspace, at("2026-11-02T11:00")) == []  # 30 minutes: not longer
    store.set_meta("last_poll", at("2026-11-02T11:01").isoformat())
    assert check(workspace, at("2026-11-02T11:01")) == ["inbox"]


def test_alerts_go_to_the_admins_once_per_kind_per_day(workspace: Workspace) -> None:
    app, memory = workspace.app, AlertMemory()
    alert = Alert("outbox", "2 outgoing message(s) are stuck", at("2026-11-02T09:00"))
    other = Alert("triage", "1 item waits", at("2026-11-02T09:00"))

    def send(now: datetime, *alerts: Alert) -> int:
        return send_alerts(now, alerts, outbox=app.outbox, mailbox=app.mailbox, memory=memory)

    assert send(at("2026-11-02T10:00"), alert) == 1
    assert send(at("2026-11-02T16:00"), alert, other) == 1  # only the new kind
    assert send(at("2026-11-02T23:59"), alert, other) == 0
    assert send(at("2026-11-03T00:01"), alert) == 1
    mail = admin_mail(workspace)
    assert len(mail) == 3
    first = mail[0]
    assert "needs attention" in str(first["Subject"])
    assert first["Auto-Submitted"] == "auto-generated"
    assert "2 outgoing message(s) are stuck" in body(first)
    assert app.store.outbox_pending() == []  # delivered, and recorded as sent


def test_when_the_store_cannot_be_written_the_alert_is_sent_directly(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    app, memory = workspace.app, AlertMemory()
    cycle = Cycle(app, memory)

    def full_disk() -> None:
        raise StoreError("could not write the store: disk full")

    monkeypatch.setattr(app.store, "commit", full_disk)
    alert = Alert("poll", "Polling has failed", at("2026-11-02T09:00"))
    sent = send_alerts(at("2026-11-02T10:00"), [alert], outbox=app.outbox, mailbox=app.mailbox,
                       memory=memory, reset=cycle.reset)
    assert sent == 1
    assert app.store.outbox_pending() == []  # what the failed attempt staged was dropped
    assert len(admin_mail(workspace)) == 1
    # Remembered in memory: not again that day, even once the store works again.
    monkeypatch.undo()
    assert send_alerts(at("2026-11-02T11:00"), [alert], outbox=app.outbox,
                       mailbox=app.mailbox, memory=memory) == 0
    assert len(admin_mail(workspace)) == 1


def test_the_daemon_records_poll_failures_and_alerts_after_the_limit(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    cycle, store, clock = Cycle(workspace.app), workspace.app.store, workspace.clock
    real_fetch = workspace.mailbox.fetch_new

    def unreachable(since: datetime) -> list[object]:
        raise ConnectionError("mail server unreachable")

    monkeypatch.setattr(workspace.mailbox, "fetch_new", unreachable)
    for minute in (0, 10, 30):
        clock.set(at("2026-11-02T10:00") + timedelta(minutes=minute))
        cycle()
    assert store.get_meta(POLL_FAILING_SINCE) == at("2026-11-02T10:00").isoformat()
    assert admin_mail(workspace) == []
    clock.set(at("2026-11-02T10:31"))
    cycle()
    clock.set(at("2026-11-02T10:45"))
    cycle()
    (alert,) = admin_mail(workspace)
    assert "failed for 31 minutes" in body(alert)
    monkeypatch.setattr(workspace.mailbox, "fetch_new", real_fetch)
    clock.set(at("2026-11-02T10:50"))
    cycle()
    assert store.get_meta(POLL_FAILING_SINCE) is None
    assert cycle.memory.failing_since is None


def test_the_daemon_remembers_failures_when_the_store_cannot_be_written(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    cycle, clock = Cycle(workspace.app), workspace.clock

    def unreachable(since: datetime) -> list[object]:
        raise ConnectionError("mail server unreachable")

    def read_only() -> None:
        raise StoreError("could not write the store: the file system is read-only")

    monkeypatch.setattr(workspace.mailbox, "fetch_new", unreachable)
    monkeypatch.setattr(workspace.app.store, "commit", read_only)
    clock.set(at("2026-11-02T10:00"))
    cycle()
    assert cycle.memory.failing_since == at("2026-11-02T10:00")
    clock.set(at("2026-11-02T10:40"))
    cycle()
    assert len(admin_mail(workspace)) == 1
    assert workspace.app.store.outbox_pending() == []  # it went straight out


def test_a_refused_login_is_an_alert_at_once_and_clears_when_login_works(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    cycle, store, clock = Cycle(workspace.app), workspace.app.store, workspace.clock
    real_fetch = workspace.mailbox.fetch_new

    def refused(since: datetime) -> list[object]:
        raise MailboxAuthError("AADSTS7000215: invalid client secret for app 1234")

    monkeypatch.setattr(workspace.mailbox, "fetch_new", refused)
    clock.set(at("2026-11-02T10:00"))
    cycle()
    clock.set(at("2026-11-02T10:01"))
    cycle()

    (alert,) = [a for a in check_health(at("2026-11-02T10:01"), store, workspace.app.config)
                if a.kind == "login"]
    assert "invalid client secret" in alert.problem
    assert alert.since == at("2026-11-02T10:00")  # the first refusal, kept across cycles
    (sent,) = admin_mail(workspace)  # the local mailbox can still send; Graph could not
    assert "cannot log in" in body(sent)
    monkeypatch.setattr(workspace.mailbox, "fetch_new", real_fetch)
    clock.set(at("2026-11-02T10:02"))
    cycle()
    assert check(workspace, at("2026-11-02T10:02")) == []
    assert store.get_meta(LOGIN_FAILURE) is None
