"""What a Graph request costs the bot: connections kept alive, the proxy read once, replies to
mail the bot has just filed made without looking the original up."""

from __future__ import annotations

import pytest
from backends.graph import GraphHarness
from backends.tcp_proxy import TcpProxy
from test_mailbox_graph import SINCE, clock, graph, incoming, outgoing, received

from bot.clock import FixedClock
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.state import MemoryState

__all__ = ["clock", "graph"]  # the fixtures, shared with the Graph backend's tests

LOOKUP = "/users/{user}/messages"
CREATE_REPLY = "/users/{user}/messages/{mid}/createReply"
PATCH = "/users/{user}/messages/{mid}"
SEND_DRAFT = "/users/{user}/messages/{mid}/send"


def filed_one(graph: GraphHarness, clock: FixedClock) -> GraphMailbox:
    """The bot's mailbox once it has fetched and filed the provider's email `in-1`, the one
    its letters in these tests answer."""
    graph.inject(incoming(1), received(1))
    mailbox = graph.mailbox(clock, MemoryState())
    [mail] = mailbox.fetch_new(SINCE)
    mailbox.mark_processed_all([mail.backend_id])
    return mailbox


def test_requests_share_kept_alive_connections(graph: GraphHarness, clock: FixedClock) -> None:
    for n in range(12):
        graph.inject(incoming(n), received(n))
    mailbox = graph.mailbox(clock, MemoryState())
    found = mailbox.fetch_new(SINCE)
    mailbox.mark_processed_all([m.backend_id for m in found])
    assert graph.fake.total >= 25  # delta, 12 bodies, the folder, 12 moves
    # Four at most side by side, each on a connection used again; one more for the sign-in.
    assert graph.fake.connected <= 4 + 1


@pytest.mark.parametrize("bypassed", [False, True])
def test_the_proxy_the_environment_names_is_used(
    graph: GraphHarness, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, bypassed: bool
) -> None:
    proxy = TcpProxy(graph.fake.port)  # a forward proxy as Graph's fake sees it: the same bytes
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        for name in ("NO_PROXY", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        if bypassed:
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        graph.inject(incoming(0), received(0))
        mailbox = graph.mailbox(clock, MemoryState())
        assert [m.raw for m in mailbox.fetch_new(SINCE)] == [incoming(0)]  # and a token got
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # read once: not seen again
        graph.inject(incoming(1), received(1))
        assert [m.raw for m in mailbox.fetch_new(SINCE)] == [incoming(0), incoming(1)]
        assert (proxy.accepted == 0) is bypassed
    finally:
        proxy.close()


def test_a_reply_to_mail_just_filed_needs_no_lookup(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = filed_one(graph, clock)
    before = dict(graph.fake.counts)

    reply = outgoing("out-7@council.example", "provider@oakview.example", "<in-1@oakview.example>")
    record = mailbox.send(reply, ["provider@oakview.example"], "out-7@council.example")

    spent = {k: v - before.get(k, 0) for k, v in graph.fake.counts.items() if v != before.get(k)}
    # createReply carries every field, and a first try has no leftover draft to look for.
    assert spent == {f"POST {CREATE_REPLY}": 1, f"POST {SEND_DRAFT}": 1}
    assert record.extra["conversation_id"] == graph.thread_key("in-1@oakview.example")
    assert graph.thread_key("out-7@council.example") == graph.thread_key("in-1@oakview.example")
    [sent] = graph.delivered_to("provider@oakview.example")
    assert b"Message-ID: <out-7@council.example>" in sent
    assert b"In-Reply-To: <in-1@oakview.example>" in sent
    assert b"Thank you." in sent


def test_a_reply_finds_the_original_when_someone_filed_it_elsewhere(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = filed_one(graph, clock)
    with graph.fake.lock:  # an officer files it away by hand: its id changes again
        store = graph.fake.store
        moved = store.by_message_id("<in-1@oakview.example>")
        assert moved is not None
        store.move(moved, store.alias("deleteditems"))

    reply = outgoing("out-8@council.example", "provider@oakview.example", "<in-1@oakview.example>")
    mailbox.send(reply, ["provider@oakview.example"], "out-8@council.example")

    assert graph.fake.count("GET", LOOKUP) == 1
    assert graph.fake.count("POST", CREATE_REPLY) == 2  # the remembered id, then the found one
    assert graph.thread_key("out-8@council.example") == graph.thread_key("in-1@oakview.example")
    assert len(graph.delivered_to("provider@oakview.example")) == 1


def test_create_reply_takes_a_comment_or_a_body_never_both(graph: GraphHarness) -> None:
    import requests

    graph.inject(incoming(1), received(1))
    with graph.fake.lock:
        original = graph.fake.store.by_message_id("<in-1@oakview.example>")
        assert original is not None
        token = "t-reply"
        graph.fake.tokens.add(token)
    url = f"{graph.fake.base_url}v1.0/users/{graph.address}/messages/{original.id}/createReply"
    both = {"comment": "Thanks", "message": {"body": {"contentType": "text", "content": "x"}}}
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.post(url, json=both, headers=headers, timeout=5).status_code == 400
    answer = requests.post(url, json={"comment": "Thanks"}, headers=headers, timeout=5)
    assert answer.status_code == 201
    assert answer.json()["body"]["content"] == "Thanks"


def test_a_reply_to_mail_deleted_since_it_was_filed_goes_as_a_letter_of_its_own(
    graph: GraphHarness, clock: FixedClock
) -> None:
    mailbox = filed_one(graph, clock)
    with graph.fake.lock:  # deleted for good (emptied from Deleted Items)
        store = graph.fake.store
        gone = store.by_message_id("<in-1@oakview.example>")
        assert gone is not None
        del store.messages[gone.id]

    reply = outgoing("out-9@council.example", "provider@oakview.example", "<in-1@oakview.example>")
    mailbox.send(reply, ["provider@oakview.example"], "out-9@council.example")

    [sent] = graph.delivered_to("provider@oakview.example")
    assert b"Thank you." in sent
    assert mailbox.already_sent("out-9@council.example")
