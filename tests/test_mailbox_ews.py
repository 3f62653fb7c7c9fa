"""What only the EWS backend does: sync paging, pending ids across restarts, busy servers,
calendar items moved in place, and opening it from the config."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from backends.ews import EwsHarness, running
from exchangelib import DELEGATE, IMPERSONATION, Credentials, OAuth2Credentials

from bot.clock import LONDON, FixedClock
from bot.config import load_config
from bot.config.mailbox_settings import EwsMailbox as EwsSettings
from bot.mailbox.base import CalendarEntry, MailboxAuthError, MailboxUnavailable
from bot.mailbox.ews import EwsMailbox
from bot.mailbox.state import MemoryState

REPO = Path(__file__).resolve().parent.parent
SINCE = datetime(2026, 11, 1, tzinfo=LONDON)
CLOCK = FixedClock(datetime(2026, 11, 3, 9, 0, tzinfo=LONDON))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EwsHarness]:
    with running(tmp_path) as harness:
        yield harness


def mail(number: int, **headers: str) -> bytes:
    extra = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return (
        "From: Sam Ward <sam.ward@council.example>\r\n"
        "To: contract.concerns@council.example\r\n"
        f"Subject: Concern {number}\r\n"
        f"Message-ID: <concern-{number}@council.example>\r\n{extra}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Concern number {number}: caf\u00e9 visit missed.\r\n"
    ).encode()


def at(hour: int, minute: int = 0, day: int = 2) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LONDON)


def test_sync_pages_through_every_change_and_keeps_the_mime_exactly(server: EwsHarness) -> None:
    for n in range(5):
        server.inject(mail(n), at(8, n))
    box = server.mailbox(CLOCK, MemoryState(), page_size=2)
    found = box.fetch_new(SINCE)
    assert [m.raw for m in found] == [mail(n) for n in range(5)]
    assert server.fake.calls.count("SyncFolderItems") == 3  # pages of 2, 2 and 1
    assert found[0].received_at == at(8, 0)
    assert set(found[0].meta) == {"changekey", "conversation_id"}


def test_a_failed_mail_comes_back_until_it_is_moved_and_an_idle_poll_is_one_request(
    server: EwsHarness,
) -> None:
    server.inject(mail(1), at(8))
    server.inject(mail(2), at(9))
    box = server.mailbox(CLOCK, MemoryState())
    first = box.fetch_new(SINCE)
    box.mark_processed(first[0].backend_id)
    again = box.fetch_new(SINCE)  # mail 2 was not moved: its handling failed
    assert [m.raw for m in again] == [mail(2)]
    box.quarantine(again[0].backend_id, "unreadable: no body")
    box.quarantine(again[0].backend_id, "unreadable: no body")  # a crash repeats it
    server.fake.calls.clear()
    assert box.fetch_new(SINCE) == []
    assert server.fake.calls == ["SyncFolderItems"]
    assert server.folder("processed") == [mail(1)]
    assert server.folder("quarantine") == [mail(2)]
    assert server.folder("inbox") == []
    reasons = [item.extended for item in server.fake.folder_items("Quarantine")]
    assert any("unreadable: no body" in r.values() for r in reasons)


def test_a_restart_with_the_same_state_returns_what_was_not_moved_and_nothing_twice(
    server: EwsHarness,
) -> None:
    state = MemoryState()
    server.inject(mail(1), at(8))
    server.inject(mail(2), at(9))
    before = server.mailbox(CLOCK, state)
    fetched = before.fetch_new(SINCE)
    before.mark_processed(fetched[0].backend_id)
    server.inject(mail(3), at(10))
    after = server.mailbox(CLOCK, state)  # a new process: only the state survives
    assert [m.raw for m in after.fetch_new(SINCE)] == [mail(2), mail(3)]
    # The folders made before the restart are used, not made again.
    assert server.fake.calls.count("CreateFolder") == 1


def test_a_folder_deleted_on_the_server_is_made_again(server: EwsHarness) -> None:
    state = MemoryState()
    server.inject(mail(1), at(8))
    server.inject(mail(2), at(9))
    box = server.mailbox(CLOCK, state)
    first, second = box.fetch_new(SINCE)
    box.mark_processed(first.backend_id)
    processed = server.fake.store.folder_named("Processed")
    assert processed is not None
    del server.fake.store.folders[processed.id]  # an administrator tidied up
    box.mark_processed(second.backend_id)
    assert server.folder("processed") == [mail(2)]
    assert state.get("folders")["processed"] != processed.id


def test_mail_received_before_since_is_left_alone(server: EwsHarness) -> None:
    server.inject(mail(1), datetime(2026, 10, 31, 23, 0, tzinfo=LONDON))
    server.inject(mail(2), at(8))
    box = server.mailbox(CLOCK, MemoryState())
    assert [m.raw for m in box.fetch_new(SINCE)] == [mail(2)]
    assert len(server.folder("inbox")) == 2


def test_a_rejected_sync_state_starts_over_without_losing_mail(server: EwsHarness) -> None:
    state = MemoryState()
    server.inject(mail(1), at(8))
    state.set("sync_state", "not-a-sync-state")
    box = server.mailbox(CLOCK, state)
    assert [m.raw for m in box.fetch_new(SINCE)] == [mail(1)]


def test_server_busy_is_waited_out_with_its_back_off(server: EwsHarness) -> None:
    server.inject(mail(1), at(8))
    box = server.mailbox(CLOCK, MemoryState())
    server.fake.busy(2, back_off_ms=2500)
    assert len(box.fetch_new(SINCE)) == 1
    assert server.waits == [2.5, 2.5]


def test_a_server_that_stays_busy_is_reported_unavailable_after_bounded_waits(
    server: EwsHarness,
) -> None:
    box = server.mailbox(CLOCK, MemoryState())
    server.fake.busy(100, back_off_ms=1000)
    with pytest.raises(MailboxUnavailable, match="busy"):
        box.send(mail(7), ["a@provider.example"], "concern-7@council.example")
    assert server.waits == [1.0, 1.0, 1.0]
    assert server.delivered_to("a@provider.example") == []


def test_a_connection_failure_midway_loses_nothing_and_sends_nothing_twice(
    server: EwsHarness,
) -> None:
    state = MemoryState()
    server.inject(mail(1), at(8))
    server.inject(mail(2), at(9))
    box = server.mailbox(CLOCK, state)
    fetched = box.fetch_new(SINCE)
    box.mark_processed(fetched[0].backend_id)
    server.break_connection()
    with pytest.raises(MailboxUnavailable, match=r"127\.0\.0\.1"):
        box.mark_processed(fetched[1].backend_id)
    with pytest.raises(MailboxUnavailable):
        box.send(mail(9), ["a@provider.example"], "concern-9@council.example")
    with pytest.raises(MailboxUnavailable):
        box.fetch_new(SINCE)
    assert server.waits == []  # a refused connection is not a busy server: no waiting
    server.restore()
    assert [m.raw for m in box.fetch_new(SINCE)] == [mail(2)]
    assert not box.already_sent("concern-9@council.example")
    box.send(mail(9), ["a@provider.example"], "concern-9@council.example")
    assert box.already_sent("concern-9@council.example")
    assert server.delivered_to("a@provider.example") == [mail(9)]
    assert server.folder("sent") == [mail(9)]


def test_a_login_failure_is_an_auth_error(server: EwsHarness) -> None:
    server.fake.reject_auth = True
    box = server.mailbox(CLOCK, MemoryState())
    with pytest.raises(MailboxAuthError, match="login"):
        box.fetch_new(SINCE)


def test_held_messages_are_saved_in_review_and_count_as_sent(server: EwsHarness) -> None:
    box = server.mailbox(CLOCK, MemoryState())
    box.hold_for_review(mail(4), "concern-4@council.example")
    assert box.already_sent("concern-4@council.example")
    assert server.folder("review") == [mail(4)]
    assert server.fake.store.deliveries == []


def test_a_moved_calendar_item_is_the_same_item_at_its_new_day(server: EwsHarness) -> None:
    box = server.mailbox(CLOCK, MemoryState())
    entry = CalendarEntry("CC-1-review", date(2026, 11, 16), "Review CC-1", "Due", "CC-1")
    box.diarise(entry)
    box.diarise(entry)
    [(item, day)] = server.fake.calendar()
    assert day == date(2026, 11, 16) and item.all_day
    original_id = item.id
    box.diarise(CalendarEntry("CC-1-review", date(2026, 11, 23), "Review CC-1", "Moved", "CC-1"))
    [(moved, new_day)] = server.fake.calendar()
    assert (moved.id, new_day, moved.body) == (original_id, date(2026, 11, 23), "Moved")
    assert server.fake.calls.count("CreateItem") == 1
    assert server.fake.calls.count("UpdateItem") == 1


def test_a_new_state_finds_the_calendar_item_on_the_server(server: EwsHarness) -> None:
    entry = CalendarEntry("CC-2-follow-up", date(2026, 11, 20), "Follow up CC-2", "", "CC-2")
    server.mailbox(CLOCK, MemoryState()).diarise(entry)
    # A crash before the commit: the state is gone, the item is not.
    server.mailbox(CLOCK, MemoryState()).diarise(entry)
    assert [e.uid for e in server.diary()] == ["CC-2-follow-up"]


def _ews_config(tmp_path: Path, settings: EwsSettings):  # type: ignore[no-untyped-def]
    config = load_config(REPO / "config.yaml")
    mailbox = config.mailbox.model_copy(update={"backend": "ews", "ews": settings})
    return config.model_copy(update={"mailbox": mailbox, "shared_drive": tmp_path / "share"})


def test_from_config_reads_the_password_from_the_named_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = EwsSettings(
        service_endpoint="https://mail.council.example/EWS/Exchange.asmx",
        username="COUNCIL\\svc-concerns",
        password_env="CCBOT_EWS_PASSWORD",
        access_type="impersonation",
        timeout_seconds=30,
    )
    config = _ews_config(tmp_path, settings)
    monkeypatch.delenv("CCBOT_EWS_PASSWORD", raising=False)
    with pytest.raises(ValueError, match="CCBOT_EWS_PASSWORD"):
        EwsMailbox.from_config(config, CLOCK, MemoryState())
    monkeypatch.setenv("CCBOT_EWS_PASSWORD", "s3cret")
    box = EwsMailbox.from_config(config, CLOCK, MemoryState())
    credentials = box.account.protocol.credentials
    assert isinstance(credentials, Credentials)
    assert (credentials.username, credentials.password) == ("COUNCIL\\svc-concerns", "s3cret")
    assert box.account.access_type == IMPERSONATION
    assert box.account.protocol.TIMEOUT == 30
    assert box.address == config.mailbox.address


def test_from_config_with_oauth2_client_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = EwsSettings(
        service_endpoint="https://mail.council.example/EWS/Exchange.asmx",
        auth_type="OAuth2",
        tenant_id="tenant",
        client_id="client",
        client_secret_env="CCBOT_EWS_SECRET",
    )
    monkeypatch.setenv("CCBOT_EWS_SECRET", "shh")
    box = EwsMailbox.from_config(_ews_config(tmp_path, settings), CLOCK, MemoryState())
    credentials = box.account.protocol.credentials
    assert isinstance(credentials, OAuth2Credentials)
    assert (credentials.client_id, credentials.client_secret) == ("client", "shh")
    assert box.account.access_type == DELEGATE


def test_settings_refuse_incomplete_credentials() -> None:
    with pytest.raises(ValueError, match="client_secret_env"):
        EwsSettings(
            service_endpoint="https://x/EWS/Exchange.asmx",
            auth_type="OAuth2",
            tenant_id="t",
            client_id="c",
        )


def test_closure_reports_go_to_the_shared_drive_owner_only(server: EwsHarness) -> None:
    box = server.mailbox(CLOCK, MemoryState())
    where = box.save_file("CC-1-closure.txt", b"closed")
    assert server.files() == {"CC-1-closure.txt": b"closed"}
    assert Path(where).stat().st_mode & 0o077 == 0
