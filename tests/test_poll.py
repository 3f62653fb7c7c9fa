"""One poll over the local mailbox: bad mail is quarantined whole and never blocks the rest."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.classify.reading import Reading
from bot.clock import LONDON
from bot.demo.harness import Workspace
from bot.handling.handle import Handled, Handler
from bot.mailbox.maildir import LocalMailbox

START = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path / "ws", START)
    yield workspace
    workspace.close()


def referral(ws: Workspace, sender: str, subject: str, minute: int) -> str:
    return ws.email(
        sender,
        subject,
        "Oakview Care Home missed medication rounds.",
        at=START.replace(minute=minute),
    )


def test_failed_email_is_quarantined_and_the_others_are_kept(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral(ws, "sam.ward@council.example", "First concern", 1)
    referral(ws, "chris.evans@council.example", "Poison concern", 2)
    referral(ws, "hannah.lee@nhs.example", "Third concern", 3)
    real = Handler.handle

    def flaky(self: Handler, reading: Reading, raw: bytes, now: datetime) -> Handled:
        outcome = real(self, reading, raw, now)  # changes staged, then it fails
        if reading.mail.subject == "Poison concern":
            raise RuntimeError("boom")
        return outcome

    monkeypatch.setattr(Handler, "handle", flaky)
    for attempt in range(ws.app.config.limits.max_attempts):
        ws.run(START.replace(minute=10 + attempt))
    cases = sorted((c.reference, c.subject) for c in ws.app.cases.open())
    # The failed email's half-made case was rolled back; numbering carries on without a gap.
    assert cases == [("CC-2026-0001", "First concern"), ("CC-2026-0002", "Third concern")]
    quarantined = ws.mailbox.sent_messages("quarantine")
    assert len(quarantined) == 1 and b"Poison concern" in quarantined[0][1]
    triage = ws.app.store.triage_items()
    assert [t["kind"] for t in triage] == ["quarantined"]
    assert "RuntimeError: boom" in triage[0]["reason"]
    acknowledged = {str(m["To"]) for m in ws.sent() if "received" in str(m["Subject"])}
    assert acknowledged == {"sam.ward@council.example", "hannah.lee@nhs.example"}


def test_unreadable_bytes_are_quarantined_with_a_reason(ws: Workspace) -> None:
    ws.mailbox.deliver(b"", START)
    referral(ws, "sam.ward@council.example", "A concern", 1)
    ws.run(START.replace(minute=5))
    assert len(list(ws.app.cases.open())) == 1
    assert len(ws.mailbox.sent_messages("quarantine")) == 1
    assert ws.app.store.triage_items()[0]["reason"].startswith("quarantined, unreadable")


def triaged_reply(ws: Workspace) -> str:
    """A case for Oakview, and a reply to it from an address nobody knows: in triage."""
    referral(ws, "sam.ward@council.example", "Concern about Oakview Care Home", 1)
    ws.email(
        "sarah.m@personal.example",
        "Our reply",
        "We accept the concern.",
        at=START.replace(minute=20),
    )
    ws.run(START.replace(minute=25))
    (item,) = ws.app.store.triage_items()
    return str(item["id"])


def test_an_officer_files_a_triaged_email_under_a_case(ws: Workspace) -> None:
    item_id = triaged_reply(ws)
    ws.email(
        "jane.smith@council.example",
        "Triage",
        f"attach {item_id} to CC-2026-0001",
        at=START.replace(minute=30),
    )
    ws.run(START.replace(minute=35))
    assert ws.app.store.triage_items() == []
    case = ws.app.cases.get("CC-2026-0001")
    assert case is not None
    assert any("placed by jane.smith@council.example" in e.text for e in case.timeline)
    receipts = [m for m in ws.sent() if "Commands received" in str(m["Subject"])]
    body = receipts[-1].get_body(("plain",))
    assert body is not None and "filed under CC-2026-0001" in body.get_content()


def test_a_failing_email_is_tried_again_then_quarantined(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral(ws, "chris.evans@council.example", "Poison concern", 2)
    real = Handler.handle

    def failing(self: Handler, reading: Reading, raw: bytes, now: datetime) -> Handled:
        if reading.mail.subject == "Poison concern":
            raise OSError("the shared drive is offline")
        return real(self, reading, raw, now)

    monkeypatch.setattr(Handler, "handle", failing)
    attempts = ws.app.config.limits.max_attempts
    for n in range(1, attempts):
        ws.run(START.replace(minute=10 + n))
        assert len(ws.mailbox.fetch_new(ws.app.start())) == 1, f"still waiting after try {n}"
        assert ws.mailbox.sent_messages("quarantine") == []
    ws.run(START.replace(minute=30))
    assert ws.mailbox.fetch_new(ws.app.start()) == []
    assert len(ws.mailbox.sent_messages("quarantine")) == 1
    assert ws.app.store.get_meta("attempts") == {}


def test_an_email_over_the_size_limit_is_quarantined_whole(ws: Workspace) -> None:
    limit = ws.app.config.limits.max_attachment_mb * 1024 * 1024
    huge = b"From: sam.ward@council.example\r\nSubject: big\r\n\r\n" + b"x" * (limit + 1)
    ws.mailbox.deliver(huge, START)
    ws.run(START.replace(minute=5))
    ((_, kept),) = ws.mailbox.sent_messages("quarantine")
    assert kept == huge
    assert "over the" in ws.app.store.triage_items()[0]["reason"]


def test_filing_into_the_case_the_command_is_about_keeps_both(ws: Workspace) -> None:
    item_id = triaged_reply(ws)
    # Written in the case's own thread: the command email and the filed email change one case.
    ws.email(
        "jane.smith@council.example",
        "RE: [CC-2026-0001] Concern",
        f"attach {item_id} to CC-2026-0001\nprovider: Oakview Care Home",
        at=START.replace(minute=30),
    )
    ws.run(START.replace(minute=35))
    case = ws.app.cases.get("CC-2026-0001")
    assert case is not None
    texts = [e.text for e in case.timeline]
    assert any("placed by jane.smith@council.example" in t for t in texts)
    assert any(t.startswith("Commands from jane.smith@council.example: 2 done") for t in texts)
    assert "sarah.m@personal.example" not in {d.get("message_id") for d in case.documents}
    mail = [d for d in case.documents if d.get("kind") != "letter"]
    assert len(mail) == 3  # the concern, the filed reply, the command email


def test_what_the_mailbox_refused_to_read_is_quarantined_with_its_reason(
    ws: Workspace,
) -> None:
    assert isinstance(ws.mailbox, LocalMailbox)
    fifo = ws.mailbox.directory / "inbox" / "new" / "a-fifo"
    os.mkfifo(fifo)
    stamp = int(START.timestamp()) * 10**9
    os.utime(fifo, ns=(stamp, stamp))
    referral(ws, "sam.ward@council.example", "A concern", 1)
    ws.run(START.replace(minute=5))
    assert len(list(ws.app.cases.open())) == 1
    (item,) = ws.app.store.triage_items()
    assert item["reason"].startswith("quarantined, ") and "FIFO" in item["reason"]
    assert item["sha"] == ""  # nothing was read, so nothing is kept in the store
    assert stat.S_ISFIFO(os.lstat(ws.mailbox.directory / "quarantine" / "new" / "a-fifo").st_mode)


def test_an_email_that_takes_too_long_to_read_is_quarantined(ws: Workspace) -> None:
    reader = ws.app.poller.reader
    real, release = reader.read_mail, threading.Event()

    def slow(raw: bytes, received_at: datetime) -> Reading:
        if b"Endless concern" in raw:
            release.wait(30)  # a parse that would never end
        return real(raw, received_at)

    reader.read_mail = slow
    reader.timer.seconds = 0.05
    referral(ws, "sam.ward@council.example", "Endless concern", 1)
    referral(ws, "chris.evans@council.example", "Ordinary concern", 2)
    try:
        ws.run(START.replace(minute=5))
    finally:
        release.set()
    assert [c.subject for c in ws.app.cases.open()] == ["Ordinary concern"]
    (item,) = ws.app.store.triage_items()
    assert "took longer than 0.05 s to read (limits.max_read_seconds)" in item["reason"]


def test_an_attachment_over_its_limit_is_quarantined(tmp_path: Path) -> None:
    ws = Workspace(
        tmp_path / "small", START, replace={"max_attachment_mb: 25": "max_attachment_mb: 1"}
    )
    try:
        message = EmailMessage()
        message["From"] = "sam.ward@council.example"
        message["To"] = ws.app.config.mailbox.address
        message["Subject"] = "Concern with a large file"
        message.set_content("Oakview Care Home: see the file.")
        message.add_attachment(b"\0" * (1024 * 1024 + 1), "application", "pdf", filename="a.pdf")
        ws.mailbox.deliver(message.as_bytes(), START)
        ws.run(START.replace(minute=5))
        (item,) = ws.app.store.triage_items()
        assert "'a.pdf' is 1.0 MB, over the 1 MB limit (limits.max_attachment_mb)" in item["reason"]
    finally:
        ws.close()
