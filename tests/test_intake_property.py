"""Property: whatever arrives, polling leaves every email processed or quarantined, whole."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from strategies import hostile_email, well_formed

from bot.app import build_app
from bot.clock import LONDON, FixedClock
from bot.demo.harness import Workspace
from bot.handling.poll import PollReport
from bot.mailbox.maildir import LocalMailbox

START = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)  # a Tuesday, after the config's start_date
POLL_AT = START + timedelta(hours=1)
REFERRERS = ["sam.ward@council.example", "hannah.lee@nhs.example", "chris.evans@council.example"]
GOOD_ID = "good-referral.0001@property.example"  # generated Message-IDs never use this domain

# The store and mailbox fsync every write; on tmpfs that costs nothing, so examples run ~5x faster.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None

PROPERTY = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,  # the same examples on every run, so CI cannot flake
    database=None,  # derandomized runs need no example database in the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def good_referral(sender: str, at: datetime) -> bytes:
    """A plain, well-formed new concern from a referrer, as a mail client would send it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "contract.concerns@council.example"
    message["Subject"] = "Concern about Oakview Care Home"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<{GOOD_ID}>"
    message.set_content("Oakview Care Home missed medication rounds on three evenings.")
    return message.as_bytes(policy=SMTP)


def folder(mailbox: LocalMailbox, name: str) -> list[tuple[str, bytes]]:
    return mailbox.sent_messages(name)  # (key, bytes) of any Maildir folder, not just sent


def check_nothing_lost(ws: Workspace, delivered: dict[str, bytes]) -> set[str]:
    """Inbox empty; each delivered email in processed/ or quarantine/ once, byte for byte."""
    mailbox = ws.mailbox
    assert folder(mailbox, "inbox") == []
    processed = folder(mailbox, "processed")
    quarantined = folder(mailbox, "quarantine")
    landed = Counter(key for key, _ in [*processed, *quarantined])
    assert landed == Counter(delivered.keys()), "an email was lost or kept twice"
    for key, raw in [*processed, *quarantined]:
        assert raw == delivered[key], f"{key} changed on its way out of the inbox"
    for key, _ in quarantined:
        reason = mailbox.reasons_dir / f"{key}.json"
        assert reason.is_file() and b'"reason": "' in reason.read_bytes()
    return {key for key, _ in quarantined}


def check_owner_only(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def check_store_reopens(root: Path) -> None:
    """The bot starts again on the same store and mailbox, and its next poll finds nothing."""
    app = build_app(root / "config.yaml", FixedClock(POLL_AT + timedelta(hours=1)))
    try:
        assert any(c.concern_message_id == GOOD_ID for c in app.cases.open())
        assert app.poll().fetched == 0
    finally:
        app.store.close()


def poll_until_settled(ws: Workspace, report: PollReport) -> set[str]:
    """Poll again while emails wait for a retry; return every quarantined key."""
    quarantined = {key for key, _ in report.quarantined}
    retrying = set(report.retrying)
    # A failed email stays in the inbox until limits.max_attempts failures quarantine it.
    for attempt in range(1, ws.app.config.limits.max_attempts + 1):
        if not retrying:
            break
        ws.clock.set(POLL_AT + timedelta(minutes=attempt))
        again = ws.app.poll()
        assert again.fetched == len(retrying)
        quarantined |= {key for key, _ in again.quarantined}
        retrying = set(again.retrying)
    assert not retrying, "still retrying after limits.max_attempts polls"
    return quarantined


def run_batch(batch: list[bytes], position: int, referrer: str) -> None:
    """Deliver the batch with a good referral at `position`, poll, check every property."""
    temp = Path(tempfile.mkdtemp(prefix="intake-property-", dir=SCRATCH))
    try:
        ws = Workspace(temp / "ws", START)
        try:
            # The good referral goes anywhere in the batch: before, between or after bad ones.
            emails: list[bytes | None] = list(batch)
            emails.insert(min(position, len(emails)), None)
            delivered: dict[str, bytes] = {}
            for minute, raw in enumerate(emails):
                at = START + timedelta(minutes=minute + 1)
                data = good_referral(referrer, at) if raw is None else raw
                delivered[ws.mailbox.deliver(data, at)] = data
            ws.clock.set(POLL_AT)
            report = ws.app.poll()
            ws.app.tick()
            assert report.fetched == len(delivered)
            settled = len(report.handled) + report.duplicates + len(report.quarantined)
            assert settled + len(report.retrying) == len(delivered)
            # The first poll opened the good referral's case, whatever else came with it.
            opened = [c for c in ws.app.cases.open() if c.concern_message_id == GOOD_ID]
            assert len(opened) == 1 and opened[0].referrer == referrer
            quarantined = poll_until_settled(ws, report)
            assert check_nothing_lost(ws, delivered) == quarantined
            # Each quarantined email is reported to triage, kept whole in the store.
            kinds = [t["kind"] for t in ws.app.store.triage_items()]
            assert kinds.count("quarantined") == len(quarantined)
        finally:
            ws.close()
        check_store_reopens(temp / "ws")
        check_owner_only(temp / "ws" / "var")
    finally:
        shutil.rmtree(temp)


@PROPERTY
@given(
    batch=st.lists(st.one_of(hostile_email(), well_formed()), min_size=1, max_size=4),
    position=st.integers(0, 4),
    referrer=st.sampled_from(REFERRERS),
)
def test_every_email_ends_processed_or_quarantined(
    batch: list[bytes], position: int, referrer: str
) -> None:
    run_batch(batch, position, referrer)


# Minimal failing emails the property found: 8-bit bytes in a bounce's In-Reply-To or
# References once escaped poll() through the audit trail and stopped every later poll.
KNOWN_POISON = [
    pytest.param(b"From: postmaster@x\nReferences: \xff\n\n", id="bounce-8bit-references"),
    pytest.param(b"From: mailer-daemon@x\nIn-Reply-To: <\xe9@x>\n\n", id="bounce-8bit-reply-to"),
]


@pytest.mark.parametrize("raw", KNOWN_POISON)
def test_known_poison_email_does_not_stop_the_batch(raw: bytes) -> None:
    run_batch([raw], position=1, referrer=REFERRERS[0])


# Found by the property, minimised by hand; not fixed here (the brief: report, do not fix).
LONG_RAW_UTF8_SUBJECT = (
    b"From: sam.ward@council.example\n"
    b"Subject: Caf\xc3\xa9 at Oakview: "
    b"https://oakview-care.example/residents/visiting-policy-and-complaints-procedure-2026\n"
    b"\n"
    b"Oakview Care Home missed medication rounds.\n"
)


# Found by the property: raw 8-bit bytes in a header with a word too long to fold (a URL)
# could not be written out again when the concern was attached to the screening request.
def test_a_concern_with_a_long_raw_utf8_subject_opens_a_case() -> None:
    temp = Path(tempfile.mkdtemp(prefix="intake-property-", dir=SCRATCH))
    try:
        ws = Workspace(temp / "ws", START)
        try:
            ws.mailbox.deliver(LONG_RAW_UTF8_SUBJECT, START)
            ws.clock.set(POLL_AT)
            report = ws.app.poll()
            assert report.retrying == [] and report.quarantined == []
            assert [outcome for _, outcome, _ in report.handled] == ["opened"]
        finally:
            ws.close()
    finally:
        shutil.rmtree(temp)


def _head(raw: bytes) -> bytes:
    return re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]


# What the brief asks the generator to make, each as a test on the generated bytes.
SHAPES: dict[str, Callable[[bytes], bool]] = {
    "winmail.dat": lambda raw: b"winmail.dat" in raw,
    "nested message": lambda raw: b"message/rfc822" in raw,
    "html": lambda raw: b"text/html" in raw,
    "rfc 2047 word": lambda raw: b"=?" in _head(raw),
    "8-bit header": lambda raw: not _head(raw).isascii(),
    "long line": lambda raw: any(len(line) > 998 for line in raw.splitlines()),
    "no message-id": lambda raw: b"message-id:" not in raw.lower(),
    "two message-ids": lambda raw: _head(raw).lower().count(b"message-id:") > 1,
    "zero-byte attachment": lambda raw: re.search(rb"attachment[^\n]*\n[^\n]*\n\n\n?(--|$)", raw)
    is not None,
    "unknown charset": lambda raw: b"x-unknown-charset" in raw,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_strategies_reach_the_awkward_shapes(shape: str) -> None:
    """Guards the property above: the generator really makes each input the brief names.

    A search for each shape, not a count over one sample: how often a shape turns up in a
    fixed sample depended on what else the test process had imported.
    """
    found = find(
        hostile_email(),
        SHAPES[shape],
        # Generation only: the first example found will do, shrinking it would take long.
        settings=settings(max_examples=2000, deadline=None, derandomize=True, database=None,
                          phases=[Phase.generate]),
    )
    assert SHAPES[shape](found)
