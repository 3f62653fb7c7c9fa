"""The IMAP + SMTP backend against a real Dovecot: checkpoints, moves, reconnects, TLS, sending."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import backends.dovecot
import icalendar
import pytest
from backends.dovecot import PASSWORD
from backends.imap import ImapHarness, login, read_folder, running

from bot.clock import LONDON, FixedClock
from bot.config import load_config
from bot.mailbox.base import (
    CalendarEntry,
    Mailbox,
    MailboxAuthError,
    MailboxError,
    MailboxUnavailable,
)
from bot.mailbox.imap import ImapMailbox
from bot.mailbox.imap_parse import internaldate, uid_set
from bot.mailbox.imap_transport import ImapEndpoint, Security, is_loopback
from bot.mailbox.smtp import SmtpEndpoint
from bot.mailbox.state import MemoryState

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
T1 = datetime(2026, 11, 2, 9, 30, tzinfo=LONDON)
T2 = datetime(2026, 11, 3, 14, 0, tzinfo=LONDON)
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=LONDON)
REPO = Path(__file__).resolve().parent.parent


def _raw(n: int) -> bytes:
    return (
        f"From: a@acme-care.example\r\nTo: bot@example.test\r\nSubject: message {n}\r\n"
        f"Message-ID: <in-{n}@acme-care.example>\r\n\r\nbody {n}\r\n"
    ).encode()


def _letter(message_id: str, to: str = "provider@acme-care.example") -> bytes:
    return (
        f"From: bot@example.test\r\nTo: {to}\r\nSubject: Your concern\r\n"
        f"Message-ID: <{message_id}>\r\n\r\nDear provider,\r\n"
    ).encode()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[ImapHarness]:
    with running(tmp_path) as server:
        yield server


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()


@pytest.fixture
def box(harness: ImapHarness, state: MemoryState) -> ImapMailbox:
    return harness.mailbox(FixedClock(NOW), state)


def _ids(mails: list[object]) -> list[str]:
    return [m.backend_id for m in mails]  # type: ignore[attr-defined]


# -- fetching and the UID checkpoint ------------------------------------------------


def test_it_satisfies_the_mailbox_protocol(box: ImapMailbox, harness: ImapHarness) -> None:
    mailbox: Mailbox = box
    assert mailbox.address == harness.address


def test_fetch_returns_uid_internaldate_bytes_oldest_first(
    box: ImapMailbox, harness: ImapHarness, state: MemoryState
) -> None:
    harness.inject(_raw(2), T2)
    harness.inject(_raw(1), T0)
    mails = box.fetch_new(T0)
    assert [(m.backend_id, m.received_at, m.raw) for m in mails] == [
        ("2", T0, _raw(1)),
        ("1", T2, _raw(2)),
    ]
    validity = state.get("uidvalidity")
    assert isinstance(validity, int) and validity > 0
    assert all(m.meta == {"uidvalidity": str(validity)} for m in mails)
    assert (state.get("last_uid"), state.get("pending")) == (2, [1, 2])
    # Peeked, not read: a person looking at the inbox still sees them as new.
    with login(harness.server, harness.address) as conn:
        conn.select("INBOX", readonly=True)
        assert conn.uid("SEARCH", "UNSEEN")[1] == [b"1 2"]


def test_mail_received_before_since_is_skipped(box: ImapMailbox, harness: ImapHarness) -> None:
    harness.inject(_raw(1), T0)
    harness.inject(_raw(2), T2)
    assert _ids(box.fetch_new(T1)) == ["2"]


def test_unmoved_mail_comes_back_until_moved_and_never_after(
    box: ImapMailbox, harness: ImapHarness, state: MemoryState
) -> None:
    harness.inject(_raw(1), T0)
    harness.inject(_raw(2), T1)
    assert _ids(box.fetch_new(T0)) == ["1", "2"]
    box.mark_processed("1")  # "2" failed handling: it stays in the inbox
    assert _ids(box.fetch_new(T0)) == ["2"]
    harness.inject(_raw(3), T2)
    assert _ids(box.fetch_new(T0)) == ["2", "3"]  # the retry and the new one, once each
    box.quarantine("2", "unreadable")
    box.mark_processed("3")
    assert box.fetch_new(T0) == []
    assert state.get("pending") == []


def test_pending_mail_is_returned_again_after_a_restart(
    harness: ImapHarness, state: MemoryState
) -> None:
    first = harness.mailbox(FixedClock(NOW), state)
    harness.inject(_raw(1), T0)
    harness.inject(_raw(2), T1)
    assert _ids(first.fetch_new(T0)) == ["1", "2"]
    first.mark_processed("2")
    first.close()  # the process stops; only the state survives
    harness.inject(_raw(3), T2)
    restarted = harness.mailbox(FixedClock(NOW), state)
    assert [m.raw for m in restarted.fetch_new(T0)] == [_raw(1), _raw(3)]


def test_a_checkpoint_from_another_uidvalidity_reads_the_whole_inbox(
    box: ImapMailbox, harness: ImapHarness, state: MemoryState
) -> None:
    harness.inject(_raw(1), T0)
    harness.inject(_raw(2), T1)
    # Saved against a mailbox whose UIDs meant other messages (a server migration).
    state.set("uidvalidity", 12345)
    state.set("last_uid", 99)
    state.set("pending", [])
    assert _ids(box.fetch_new(T0)) == ["1", "2"]
    assert state.get("uidvalidity") != 12345


def test_uidvalidity_change_on_the_server_restarts_and_stale_moves_are_skipped(
    box: ImapMailbox, harness: ImapHarness, state: MemoryState
) -> None:
    harness.inject(_raw(1), T0)
    harness.inject(_raw(2), T1)
    assert _ids(box.fetch_new(T0)) == ["1", "2"]
    old = state.get("uidvalidity")
    state.set("pending", [])  # as if a crash lost the pending list: only the UID checkpoint
    harness.server.doveadm(
        "mailbox", "update", "-u", harness.address, "--uid-validity", str(old + 7), "INBOX"
    )
    box.mark_processed("1")  # a UID from before the change may name another message now
    assert len(harness.folder("inbox")) == 2
    assert harness.folder("processed") == []
    assert _ids(box.fetch_new(T0)) == ["1", "2"]  # the whole inbox again
    assert state.get("uidvalidity") == old + 7
    box.mark_processed("1")
    assert harness.folder("processed") == [_raw(1)]


def test_fetch_reads_large_inboxes_in_batches(box: ImapMailbox, harness: ImapHarness) -> None:
    for n in range(1, 56):  # more than one FETCH batch of 50
        harness.inject(_raw(n), T0)
    assert [m.raw for m in box.fetch_new(T0)] == [_raw(n) for n in range(1, 56)]


# -- moves ---------------------------------------------------------------------------


def test_move_uses_uid_move_and_is_idempotent(box: ImapMailbox, harness: ImapHarness) -> None:
    harness.inject(_raw(1), T0)
    harness.inject(_raw(2), T0)
    box.fetch_new(T0)
    box.mark_processed("1")
    box.quarantine("2", "not for us")
    box.mark_processed("1")  # repeated after a crash: the UID is gone, which is fine
    box.quarantine("2", "not for us")
    box.mark_processed("999")
    assert "MOVE" in box.session.capabilities
    assert harness.folder("processed") == [_raw(1)]
    assert harness.folder("quarantine") == [_raw(2)]
    assert harness.folder("inbox") == []


def test_without_move_it_copies_deletes_and_expunges(
    harness: ImapHarness, state: MemoryState
) -> None:
    box = harness.mailbox(FixedClock(NOW), state, use_move=False)
    harness.inject(_raw(1), T0)
    harness.inject(_raw(2), T0)
    box.fetch_new(T0)
    box.mark_processed("1")
    box.mark_processed("1")
    assert harness.folder("processed") == [_raw(1)]  # one copy, not two
    # Expunged, not just flagged: only the other message is left in the inbox.
    assert [uid for uid, _, _ in read_folder(harness.server, harness.address, "INBOX")] == [2]
    assert _ids(box.fetch_new(T0)) == ["2"]


# -- connections ---------------------------------------------------------------------


def test_reconnects_once_after_the_server_drops_the_connection(
    box: ImapMailbox, harness: ImapHarness
) -> None:
    harness.inject(_raw(1), T0)
    assert _ids(box.fetch_new(T0)) == ["1"]
    harness.server.doveadm("kick", harness.address)  # the server closes our session
    harness.inject(_raw(2), T1)
    assert _ids(box.fetch_new(T0)) == ["1", "2"]
    harness.imap_proxy.drop()  # and the network drops it
    box.mark_processed("1")
    assert harness.folder("processed") == [_raw(1)]
    assert box.session.logins == 3


def test_an_unreachable_server_is_unavailable_then_recovers(
    box: ImapMailbox, harness: ImapHarness
) -> None:
    harness.inject(_raw(1), T0)
    box.fetch_new(T0)
    harness.break_connection()
    with pytest.raises(MailboxUnavailable, match=f"127.0.0.1:{harness.imap_proxy.port}"):
        box.fetch_new(T0)
    with pytest.raises(MailboxUnavailable):
        box.mark_processed("1")
    with pytest.raises(MailboxUnavailable, match="SMTP"):
        box.send(_letter("x1@example.test"), ["p@acme-care.example"], "x1@example.test")
    harness.restore()
    box.mark_processed("1")
    assert harness.folder("processed") == [_raw(1)]


def test_a_server_that_never_answers_times_out() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never greets
        port = silent.getsockname()[1]
        endpoint = ImapEndpoint("127.0.0.1", port, "none", "u", "p", timeout=0.2)
        smtp = SmtpEndpoint("127.0.0.1", port, "none", "u", "p", timeout=0.2)
        box = ImapMailbox(
            endpoint, smtp, "bot@example.test", "team@example.test", Path("unused"),
            clock=FixedClock(NOW), state=MemoryState(),
        )  # fmt: skip
        with pytest.raises(MailboxUnavailable, match="timed out"):
            box.fetch_new(T0)
        with pytest.raises(MailboxUnavailable, match="SMTP"):
            box.send(_letter("t@example.test"), ["p@acme-care.example"], "t@example.test")


def test_a_wrong_password_is_an_auth_error(harness: ImapHarness) -> None:
    imap, smtp = harness.endpoints(password="wrong")
    box = ImapMailbox(
        imap, smtp, harness.address, harness.team_address, harness.drive,
        clock=FixedClock(NOW), state=MemoryState(),
    )  # fmt: skip
    with pytest.raises(MailboxAuthError, match=harness.address):
        box.fetch_new(T0)
    with pytest.raises(MailboxAuthError, match="SMTP login"):
        box.send(_letter("w@example.test"), ["p@acme-care.example"], "w@example.test")
    assert harness.delivered_to("p@acme-care.example") == []


def _secure_box(harness: ImapHarness, imap: ImapEndpoint, smtp: SmtpEndpoint) -> ImapMailbox:
    return ImapMailbox(
        imap, smtp, harness.address, harness.team_address, harness.drive,
        clock=FixedClock(NOW), state=MemoryState(),
    )  # fmt: skip


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_and_starttls_with_a_verified_certificate(
    harness: ImapHarness, security: Security
) -> None:
    server = harness.server
    port = server.imaps_port if security == "ssl" else server.imap_port
    context = server.client_context()
    imap = ImapEndpoint("localhost", port, security, harness.address, PASSWORD, 10, context)
    smtp = SmtpEndpoint(
        "localhost", harness.relay.port, "starttls", harness.address, PASSWORD, 10, context
    )
    box = _secure_box(harness, imap, smtp)
    harness.inject(_raw(1), T0)
    assert _ids(box.fetch_new(T0)) == ["1"]
    box.send(_letter("tls@example.test"), ["p@acme-care.example"], "tls@example.test")
    [submission] = [s for s in harness.relay.submissions if s.sender == harness.address]
    assert submission.tls and submission.login == harness.address


def test_an_untrusted_certificate_is_refused(harness: ImapHarness) -> None:
    imap = ImapEndpoint("localhost", harness.server.imaps_port, "ssl", harness.address, "p", 10)
    smtp = SmtpEndpoint("localhost", harness.relay.port, "starttls", harness.address, "p", 10)
    box = _secure_box(harness, imap, smtp)  # the system CAs do not know the test certificate
    with pytest.raises(MailboxUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        box.fetch_new(T0)
    with pytest.raises(MailboxUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        box.send(_letter("u@example.test"), ["p@acme-care.example"], "u@example.test")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("mail.council.example", False), ("10.0.0.5", False), ("localhost.evil.example", False)],
)  # fmt: skip
def test_plain_connections_only_to_loopback(host: str, allowed: bool) -> None:
    assert is_loopback(host) is allowed
    if allowed:
        ImapEndpoint(host, 143, "none", "u", "p")
        SmtpEndpoint(host, 25, "none", "u", "p")
        return
    with pytest.raises(MailboxError, match="clear text"):
        ImapEndpoint(host, 143, "none", "u", "p")
    with pytest.raises(MailboxError, match="clear text"):
        SmtpEndpoint(host, 25, "none", "u", "p")
    ImapEndpoint(host, 993, "ssl", "u", "p")  # encrypted: any host


# -- sending -------------------------------------------------------------------------


def test_send_submits_with_auth_as_the_shared_mailbox_and_keeps_a_seen_copy_in_sent(
    box: ImapMailbox, harness: ImapHarness, state: MemoryState
) -> None:
    message = _letter("out-1@example.test", to="provider@acme-care.example")
    recipients = ["provider@acme-care.example", "cmo@council.example"]
    assert not box.already_sent("out-1@example.test")
    record = box.send(message, recipients, "out-1@example.test")
    assert record.extra == {"folder": "Sent"}
    [submission] = [s for s in harness.relay.submissions if s.sender == harness.address]
    assert (submission.login, submission.recipients) == (harness.address, recipients)
    for address in recipients:
        [delivered] = harness.delivered_to(address)
        assert delivered.endswith(message)
    assert harness.folder("sent") == [message]
    with login(harness.server, harness.address) as conn:
        conn.select("Sent", readonly=True)
        assert conn.uid("SEARCH", "SEEN")[1] == [b"1"]
    restarted = harness.mailbox(FixedClock(NOW), state)
    assert restarted.already_sent("out-1@example.test")
    assert restarted.already_sent("<out-1@example.test>")
    assert not restarted.already_sent("out-2@example.test")


def test_hold_for_review_keeps_it_in_review_and_sends_nothing(
    box: ImapMailbox, harness: ImapHarness
) -> None:
    message = _letter("shadow-1@example.test")
    record = box.hold_for_review(message, "shadow-1@example.test")
    box.hold_for_review(message, "shadow-1@example.test")  # a retry keeps one copy
    assert record.extra == {"folder": "Review"}
    assert harness.folder("review") == [message]
    assert harness.delivered_to("provider@acme-care.example") == []
    assert box.already_sent("shadow-1@example.test")


def test_a_sent_copy_that_cannot_be_kept_does_not_fail_the_send(
    box: ImapMailbox, harness: ImapHarness
) -> None:
    harness.imap_proxy.cut()  # IMAP down, SMTP up: the mail has gone, so no error
    record = box.send(_letter("half@example.test"), ["p@acme-care.example"], "half@example.test")
    assert record.location == "sent; no copy kept"
    assert len(harness.delivered_to("p@acme-care.example")) == 1


# -- calendar and files --------------------------------------------------------------

ENTRY = CalendarEntry(
    uid="cc-2026-014-review",
    day=date(2026, 11, 16),
    title="Review CC-2026-014 action plan",
    description="Check the medication audit.",
    case_reference="CC-2026-014",
)


def _events(harness: ImapHarness) -> list[icalendar.cal.Component]:
    events = []
    for raw in harness.delivered_to(harness.team_address):
        for part in email.message_from_bytes(raw).walk():
            if part.get_content_type() == "text/calendar":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                events += icalendar.Calendar.from_ical(payload).walk("VEVENT")
    return events


def test_diarise_invites_the_team_once_and_updates_a_moved_day(
    box: ImapMailbox, harness: ImapHarness, state: MemoryState
) -> None:
    box.diarise(ENTRY)
    box.diarise(ENTRY)
    harness.mailbox(FixedClock(NOW), state).diarise(ENTRY)  # after a restart too
    moved = CalendarEntry(ENTRY.uid, date(2026, 11, 18), ENTRY.title, ENTRY.description, "CC")
    box.diarise(moved)
    events = _events(harness)
    assert [(str(e["UID"]), int(str(e["SEQUENCE"]))) for e in events] == [
        (ENTRY.uid, 0),
        (ENTRY.uid, 1),
    ]
    assert [e.decoded("DTSTART") for e in events] == [date(2026, 11, 16), date(2026, 11, 18)]
    assert [(d.uid, d.day) for d in harness.diary()] == [(ENTRY.uid, date(2026, 11, 18))]
    assert len(harness.folder("sent")) == 2
    assert state.get("calendar") == {ENTRY.uid: [1, ["2026-11-18", ENTRY.title, ENTRY.description]]}


def test_save_file_goes_to_the_shared_drive(box: ImapMailbox, harness: ImapHarness) -> None:
    where = box.save_file("CC-2026-014-closure.txt", b"report")
    assert Path(where) == harness.drive / "CC-2026-014-closure.txt"
    assert harness.files() == {"CC-2026-014-closure.txt": b"report"}
    with pytest.raises(ValueError):
        box.save_file("../escape.txt", b"x")


# -- configuration -------------------------------------------------------------------


def _config_text(harness: ImapHarness, host: str, security: str = "none") -> str:
    text = (REPO / "config.yaml").read_text()
    text = text.replace("  assets: assets ", f"  assets: {REPO / 'assets'} ", 1)
    section = (
        "  imap:\n"
        f"    host: {host}\n"
        f"    port: {harness.imap_proxy.port}\n"
        f"    security: {security}\n"
        f"    username: {harness.address}\n"
        "    password_env: CCBOT_TEST_IMAP_PASSWORD\n"
        f"    smtp_host: {host}\n"
        f"    smtp_port: {harness.smtp_proxy.port}\n"
        f"    smtp_security: {security}\n"
        "    timeout_seconds: 10\n"
    )
    text = text.replace("  backend: local ", "  backend: imap  ", 1)
    text = text.replace(
        "  address: contract.concerns@council.example", f"  address: {harness.address}", 1
    )
    text = text.replace("  local:\n", section + "  local:\n", 1)
    # A live backend must insist on authenticated commands (a check of its own).
    return text.replace(
        "require_authenticated_commands: false", "require_authenticated_commands: true", 1
    )


def test_from_config_reads_the_section_and_the_password_from_the_environment(
    harness: ImapHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(_config_text(harness, "127.0.0.1"))
    config = load_config(path)
    monkeypatch.delenv("CCBOT_TEST_IMAP_PASSWORD", raising=False)
    with pytest.raises(MailboxAuthError, match="CCBOT_TEST_IMAP_PASSWORD"):
        ImapMailbox.from_config(config, FixedClock(NOW), MemoryState())
    monkeypatch.setenv("CCBOT_TEST_IMAP_PASSWORD", PASSWORD)
    box = ImapMailbox.from_config(config, FixedClock(NOW), MemoryState())
    assert (box.address, box.calendar_address) == (harness.address, config.council.team_address)
    assert box.session.endpoint.timeout == 10
    harness.inject(_raw(1), T0)
    assert [m.raw for m in box.fetch_new(T0)] == [_raw(1)]
    box.send(_letter("cfg@example.test"), ["p@acme-care.example"], "cfg@example.test")
    assert box.already_sent("cfg@example.test")
    box.close()


def test_plain_imap_to_a_remote_host_is_refused_at_its_line(
    harness: ImapHarness, tmp_path: Path
) -> None:
    from bot.config import ProblemsError

    path = tmp_path / "config.yaml"
    text = _config_text(harness, "mail.council.example")
    path.write_text(text)
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    problems = caught.value.problems
    lines = text.splitlines()
    assert [(p.key, lines[p.line - 1].strip()) for p in problems] == [
        ("mailbox.imap.security", "security: none"),
        ("mailbox.imap.smtp_security", "smtp_security: none"),
    ]
    assert all(p.file == str(path) and "starttls" in p.fix for p in problems)
    path.write_text(_config_text(harness, "mail.council.example", "starttls"))
    assert load_config(path).mailbox.imap is not None


# -- the pieces ----------------------------------------------------------------------


def test_internaldate_and_uid_sets() -> None:
    assert internaldate(" 3-Mar-2025 09:00:00 +0100") == datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    assert internaldate("14-Dec-2026 10:00:00 +0000") == datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    assert uid_set([9, 1, 2, 3, 7, 10, 3]) == "1:3,7,9:10"


def test_a_missing_dovecot_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends.dovecot, "find_dovecot", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y"):
        backends.dovecot.require_dovecot()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="dovecot is not installed"):
        backends.dovecot.require_dovecot()
