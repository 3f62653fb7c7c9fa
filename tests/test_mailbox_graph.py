"""The Graph backend against the fake Graph: requests counted, limits kept, nothing sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from backends.graph import ADDRESS, GraphHarness, running

from bot.clock import LONDON, FixedClock
from bot.config import Config, load_config
from bot.config.mailbox_settings import GraphMailbox as GraphSettings
from bot.mailbox.base import CalendarEntry, MailboxAuthError, MailboxUnavailable
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.graph_auth import MsalTokenSource
from bot.mailbox.graph_mail import REASON_PROPERTY
from bot.mailbox.graph_send import MESSAGE_ID_PROPERTY
from bot.mailbox.state import MemoryState

REPO = Path(__file__).resolve().parent.parent
SINCE = datetime(2026, 11, 1, tzinfo=LONDON)
DELTA = "/users/{user}/mailFolders/inbox/messages/delta"
VALUE = "/users/{user}/messages/{mid}/$value"
SEND_MAIL = "/users/{user}/sendMail"
SEND_DRAFT = "/users/{user}/messages/{mid}/send"
UPLOAD = "/upload/{token}"
ATTACHMENT_SESSION = "/users/{user}/messages/{mid}/attachments/createUploadSession"


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[GraphHarness]:
    with running(tmp_path) as harness:
        yield harness
        assert harness.fake.errors == []  # the fake never met a call it could not answer


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 3, 9, 0, tzinfo=LONDON))


def incoming(n: int, **headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "provider@oakview.example"
    mail["To"] = ADDRESS
    mail["Subject"] = f"Concern {n}"
    mail["Message-ID"] = f"<in-{n}@oakview.example>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(f"Body {n}\n")
    return mail.as_bytes()


def outgoing(message_id: str, to: str, reply_to: str | None = None, big: int = 0) -> bytes:
    mail = EmailMessage()
    mail["From"] = ADDRESS
    mail["To"] = to
    mail["Subject"] = "Re: Concern 1" if reply_to else "Your concern"
    mail["Message-ID"] = f"<{message_id}>"
    if reply_to:
        mail["In-Reply-To"] = reply_to
        mail["References"] = reply_to
    mail.set_content("Thank you.\n")
    if big:
        mail.add_attachment(
            bytes(range(256)) * (big // 256),
            maintype="application",
            subtype="pdf",
            filename="report.pdf",
        )
    return mail.as_bytes()


def received(n: int) -> datetime:
    return datetime(2026, 11, 2, 10, n, tzinfo=LONDON)


def test_delta_follows_next_links_and_returns_the_mime_as_sent(
    graph: GraphHarness, clock: FixedClock
) -> None:
    raws = [incoming(n) for n in range(7)]
    graph.fake.api.page_size = 3  # Graph's pages are larger: three show the paging here
    for n, raw in enumerate(raws):
        graph.inject(raw, received(n))
    state = MemoryState()
    found = graph.mailbox(clock, state).fetch_new(SINCE)
    assert [m.raw for m in found] == raws  # exactly the bytes, oldest first
    assert graph.fake.count("GET", DELTA) == 3  # pages of 3: two nextLinks, then the deltaLink
    assert found[0].received_at == received(0)
    assert found[0].meta["internet_message_id"] == "<in-0@oakview.example>"
    assert found[0].meta["conversation_id"]
    assert "$deltatoken=" in state.get("delta_link")
    assert len(set(m.backend_id for m in found)) == 7


def test_an_idle_poll_is_one_request_and_a_processed_message_at_most_four(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    graph.inject(incoming(0), received(0))
    mailbox.mark_processed(mailbox.fetch_new(SINCE)[0].backend_id)  # folder made, token got
    mailbox.fetch_new(SINCE)

    before = graph.fake.total
    assert mailbox.fetch_new(SINCE) == []
    assert graph.fake.total - before == 1

    graph.inject(incoming(1), received(1))
    before = graph.fake.total
    [mail] = mailbox.fetch_new(SINCE)
    mailbox.mark_processed(mail.backend_id)
    handled = graph.fake.total - before
    assert handled == 3  # delta + $value + move
    assert handled <= 4
    before = graph.fake.total
    assert mailbox.fetch_new(SINCE) == []  # the removal shows in one delta page, then idle
    assert graph.fake.total - before == 1


def test_mail_before_the_start_date_is_never_fetched(
    graph: GraphHarness, clock: FixedClock
) -> None:
    graph.inject(incoming(0), datetime(2026, 10, 31, 23, 59, tzinfo=LONDON))
    graph.inject(incoming(1), received(1))
    found = graph.mailbox(clock, MemoryState()).fetch_new(SINCE)
    assert [m.raw for m in found] == [incoming(1)]
    assert graph.fake.count("GET", VALUE) == 1


def test_retry_after_is_honoured_for_get_and_post(graph: GraphHarness, clock: FixedClock) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    graph.inject(incoming(0), received(0))
    graph.fake.fail_next("GET", DELTA, count=2, status=429, retry_after="7")
    assert len(mailbox.fetch_new(SINCE)) == 1
    assert graph.waits == [7.0, 7.0]

    graph.fake.fail_next("POST", SEND_MAIL, count=1, status=503, retry_after="3")
    mailbox.send(
        outgoing("out-1@council.example", "a@oakview.example"),
        ["a@oakview.example"],
        "out-1@council.example",
    )
    assert graph.waits == [7.0, 7.0, 3.0]
    assert len(graph.delivered_to("a@oakview.example")) == 1
    assert graph.fake.count("POST", SEND_MAIL) == 2


def test_a_new_thread_is_sent_as_its_own_mime_to_every_recipient(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    raw = outgoing("out-6@council.example", "a@oakview.example")
    mailbox.send(raw, ["a@oakview.example", "cmo@council.example"], "out-6@council.example")
    assert graph.delivered_to("a@oakview.example") == [b"Bcc: cmo@council.example\n" + raw]
    assert graph.delivered_to("cmo@council.example") == graph.delivered_to("a@oakview.example")
    assert graph.thread_key("out-6@council.example") is not None
    assert graph.fake.count("POST", SEND_MAIL) == 1


def test_throttling_that_never_ends_gives_up_as_unavailable(
    graph: GraphHarness, clock: FixedClock
) -> None:
    graph.fake.fail_next("GET", DELTA, count=10, status=503, retry_after="1")
    with pytest.raises(MailboxUnavailable, match="503"):
        graph.mailbox(clock, MemoryState()).fetch_new(SINCE)
    assert graph.fake.count("GET", DELTA) == 5
    assert graph.waits == [1.0] * 4


def test_a_send_whose_answer_is_lost_is_not_sent_twice(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    # sendMail carried out, but the gateway answers 504: the retry must find it already sent.
    graph.fake.fail_next("POST", SEND_MAIL, status=504, retry_after="2", after=True)
    raw = outgoing("out-1@council.example", "a@oakview.example")
    mailbox.send(raw, ["a@oakview.example"], "out-1@council.example")
    assert graph.delivered_to("a@oakview.example") == [raw]
    assert graph.fake.count("POST", SEND_MAIL) == 1

    graph.inject(incoming(1), received(1))
    graph.fake.fail_next("POST", SEND_DRAFT, status=504, retry_after="2", after=True)
    reply = outgoing("out-2@council.example", "provider@oakview.example", "<in-1@oakview.example>")
    mailbox.send(reply, ["provider@oakview.example"], "out-2@council.example")
    assert len(graph.delivered_to("provider@oakview.example")) == 1
    assert graph.fake.count("POST", SEND_DRAFT) == 1
    assert mailbox.already_sent("out-2@council.example")


def test_a_draft_left_by_a_crash_is_replaced_not_sent_twice(
    graph: GraphHarness, clock: FixedClock
) -> None:
    graph.inject(incoming(1), received(1))
    store = graph.fake.store
    with graph.fake.lock:
        leftover = store.from_json(
            {
                "subject": "half made",
                "singleValueExtendedProperties": [
                    {"id": MESSAGE_ID_PROPERTY, "value": "<out-3@council.example>"}
                ],
            },
            store.alias("drafts"),
            draft=True,
        )
    mailbox = graph.mailbox(clock, MemoryState())
    assert not mailbox.already_sent("out-3@council.example")
    reply = outgoing("out-3@council.example", "provider@oakview.example", "<in-1@oakview.example>")
    mailbox.send(reply, ["provider@oakview.example"], "out-3@council.example")
    assert len(graph.delivered_to("provider@oakview.example")) == 1
    assert store.in_folder(store.alias("drafts")) == []
    assert store.in_folder(store.alias("deleteditems")) == [leftover]


def test_a_reply_goes_in_the_thread_with_a_large_attachment_by_upload_session(
    graph: GraphHarness, clock: FixedClock
) -> None:
    graph.inject(incoming(1), received(1))
    mailbox = graph.mailbox(clock, MemoryState())
    raw = outgoing(
        "out-4@council.example",
        "provider@oakview.example",
        "<in-1@oakview.example>",
        big=5 * 1024 * 1024,
    )
    record = mailbox.send(
        raw, ["provider@oakview.example", "cmo@council.example"], "out-4@council.example"
    )
    assert graph.thread_key("out-4@council.example") == graph.thread_key("in-1@oakview.example")
    assert record.extra["conversation_id"] == graph.thread_key("in-1@oakview.example")
    assert graph.fake.count("POST", "/users/{user}/messages/{mid}/createReply") == 1
    assert graph.fake.count("POST", ATTACHMENT_SESSION) == 1
    assert graph.fake.count("PUT", UPLOAD) == 2  # ranges of 3.125 MB
    [sent] = graph.delivered_to("provider@oakview.example")
    assert graph.delivered_to("cmo@council.example") == [sent]  # not in To/Cc: sent as Bcc
    parsed = BytesParser(policy=policy.default).parsebytes(sent)
    assert parsed["Message-ID"] == "<out-4@council.example>"
    assert parsed["In-Reply-To"] == "<in-1@oakview.example>"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_payload(decode=True) == bytes(range(256)) * (5 * 1024 * 1024 // 256)
    assert mailbox.already_sent("out-4@council.example")
    assert graph.folder("sent") == [sent]


def test_held_for_review_is_kept_and_counts_as_sent_but_goes_nowhere(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    raw = outgoing("out-5@council.example", "a@oakview.example")
    mailbox.hold_for_review(raw, "out-5@council.example")
    assert graph.folder("review") == [raw]
    assert graph.delivered_to("a@oakview.example") == []
    before = graph.fake.total
    assert mailbox.already_sent("out-5@council.example")
    assert not mailbox.already_sent("never@council.example")
    assert graph.fake.total - before <= 1 + 2


def test_token_failures_are_for_an_admin(graph: GraphHarness, clock: FixedClock) -> None:
    graph.fake.token_error = "invalid_client"
    with pytest.raises(MailboxAuthError, match=r"AADSTS7000215.*client secret"):
        graph.mailbox(clock, MemoryState()).fetch_new(SINCE)

    graph.fake.token_error = None
    mailbox = graph.mailbox(clock, MemoryState())
    mailbox.fetch_new(SINCE)
    assert mailbox.token_expires_at() == datetime(2026, 11, 3, 9, 59, 59, tzinfo=LONDON)
    graph.fake.revoke_tokens()  # a 401 once: a new token, and the call goes through
    mailbox.fetch_new(SINCE)
    graph.fake.consent_denied = True
    with pytest.raises(MailboxAuthError, match="application access policy"):
        mailbox.fetch_new(SINCE)


def test_folders_are_made_once_and_found_again_by_name(
    graph: GraphHarness, clock: FixedClock
) -> None:
    for n in range(3):
        graph.inject(incoming(n), received(n))
    mailbox = graph.mailbox(clock, MemoryState())
    found = mailbox.fetch_new(SINCE)
    mailbox.mark_processed(found[0].backend_id)
    mailbox.mark_processed(found[0].backend_id)  # repeated after a crash: fine
    mailbox.mark_processed(found[1].backend_id)
    other = graph.mailbox(clock, MemoryState())  # a new install: looks the folder up
    other.quarantine(found[2].backend_id, "unreadable: no text")
    assert graph.fake.count("POST", "/users/{user}/mailFolders/{fid}/childFolders") == 2
    assert graph.folder("processed") == [incoming(0), incoming(1)]
    assert graph.folder("quarantine") == [incoming(2)]  # whole, with the reason noted
    [kept] = graph.fake.store.in_folder(graph.fake.store.folder_named("Quarantine") or "")
    assert kept.props[REASON_PROPERTY] == "unreadable: no text"
    other.quarantine(found[2].backend_id, "unreadable: no text")  # again: nothing happens
    assert graph.folder("quarantine") == [incoming(2)]


def test_a_restart_returns_pending_mail_but_never_processed_mail(
    graph: GraphHarness, clock: FixedClock
) -> None:
    for n in range(4):
        graph.inject(incoming(n), received(n))
    state = MemoryState()
    first = graph.mailbox(clock, state)
    found = first.fetch_new(SINCE)
    first.mark_processed(found[0].backend_id)
    first.quarantine(found[1].backend_id, "rejected")
    with graph.fake.lock:  # someone files the fourth away by hand
        store = graph.fake.store
        store.move(store.messages[found[3].backend_id], store.alias("deleteditems"))
    restarted = graph.mailbox(clock, state)
    assert [m.raw for m in restarted.fetch_new(SINCE)] == [incoming(2)]
    assert [m.raw for m in restarted.fetch_new(SINCE)] == [incoming(2)]


def test_an_unreachable_server_is_unavailable_until_it_is_back(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    assert mailbox.fetch_new(SINCE) == []
    graph.inject(incoming(0), received(0))
    graph.break_connection()
    with pytest.raises(MailboxUnavailable, match=r"127\.0\.0\.1"):
        mailbox.fetch_new(SINCE)
    graph.restore()
    assert len(mailbox.fetch_new(SINCE)) == 1


def test_a_diary_entry_is_one_event_moved_in_place(graph: GraphHarness, clock: FixedClock) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    entry = CalendarEntry("cc-1-review", date(2026, 11, 10), "Review CC-1", "Check", "CC-1")
    mailbox.diarise(entry)
    mailbox.diarise(entry)
    assert [(d.uid, d.day) for d in graph.diary()] == [("cc-1-review", date(2026, 11, 10))]
    assert graph.fake.count("POST", "/users/{user}/events") == 1
    assert graph.fake.count("PATCH", "/users/{user}/events/{eid}") == 0
    moved = CalendarEntry("cc-1-review", date(2026, 11, 12), "Review CC-1", "Check", "CC-1")
    mailbox.diarise(moved)
    assert [(d.uid, d.day) for d in graph.diary()] == [("cc-1-review", date(2026, 11, 12))]
    assert graph.fake.count("PATCH", "/users/{user}/events/{eid}") == 1
    other = CalendarEntry("cc-2-review", date(2026, 11, 12), "Review CC-2", "Check", "CC-2")
    mailbox.diarise(other)
    assert len(graph.diary()) == 2


def test_files_go_to_the_drive_small_by_put_large_by_session(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    small, large = b"closure report\n", bytes(range(256)) * (9 * 1024 * 4)
    where = mailbox.save_file("CC-1-closure.txt", small)
    assert where.endswith("/Contract%20concerns/CC-1-closure.txt")
    mailbox.save_file("CC-2-closure.pdf", large)
    assert graph.files() == {"CC-1-closure.txt": small, "CC-2-closure.pdf": large}
    assert graph.fake.count("PUT", "/drives/{drive}/root:/{path}:/content") == 1
    assert graph.fake.count("POST", "/drives/{drive}/root:/{path}:/createUploadSession") == 1
    assert graph.fake.count("PUT", UPLOAD) == 3
    with pytest.raises(ValueError):
        mailbox.save_file("../escape.txt", small)


def test_the_manager_comes_from_the_directory(graph: GraphHarness, clock: FixedClock) -> None:
    mailbox = graph.mailbox(clock, MemoryState())
    assert mailbox.manager_of("referrer@council.example") is None
    graph.fake.api.managers["referrer@council.example"] = "boss@council.example"
    assert mailbox.manager_of("referrer@council.example") == "boss@council.example"


def _graph_config(secret_env: str) -> Config:
    config = load_config(REPO / "config.yaml")
    settings = GraphSettings(tenant_id="t1", client_id="c1", client_secret_env=secret_env)
    mailbox = config.mailbox.model_copy(update={"backend": "graph", "graph": settings})
    return config.model_copy(update={"mailbox": mailbox})


def test_from_config_reads_the_secret_from_the_environment(
    clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _graph_config("CCBOT_TEST_GRAPH_SECRET")
    monkeypatch.delenv("CCBOT_TEST_GRAPH_SECRET", raising=False)
    with pytest.raises(MailboxAuthError, match="CCBOT_TEST_GRAPH_SECRET"):
        GraphMailbox.from_config(config, clock, MemoryState())
    monkeypatch.setenv("CCBOT_TEST_GRAPH_SECRET", "s3cret")
    mailbox = GraphMailbox.from_config(config, clock, MemoryState())
    tokens = mailbox.client.tokens
    assert isinstance(tokens, MsalTokenSource)
    assert tokens.connection.auth == ("c1", "s3cret")
    assert tokens.connection.tenant_id == "t1"
    assert mailbox.client.service_url == "https://graph.microsoft.com/v1.0/"
    assert mailbox.token_expires_at() is None  # nothing asked of the network yet


def test_graph_settings_need_exactly_one_credential() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        GraphSettings(tenant_id="t", client_id="c")
    with pytest.raises(ValueError, match="exactly one"):
        GraphSettings(tenant_id="t", client_id="c", client_secret_env="A", certificate_path_env="B")
    with pytest.raises(ValueError, match="thumbprint"):
        GraphSettings(tenant_id="t", client_id="c", certificate_path_env="B")
    ok = GraphSettings(
        tenant_id="t", client_id="c", certificate_path_env="B", certificate_thumbprint="AB12"
    )
    assert ok.request_timeout_seconds == 30.0
