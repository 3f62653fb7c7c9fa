"""One contract, every backend: local folders, fake Graph, fake EWS and a real Dovecot."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from backends.harness import ServerHarness
from backends.local import parse

from bot.clock import LONDON, FixedClock
from bot.mailbox.base import CalendarEntry, Mailbox, MailboxError
from bot.mailbox.state import MemoryState

BACKENDS = ["local", "graph", "ews", "imap"]
SINCE = datetime(2026, 11, 1, 0, 0, tzinfo=LONDON)
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=LONDON)
REFERRER = "sam.ward@council.example"
PROVIDER = "manager@oakview-care.example"


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerHarness]:
    module = importlib.import_module(f"backends.{request.param}")
    with module.running(tmp_path) as harness:
        yield harness


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()


@pytest.fixture
def box(server: ServerHarness, state: MemoryState) -> Mailbox:
    return server.mailbox(FixedClock(NOW), state)


def mail(number: int, at: datetime, *, sender: str = REFERRER, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Sam Ward <{sender}>"
    message["To"] = "contract.concerns@council.example"
    message["Subject"] = f"Concern {number} about Oakview Care Home"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<concern-{number}@council.example>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"Concern number {number}: medication was missed on the evening round.\n")
    return message.as_bytes()


def ids_of(raws: list[bytes]) -> list[str]:
    return [str(parse(raw)["Message-ID"]).strip() for raw in raws]


def same_mail(a: bytes, b: bytes) -> bool:
    """Equal apart from line endings and headers a server adds on delivery."""
    first, second = parse(a.replace(b"\r\n", b"\n")), parse(b.replace(b"\r\n", b"\n"))
    return (
        first["Message-ID"] == second["Message-ID"]
        and first["Subject"] == second["Subject"]
        and first.get_content() == second.get_content()
    )


def outgoing(message_id: str, *, subject: str, to: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Contract Concerns <contract.concerns@council.example>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Please respond within 10 working days.\n")
    return message


def test_fetch_returns_inbox_mail_received_since_the_start_oldest_first(
    server: ServerHarness, box: Mailbox
) -> None:
    first, second = datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), NOW.replace(hour=8)
    server.inject(mail(1, first), first)
    server.inject(mail(2, second), second)
    old = datetime(2026, 10, 30, 16, 0, tzinfo=LONDON)
    server.inject(mail(0, old), old)

    fetched = box.fetch_new(SINCE)

    assert ids_of([m.raw for m in fetched]) == ["<concern-1@council.example>",
                                                 "<concern-2@council.example>"]
    assert [m.received_at for m in fetched] == [first, second]
    assert same_mail(fetched[0].raw, mail(1, first))
    assert len({m.backend_id for m in fetched}) == 2


def test_mail_not_yet_moved_comes_back_once_per_fetch_and_after_a_restart(
    server: ServerHarness, box: Mailbox, state: MemoryState
) -> None:
    server.inject(mail(1, NOW), NOW)
    first = box.fetch_new(SINCE)
    again = box.fetch_new(SINCE)
    restarted = server.mailbox(FixedClock(NOW), state).fetch_new(SINCE)

    assert len(first) == 1
    assert [m.backend_id for m in again] == [first[0].backend_id]
    assert [m.backend_id for m in restarted] == [first[0].backend_id]
    assert same_mail(restarted[0].raw, first[0].raw)


def test_processed_mail_leaves_the_inbox_and_never_comes_back(
    server: ServerHarness, box: Mailbox, state: MemoryState
) -> None:
    server.inject(mail(1, NOW), NOW)
    server.inject(mail(2, NOW.replace(minute=5)), NOW.replace(minute=5))
    one, two = box.fetch_new(SINCE)

    box.mark_processed(one.backend_id)
    box.mark_processed(one.backend_id)  # a repeated move (after a crash) is harmless

    assert [m.backend_id for m in box.fetch_new(SINCE)] == [two.backend_id]
    restarted = server.mailbox(FixedClock(NOW), state)
    assert [m.backend_id for m in restarted.fetch_new(SINCE)] == [two.backend_id]
    assert ids_of(server.folder("processed")) == ["<concern-1@council.example>"]
    assert ids_of(server.folder("inbox")) == ["<concern-2@council.example>"]


def test_quarantine_keeps_the_mail_whole_and_out_of_the_inbox(
    server: ServerHarness, box: Mailbox
) -> None:
    raw = mail(1, NOW, X_Note="kept exactly")
    server.inject(raw, NOW)
    (item,) = box.fetch_new(SINCE)

    box.quarantine(item.backend_id, "unreadable: no From header")
    box.quarantine(item.backend_id, "unreadable: no From header")

    (kept,) = server.folder("quarantine")
    assert same_mail(kept, raw)
    assert parse(kept)["X-Note"] == "kept exactly"
    assert box.fetch_new(SINCE) == []
    assert server.folder("inbox") == []


def test_send_with_a_large_attachment_reaches_the_recipient_and_is_kept_in_sent(
    server: ServerHarness, box: Mailbox
) -> None:
    message = outgoing("letter-1@council.example", subject="[CC-2026-0001] Contract concern",
                       to=PROVIDER)
    # Over 3 MB, so Graph needs an upload session; any backend must carry it whole.
    document = bytes(range(256)) * (4 * 4096)
    message.add_attachment(document, maintype="application", subtype="pdf",
                           filename="concern.pdf")
    assert not box.already_sent("letter-1@council.example")

    record = box.send(message.as_bytes(), [PROVIDER], "letter-1@council.example")

    assert record.message_id == "letter-1@council.example"
    assert box.already_sent("letter-1@council.example")
    (received,) = server.delivered_to(PROVIDER)
    assert str(parse(received)["Subject"]) == "[CC-2026-0001] Contract concern"
    (attachment,) = list(parse(received).iter_attachments())
    assert attachment.get_filename() == "concern.pdf"
    assert attachment.get_content() == document
    assert len(server.folder("sent")) == 1
    assert not box.already_sent("letter-2@council.example")


def test_a_reply_stays_in_the_senders_thread(server: ServerHarness, box: Mailbox) -> None:
    server.inject(mail(1, NOW), NOW)
    (item,) = box.fetch_new(SINCE)
    box.mark_processed(item.backend_id)
    reply = outgoing(
        "ack-1@council.example",
        subject="RE: Concern 1 about Oakview Care Home [CC-2026-0001]",
        to=REFERRER,
        In_Reply_To="<concern-1@council.example>",
        References="<concern-1@council.example>",
    )

    box.send(reply.as_bytes(), [REFERRER], "ack-1@council.example")

    assert box.already_sent("ack-1@council.example")
    (received,) = server.delivered_to(REFERRER)
    assert "CC-2026-0001" in str(parse(received)["Subject"])
    original = server.thread_key("concern-1@council.example")
    assert original is not None
    assert server.thread_key("ack-1@council.example") == original


def test_shadow_mode_keeps_the_message_for_review_and_sends_nothing(
    server: ServerHarness, box: Mailbox
) -> None:
    message = outgoing("held-1@council.example", subject="[CC-2026-0002] Held", to=PROVIDER)

    box.hold_for_review(message.as_bytes(), "held-1@council.example")

    assert box.already_sent("held-1@council.example")
    assert ids_of(server.folder("review")) == ["<held-1@council.example>"]
    assert server.delivered_to(PROVIDER) == []


def test_a_diary_entry_is_made_once_and_moved_when_its_date_moves(
    server: ServerHarness, box: Mailbox
) -> None:
    entry = CalendarEntry(
        uid="CC-2026-0001.review.1",
        day=date(2026, 11, 17),
        title="Review due: CC-2026-0001",
        description="Step 8: review the provider's response",
        case_reference="CC-2026-0001",
    )
    box.diarise(entry)
    box.diarise(entry)
    assert [(e.uid, e.day) for e in server.diary()] == [(entry.uid, date(2026, 11, 17))]

    moved = CalendarEntry(entry.uid, date(2026, 11, 19), entry.title, entry.description,
                          entry.case_reference)
    box.diarise(moved)

    assert [(e.uid, e.day, e.title) for e in server.diary()] == [
        (entry.uid, date(2026, 11, 19), "Review due: CC-2026-0001")
    ]


def test_a_closure_report_is_saved_where_the_team_can_find_it(
    server: ServerHarness, box: Mailbox
) -> None:
    report = b"Closure report for CC-2026-0001\nOutcome: agreed\n"

    where = box.save_file("CC-2026-0001 closure report.txt", report)

    assert where
    assert server.files() == {"CC-2026-0001 closure report.txt": report}


def test_a_connection_lost_midway_loses_and_repeats_nothing(
    server: ServerHarness, box: Mailbox, state: MemoryState
) -> None:
    for number in (1, 2, 3):
        at = NOW.replace(minute=number)
        server.inject(mail(number, at), at)
    one, two, three = box.fetch_new(SINCE)
    box.mark_processed(one.backend_id)

    server.break_connection()
    try:
        with pytest.raises(MailboxError):
            box.mark_processed(two.backend_id)
        with pytest.raises(MailboxError):
            box.fetch_new(SINCE)
        letter = outgoing("during-outage@council.example", subject="Lost?", to=PROVIDER)
        with pytest.raises(MailboxError):
            box.send(letter.as_bytes(), [PROVIDER], "during-outage@council.example")
    finally:
        server.restore()

    restarted = server.mailbox(FixedClock(NOW), state)
    left = restarted.fetch_new(SINCE)
    assert [m.backend_id for m in left] == [two.backend_id, three.backend_id]
    assert not restarted.already_sent("during-outage@council.example")
    assert server.delivered_to(PROVIDER) == []
    restarted.mark_processed(two.backend_id)
    assert ids_of(server.folder("processed")) == [
        "<concern-1@council.example>", "<concern-2@council.example>"
    ]
