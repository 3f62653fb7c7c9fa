"""The local Maildir backend: delivery, fetching, moves, sent copies, diary entries, files."""

from __future__ import annotations

import email
import json
import os
import stat
from datetime import date, datetime
from email.message import Message
from pathlib import Path

import icalendar
import pytest

from bot.clock import LONDON, FixedClock
from bot.mailbox.base import CalendarEntry, Mailbox, MailboxError
from bot.mailbox.maildir import FOLDERS, LocalMailbox

BOT = "contract-concerns@council.example"
CALENDAR = "contracts-calendar@council.example"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=LONDON)
T1 = datetime(2025, 3, 3, 9, 30, tzinfo=LONDON)
T2 = datetime(2025, 3, 4, 14, 0, tzinfo=LONDON)


def _raw(n: int) -> bytes:
    return f"From: a@acme-care.example\r\nSubject: message {n}\r\n\r\nbody {n}\r\n".encode()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 3, 5, 12, 0, tzinfo=LONDON))


@pytest.fixture
def box(tmp_path: Path, clock: FixedClock) -> LocalMailbox:
    return LocalMailbox(tmp_path / "mail", BOT, CALENDAR, tmp_path / "drive", clock=clock)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_satisfies_the_mailbox_protocol(box: LocalMailbox) -> None:
    mailbox: Mailbox = box  # checked by mypy; the address is what the protocol exposes
    assert mailbox.address == BOT


def test_folders_are_created_owner_only(box: LocalMailbox) -> None:
    root = box.directory
    assert _mode(root) == 0o700
    for name in FOLDERS:
        for sub in ("", "new", "cur", "tmp"):
            assert _mode(root / name / sub) == 0o700
    assert _mode(root / "calendar") == 0o700
    assert _mode(root / "quarantine-reasons") == 0o700


def test_deliver_then_fetch_returns_bytes_and_received_time(box: LocalMailbox) -> None:
    key = box.deliver(_raw(1), T0)
    [mail] = box.fetch_new(T0)
    assert (mail.backend_id, mail.raw, mail.received_at) == (key, _raw(1), T0)
    assert _mode(box.directory / "inbox" / "new" / key) == 0o600


def test_fetch_is_oldest_first_filters_by_since_and_modifies_nothing(box: LocalMailbox) -> None:
    late = box.deliver(_raw(3), T2)
    first = box.deliver(_raw(1), T0)
    tied = sorted([box.deliver(_raw(2), T1), box.deliver(_raw(22), T1)])
    assert [m.backend_id for m in box.fetch_new(T0)] == [first, *tied, late]
    assert [m.backend_id for m in box.fetch_new(T1)] == [*tied, late]
    assert box.fetch_new(datetime(2025, 3, 5, tzinfo=LONDON)) == []
    assert len(list((box.directory / "inbox" / "new").iterdir())) == 4


def test_fetch_also_reads_cur(box: LocalMailbox) -> None:
    key = box.deliver(_raw(1), T0)
    inbox = box.directory / "inbox"
    (inbox / "new" / key).rename(inbox / "cur" / f"{key}:2,S")  # a mail client read it
    assert [m.backend_id for m in box.fetch_new(T0)] == [key]


def test_naive_received_at_is_refused(box: LocalMailbox) -> None:
    with pytest.raises(ValueError, match="timezone"):
        box.deliver(_raw(1), datetime(2025, 3, 3, 9, 0))


def test_mark_processed_moves_file_unchanged_and_is_idempotent(box: LocalMailbox) -> None:
    key = box.deliver(_raw(1), T0)
    box.mark_processed(key)
    moved = box.directory / "processed" / "new" / key
    assert moved.read_bytes() == _raw(1)
    assert moved.stat().st_mtime_ns == int(T0.timestamp()) * 10**9  # mtime kept
    assert box.fetch_new(T0) == []
    box.mark_processed(key)  # already moved: no error
    box.mark_processed("never-existed")
    assert moved.exists()


def test_quarantine_moves_and_records_the_reason(box: LocalMailbox, clock: FixedClock) -> None:
    key = box.deliver(_raw(1), T0)
    box.quarantine(key, "no header block")
    assert (box.directory / "quarantine" / "new" / key).read_bytes() == _raw(1)
    sidecar = box.directory / "quarantine-reasons" / f"{key}.json"
    assert json.loads(sidecar.read_text()) == {
        "reason": "no header block",
        "when": clock.now().isoformat(),
        "original_key": key,
    }
    assert _mode(sidecar) == 0o600
    box.quarantine(key, "second call must not overwrite")
    assert json.loads(sidecar.read_text())["reason"] == "no header block"


def test_ids_with_path_separators_are_refused(box: LocalMailbox) -> None:
    with pytest.raises(ValueError):
        box.mark_processed("../sent/x")


def test_send_keeps_one_copy_per_message_id(box: LocalMailbox) -> None:
    record = box.send(b"Subject: one\r\n\r\nx\r\n", ["p@acme-care.example"], "<m1@council.example>")
    again = box.send(
        b"Subject: changed\r\n\r\ny\r\n", ["p@acme-care.example"], "m1@council.example"
    )
    assert record.location == again.location
    assert _mode(Path(record.location)) == 0o600
    assert [raw for _, raw in box.sent_messages()] == [b"Subject: one\r\n\r\nx\r\n"]
    assert box.already_sent("m1@council.example")
    assert not box.already_sent("m2@council.example")


def test_review_folder_counts_as_already_sent(box: LocalMailbox) -> None:
    box.hold_for_review(b"Subject: draft\r\n\r\nx\r\n", "shadow-1@council.example")
    assert box.already_sent("<shadow-1@council.example>")
    assert box.sent_messages() == []
    assert [raw for _, raw in box.sent_messages("review")] == [b"Subject: draft\r\n\r\nx\r\n"]


def test_sent_messages_keep_sending_order_under_a_still_clock(box: LocalMailbox) -> None:
    ids = [f"order-{n}@council.example" for n in range(6)]
    for n, message_id in enumerate(ids):
        box.send(f"Subject: {n}\r\n\r\n.\r\n".encode(), ["x@y.example"], message_id)
    subjects = [raw.split(b"\r\n")[0] for _, raw in box.sent_messages()]
    assert subjects == [f"Subject: {n}".encode() for n in range(6)]


ENTRY = CalendarEntry(
    uid="cc-2025-014-review",
    day=date(2025, 4, 14),
    title="Review CC-2025-014 action plan",
    description="Check Oakfield House medication audit results.",
    case_reference="CC-2025-014",
)


def _invitation(raw: bytes) -> tuple[Message, icalendar.cal.Component]:
    mail = email.message_from_bytes(raw)
    parts = {p.get_content_type(): p for p in mail.walk()}
    calendar_part = parts["text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    payload = calendar_part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = icalendar.Calendar.from_ical(payload)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert "text/plain" in parts
    return mail, calendar.walk("VEVENT")[0]


def test_diarise_sends_an_all_day_invitation_and_writes_the_ics(box: LocalMailbox) -> None:
    box.diarise(ENTRY)
    [(_, raw)] = box.sent_messages()
    mail, event = _invitation(raw)
    assert (mail["From"], mail["To"]) == (BOT, CALENDAR)
    assert mail["Message-ID"].endswith("@council.example>")
    assert str(event["UID"]) == ENTRY.uid
    assert event.decoded("DTSTART") == date(2025, 4, 14)
    assert "VALUE=DATE" in event.to_ical().decode()
    assert str(event["SUMMARY"]) == ENTRY.title
    assert str(event["DESCRIPTION"]) == ENTRY.description
    ics = box.directory / "calendar" / "cc-2025-014-review.ics"
    assert _mode(ics) == 0o600
    assert icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")[0]["UID"] == ENTRY.uid


def test_diarising_the_same_entry_twice_sends_once(box: LocalMailbox) -> None:
    box.diarise(ENTRY)
    box.diarise(ENTRY)
    assert len(box.sent_messages()) == 1


def test_moving_the_date_updates_the_same_uid_with_a_higher_sequence(box: LocalMailbox) -> None:
    moved = CalendarEntry(ENTRY.uid, date(2025, 4, 16), ENTRY.title, ENTRY.description, "CC")
    box.diarise(ENTRY)
    box.diarise(moved)
    box.diarise(ENTRY)  # moved back: still a new update, not swallowed as a duplicate
    events = [_invitation(raw)[1] for _, raw in box.sent_messages()]
    assert [int(str(e["SEQUENCE"])) for e in events] == [0, 1, 2]
    assert {str(e["UID"]) for e in events} == {ENTRY.uid}
    assert len(list((box.directory / "calendar").iterdir())) == 1
    ics = (box.directory / "calendar" / "cc-2025-014-review.ics").read_bytes()
    final = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
    assert (final.decoded("DTSTART"), int(str(final["SEQUENCE"]))) == (date(2025, 4, 14), 2)


def test_unsafe_uid_gets_a_safe_distinct_file_name(box: LocalMailbox) -> None:
    box.diarise(CalendarEntry("../a/b", ENTRY.day, "t", "d", "CC"))
    box.diarise(CalendarEntry("../a_b", ENTRY.day, "t", "d", "CC"))
    names = sorted(p.name for p in (box.directory / "calendar").iterdir())
    assert len(names) == 2
    assert all("/" not in n and not n.startswith(".") and n.endswith(".ics") for n in names)


def test_save_file_is_atomic_and_owner_only(box: LocalMailbox, tmp_path: Path) -> None:
    where = box.save_file("CC-2025-014-closure.txt", b"first")
    assert Path(where) == tmp_path / "drive" / "CC-2025-014-closure.txt"
    box.save_file("CC-2025-014-closure.txt", b"second")
    assert Path(where).read_bytes() == b"second"
    assert _mode(Path(where)) == 0o600
    assert [p.name for p in (tmp_path / "drive").iterdir()] == ["CC-2025-014-closure.txt"]


@pytest.mark.parametrize("name", ["../escape.txt", "a/b.txt", ".hidden", "", "a\\b.txt"])
def test_save_file_rejects_unsafe_names(box: LocalMailbox, name: str) -> None:
    with pytest.raises(ValueError):
        box.save_file(name, b"x")


@pytest.mark.parametrize("missing", ["tmp", "cur", "new"])
def test_a_maildir_folder_missing_a_subfolder_is_made_whole(
    tmp_path: Path, clock: FixedClock, missing: str
) -> None:
    LocalMailbox(tmp_path / "mail", BOT, CALENDAR, tmp_path / "drive", clock=clock)
    (tmp_path / "mail" / "inbox" / missing).rmdir()
    box = LocalMailbox(tmp_path / "mail", BOT, CALENDAR, tmp_path / "drive", clock=clock)
    assert _mode(box.directory / "inbox" / missing) == 0o700
    box.deliver(_raw(1), T0)
    assert len(box.fetch_new(T0)) == 1


def test_a_broken_maildir_folder_is_named_in_one_line(tmp_path: Path, clock: FixedClock) -> None:
    LocalMailbox(tmp_path / "mail", BOT, CALENDAR, tmp_path / "drive", clock=clock)
    (tmp_path / "mail" / "sent" / "cur").rmdir()
    (tmp_path / "mail" / "sent" / "cur").write_text("not a folder")
    with pytest.raises(MailboxError) as caught:
        LocalMailbox(tmp_path / "mail", BOT, CALENDAR, tmp_path / "drive", clock=clock)
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "mail" / "sent" / "cur") in message
    assert "move it away" in message


# Entries that are not email files: never followed, never waited on, never read.


def _refused(box: LocalMailbox) -> dict[str, str]:
    return {m.backend_id: m.refused for m in box.fetch_new(T0) if m.refused}


def test_a_link_is_refused_unread_and_quarantined_as_the_link(
    box: LocalMailbox, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.eml"
    target.write_bytes(_raw(1))
    link = box.directory / "inbox" / "new" / "a-link"
    link.symlink_to(target)
    [mail] = box.fetch_new(datetime(1970, 1, 2, tzinfo=LONDON))
    assert (mail.backend_id, mail.raw) == ("a-link", b"")
    assert "symbolic link" in mail.refused
    box.quarantine("a-link", mail.refused)
    moved = box.directory / "quarantine" / "new" / "a-link"
    assert moved.is_symlink() and moved.readlink() == target
    assert target.read_bytes() == _raw(1)  # the target stays where it was, untouched


def test_a_fifo_a_folder_and_a_dangling_link_are_refused_without_waiting(
    box: LocalMailbox,
) -> None:
    new = box.directory / "inbox" / "new"
    os.mkfifo(new / "pipe")  # opened for reading, it would wait for a writer for ever
    (new / "folder").mkdir()
    (new / "gone").symlink_to(new / "nowhere")
    for name in ("pipe", "folder", "gone"):
        os.utime(new / name, ns=(_ns(T0), _ns(T0)), follow_symlinks=False)
    refused = _refused(box)
    assert set(refused) == {"pipe", "folder", "gone"}
    assert "FIFO" in refused["pipe"] and "directory" in refused["folder"]
    for name, reason in refused.items():
        box.quarantine(name, reason)
    assert box.fetch_new(T0) == []
    assert stat.S_ISFIFO(os.lstat(box.directory / "quarantine" / "new" / "pipe").st_mode)


def test_an_email_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, clock: FixedClock
) -> None:
    box = LocalMailbox(
        tmp_path / "mail", BOT, CALENDAR, tmp_path / "drive", clock=clock, max_message_mb=1
    )
    limit = 1024 * 1024
    small, large = box.deliver(b"x" * limit, T0), box.deliver(b"x" * (limit + 1), T1)
    found = {m.backend_id: m for m in box.fetch_new(T0)}
    assert (found[small].raw, found[small].refused) == (b"x" * limit, "")
    assert found[large].raw == b""
    assert found[large].refused.startswith("too large: 1,048,577 bytes, over the limit of")
    assert box.count_waiting(T0) == 2


def test_reading_stops_at_the_time_limit_and_the_rest_waits(
    tmp_path: Path, clock: FixedClock
) -> None:
    ticks = iter(range(0, 1000, 10))  # every look at the monotonic clock: ten seconds later
    box = LocalMailbox(
        tmp_path / "mail", BOT, CALENDAR, tmp_path / "drive", clock=clock,
        read_seconds=25, monotonic=lambda: float(next(ticks)),
    )
    keys = [box.deliver(_raw(n), T0.replace(minute=n)) for n in range(4)]
    # Looks at 0 (the start), then before each entry after the first: 10, 20, then 30 is
    # over 25, so the fourth waits.
    assert [m.backend_id for m in box.fetch_new(T0)] == keys[:3]
    assert len(box.fetch_new(T0)) == 3  # the next fetch starts a new time limit


def test_odd_file_names_get_keys_that_find_them_again(box: LocalMailbox) -> None:
    new = os.fsencode(box.directory / "inbox" / "new")
    for name in (b"latin-\xe9", b"back\\slash", b"n" * 255):
        path = os.path.join(new, name)
        Path(os.fsdecode(path)).write_bytes(_raw(1))
        os.utime(path, ns=(_ns(T0), _ns(T0)))
    keys = sorted(m.backend_id for m in box.fetch_new(T0))
    assert keys == sorted(["latin-\\xe9", "back\\slash", "n" * 255])
    json.dumps(keys).encode("utf-8")  # storable as they are
    for key in keys:
        box.quarantine(key, "testing")
    assert box.fetch_new(T0) == []
    assert len(os.listdir(box.directory / "quarantine" / "new")) == 3
    assert len(os.listdir(box.directory / "quarantine-reasons")) == 3


def test_a_move_never_overwrites_what_is_already_there(box: LocalMailbox) -> None:
    (box.directory / "processed" / "new" / "same-name").write_bytes(b"kept before")
    path = box.directory / "inbox" / "new" / "same-name"
    path.write_bytes(_raw(1))
    os.utime(path, ns=(_ns(T0), _ns(T0)))
    box.mark_processed("same-name")
    kept = sorted(p.read_bytes() for p in (box.directory / "processed" / "new").iterdir())
    assert kept == sorted([b"kept before", _raw(1)])


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9
