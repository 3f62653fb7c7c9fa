"""Many Graph requests in one (JSON batching): a backlog's bodies and moves, 20 to a batch."""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from bot.mailbox.base import MailboxAuthError, MailboxError, MailboxUnavailable
from bot.mailbox.graph_client import CONCURRENT, GraphClient

log = logging.getLogger(__name__)

BATCH_LIMIT = 20  # Graph's most requests in one batch
_AGAIN = frozenset({424, 429, 503, 504})  # throttled, or held back by a request that was


@dataclass(frozen=True)
class Part:
    """One request of a batch: a path under the service root, and a JSON body for a POST."""

    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None  # the JSON value, or the bytes of a body that is not JSON
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return self.body


def _payload(parts: list[tuple[int, Part]]) -> dict[str, Any]:
    """The batch: CONCURRENT chains, each request after the one CONCURRENT before it, so
    Graph runs at most CONCURRENT of them at once for the mailbox (its limit, in a batch too)."""
    requests = []
    for n, (index, part) in enumerate(parts):
        item: dict[str, Any] = {"id": str(index), "method": part.method, "url": "/" + part.path}
        if part.body is not None:
            item["body"] = part.body
            item["headers"] = {"Content-Type": "application/json"}
        if n >= CONCURRENT:
            item["dependsOn"] = [str(parts[n - CONCURRENT][0])]
        requests.append(item)
    return {"requests": requests}


def _answer(item: dict[str, Any]) -> Answer:
    headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
    body = item.get("body")
    is_json = any(
        k.lower() == "content-type" and v.startswith("application/json")
        for k, v in headers.items()
    )
    if isinstance(body, str) and not is_json:
        body = base64.b64decode(body)  # Graph sends a body that is not JSON as base64 text
    return Answer(int(item["status"]), body, headers)


def run_batches(client: GraphClient, parts: list[Part], accept: Collection[int]) -> list[Answer]:
    """Every part's answer, in the order given. A part throttled inside a batch (with its
    own Retry-After) or held back by one that was goes again in a later batch, after the
    wait; a status in `accept` is an answer, any other failure raises as `client.call` does."""
    answers: dict[int, Answer] = {}
    tries: Counter[int] = Counter()
    waiting = list(range(len(parts)))
    while waiting:
        chunk, waiting = waiting[:BATCH_LIMIT], waiting[BATCH_LIMIT:]
        response = client.call(
            "POST",
            "$batch",
            data=_payload([(i, parts[i]) for i in chunk]),
            batched=len(chunk),
            settled=lambda: False,  # bodies and moves: repeating one is harmless
        )
        again: list[int] = []
        pause = 0.0
        for item in response.json().get("responses", []):
            index, answer = int(item["id"]), _answer(item)
            part = parts[index]
            what = f"Graph {part.method} in a batch"
            if answer.status in _AGAIN:
                tries[index] += 1
                if tries[index] >= client.max_attempts:
                    raise MailboxUnavailable(f"{what} still failing ({answer.status})")
                again.append(index)
                wait = answer.headers.get("Retry-After", "")
                pause = max(pause, float(wait) if wait.isdigit() else 0.0)
            elif answer.status in (401, 403):
                raise MailboxAuthError(f"{what} was refused ({answer.status})")
            elif answer.status >= 400 and answer.status not in accept:
                kind = MailboxUnavailable if answer.status >= 500 else MailboxError
                raise kind(f"{what} answered {answer.status}")
            else:
                answers[index] = answer
        if again:
            if pause > client.max_wait:
                raise MailboxUnavailable(f"Graph asked to wait {pause:.0f} s; next poll")
            if pause:
                log.info("Graph throttled %d in a batch: waiting %.1f s", len(again), pause)
                client.pacing.pause_all(pause)  # every thread waits, as for any Retry-After
            waiting = sorted(again) + waiting
    return [answers[index] for index in range(len(parts))]
