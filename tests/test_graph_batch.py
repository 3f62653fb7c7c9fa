"""A backlog's bodies and moves in JSON batches: four at once at Graph's end, each request
counted against the budget, a request throttled inside a batch sent again after its wait."""

from __future__ import annotations

import base64
import email
import json
from email import policy
from email.message import EmailMessage

import requests
from backends.graph import GraphHarness
from backends.graph_fake_call import Reply
from test_mailbox_graph import SINCE, clock, graph, incoming, received

from bot.clock import FixedClock
from bot.mailbox.graph_client import user_path
from bot.mailbox.state import MemoryState

__all__ = ["clock", "graph"]  # the fixtures, shared with the Graph backend's tests

BATCH = "POST /$batch"
VALUE = "GET /users/{user}/messages/{mid}/$value"
MOVE = "POST /users/{user}/messages/{mid}/move"


def test_a_backlog_is_read_and_filed_in_batches_of_twenty(
    graph: GraphHarness, clock: FixedClock
) -> None:
    raws = [incoming(n) for n in range(30)]
    for n, raw in enumerate(raws):
        graph.inject(raw, received(n))
    mailbox = graph.mailbox(clock, MemoryState())
    found = mailbox.fetch_new(SINCE)
    assert [m.raw for m in found] == raws  # the bytes as sent, in the order they arrived
    assert (graph.fake.counts[BATCH], graph.fake.counts[VALUE]) == (2, 30)
    spent = len(mailbox.client.budget.spent)
    mailbox.mark_processed_all([m.backend_id for m in found])
    assert (graph.fake.counts[BATCH], graph.fake.counts[MOVE]) == (4, 30)
    assert graph.folder("processed") == raws
    assert graph.folder("inbox") == []
    # Each request in a batch is taken from the budget, as Graph counts it; the folder's
    # lookup and creation are two more.
    assert len(mailbox.client.budget.spent) - spent == 30 + 2
    assert mailbox.client.pacing.peak == 4  # a batch holds every slot: four run at once
    assert mailbox.fetch_new(SINCE) == []


def test_a_request_throttled_inside_a_batch_goes_again_after_its_wait(
    graph: GraphHarness, clock: FixedClock
) -> None:
    raws = [incoming(n) for n in range(9)]
    for n, raw in enumerate(raws):
        graph.inject(raw, received(n))
    graph.fake.fail_next("GET", "/users/{user}/messages/{mid}/$value", 2, 429, retry_after="6")
    mailbox = graph.mailbox(clock, MemoryState())
    assert [m.raw for m in mailbox.fetch_new(SINCE)] == raws
    assert graph.waits == [6.0]  # one pause for the batch's throttled requests
    # The two throttled, and those after them in their chains (424), were asked again.
    assert graph.fake.counts[VALUE] == 9 + 2
    assert graph.fake.counts[BATCH] == 2


def test_the_fake_answers_a_batch_as_graph_does(graph: GraphHarness) -> None:
    for n in range(6):
        graph.inject(incoming(n), received(n))
    with graph.fake.lock:
        ids = [m.id for m in graph.fake.store.in_folder(graph.fake.store.alias("inbox"))]
        graph.fake.tokens.add("t-batch")
    url = f"{graph.fake.base_url}v1.0/$batch"
    headers = {"Authorization": "Bearer t-batch"}

    def part(n: int, mid: str, after: int | None = None) -> dict[str, object]:
        path = user_path(graph.address, "messages", mid, "$value")
        item: dict[str, object] = {"id": str(n), "method": "GET", "url": "/" + path}
        if after is not None:
            item["dependsOn"] = [str(after)]
        return item

    five = {"requests": [part(n, mid) for n, mid in enumerate(ids[:5])]}
    answer = requests.post(url, json=five, headers=headers, timeout=5).json()["responses"]
    assert [a["status"] for a in answer] == [200, 200, 200, 200, 429]  # four at once at most
    assert answer[4]["headers"]["Retry-After"] == "1"
    assert base64.b64decode(answer[0]["body"]) == incoming(0)  # MIME is not JSON: base64

    chained = {"requests": [part(0, "no-such-id"), part(1, ids[5], after=0)]}
    answer = requests.post(url, json=chained, headers=headers, timeout=5).json()["responses"]
    assert [a["status"] for a in answer] == [404, 424]
    assert requests.post(url, json=chained, timeout=5).status_code == 401  # no token
    too_many = {"requests": [part(n, ids[0]) for n in range(21)]}
    assert requests.post(url, json=too_many, headers=headers, timeout=5).status_code == 400


def attached(n: int) -> bytes:
    mail = email.message_from_bytes(incoming(n), _class=EmailMessage, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    mail.add_attachment(b"%PDF-1.7 report", maintype="application", subtype="pdf", filename="r.pdf")
    return mail.as_bytes()


def test_mail_with_attachments_is_fetched_alone_and_the_order_kept(
    graph: GraphHarness, clock: FixedClock
) -> None:
    raws = [attached(n) if n in (2, 5) else incoming(n) for n in range(7)]
    for n, raw in enumerate(raws):
        graph.inject(raw, received(n))
    batched: list[str] = []
    real = graph.fake.handle

    def handle(method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        if target.endswith("/$batch"):
            batched.extend(part["url"] for part in json.loads(body)["requests"])
        return real(method, target, headers, body)

    graph.fake.handle = handle  # type: ignore[method-assign]
    found = graph.mailbox(clock, MemoryState()).fetch_new(SINCE)
    assert [m.raw for m in found] == raws  # megabytes stay out of a batch's base64 text
    assert len(batched) == 5 and graph.fake.counts[VALUE] == 7
    assert not any(m.backend_id in url for m in (found[2], found[5]) for url in batched)
