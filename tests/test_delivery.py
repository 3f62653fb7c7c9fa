"""Delivery after commit: a letter is looked for in Sent only when it may already be there."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.mailbox.base import SentRecord

AT = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)


class Watched:
    """Counts what the bot asks of the local mailbox, and can make sending fail."""

    def __init__(self, ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
        self.looked: list[str] = []
        self.sent: list[str] = []
        self.failing = False
        mailbox = ws.mailbox
        real_look, real_send = mailbox.already_sent, mailbox.send

        def already_sent(message_id: str) -> bool:
            self.looked.append(message_id)
            return real_look(message_id)

        def send(message: bytes, to: list[str], message_id: str) -> SentRecord:
            if self.failing:
                raise ConnectionError("the mail server went away")
            self.sent.append(message_id)
            return real_send(message, to, message_id)

        monkeypatch.setattr(mailbox, "already_sent", already_sent)
        monkeypatch.setattr(mailbox, "send", send)


def refer(ws: Workspace) -> None:
    ws.email("sam.ward@council.example", "Oakview Care Home: missed medication",
             "Residents at Oakview Care Home missed their evening medication.", at=AT)


def test_a_first_try_is_sent_without_looking_in_sent(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = Watched(workspace, monkeypatch)
    refer(workspace)
    workspace.run(AT.replace(minute=1))
    assert len(watched.sent) >= 2  # acknowledgement and screening request
    assert watched.looked == []
    assert workspace.app.store.outbox_pending() == []


def test_a_failed_try_is_looked_for_before_it_is_tried_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = Watched(workspace, monkeypatch)
    refer(workspace)
    watched.failing = True
    workspace.run(AT.replace(minute=1))
    waiting = [item["message_id"] for item in workspace.app.store.outbox_pending()]
    assert waiting and watched.sent == []

    watched.failing = False
    watched.looked.clear()
    workspace.run(AT.replace(minute=2))

    assert sorted(watched.looked) == sorted(waiting)
    assert sorted(watched.sent) == sorted(waiting)


def test_a_letter_sent_just_before_a_crash_is_not_sent_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = Watched(workspace, monkeypatch)
    refer(workspace)
    app = workspace.app
    workspace.clock.set(AT.replace(minute=1))
    app.poller.poll(AT.replace(minute=1))  # the case and its letters, committed
    real_commit = app.store.commit

    def crash_after_sending() -> None:
        if watched.sent:  # killed after sending, before the "sent" record is written
            raise SystemExit("killed")
        real_commit()

    monkeypatch.setattr(app.store, "commit", crash_after_sending)
    with pytest.raises(SystemExit):
        app.poll()
    sent_before_crash = list(watched.sent)
    assert sent_before_crash
    monkeypatch.setattr(app.store, "commit", real_commit)
    app.store.rollback()  # what a restart finds on disk ...
    app.outbox.untried.clear()  # ... and what it does not remember

    app.poll()

    assert watched.sent == sent_before_crash  # nothing went twice
    assert sorted(watched.looked) == sorted(sent_before_crash)
    assert app.store.outbox_pending() == []
