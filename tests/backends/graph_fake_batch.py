"""The fake Graph's JSON batching (POST /$batch): each request in it answered on its own."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any, Protocol

from backends.graph_fake_call import Call, Reply, error, reply

BATCH_LIMIT = 20  # Graph refuses a batch of more requests
MAILBOX_CONCURRENT = 4  # requests Graph runs at once for one mailbox, in a batch too


class Handles(Protocol):
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply: ...


def run_batch(fake: Handles, call: Call) -> Reply:
    """Answer every request of a batch as Graph does: side by side unless one names another
    in dependsOn (then after it), each with its own status, headers and body (base64 text for
    a body that is not JSON); 424 for one whose dependency failed, and 429 with Retry-After
    for those past the mailbox's four that wait for no other (the fake does not check how
    many run at once later, after a dependency: the bot's chains never widen)."""
    try:
        asked = call.json().get("requests")
    except ValueError:
        return error(400, "BadRequest", "the batch is not JSON")
    if not isinstance(asked, list) or not asked or len(asked) > BATCH_LIMIT:
        return error(400, "BadRequest", f"a batch holds 1 to {BATCH_LIMIT} requests")
    ids = [str(part.get("id", "")).lower() for part in asked]
    if len(set(ids)) != len(ids) or "" in ids:
        return error(400, "BadRequest", "every request in a batch needs its own id")
    depends: dict[str, list[str]] = {}
    for key, part in zip(ids, asked, strict=True):
        depends[key] = [str(d).lower() for d in part.get("dependsOn") or []]
        if any(d not in depends or d == key for d in depends[key]):  # no cycle can form
            return error(400, "BadRequest", "dependsOn names no request before this one")
    answers: dict[str, dict[str, Any]] = {}
    done = {key: threading.Event() for key in ids}
    # Requests that wait for none start together: past the mailbox's four, Graph refuses.
    crowded = set([key for key in ids if not depends[key]][MAILBOX_CONCURRENT:])

    def run(key: str, part: dict[str, Any]) -> None:
        try:
            for dependency in depends[key]:
                done[dependency].wait()
            if any(answers[d]["status"] >= 400 for d in depends[key]):
                answers[key] = _answer(part, error(424, "FailedDependency", "dependency failed"))
            elif key in crowded:
                status, out, data = error(429, "ApplicationThrottled", "MailboxConcurrency")
                answers[key] = _answer(part, (status, {**out, "Retry-After": "1"}, data))
            else:
                answers[key] = _answer(part, _one(fake, call, part))
        finally:
            done[key].set()

    threads = [
        threading.Thread(target=run, args=(key, part), daemon=True)
        for key, part in zip(ids, asked, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return reply(200, {"responses": [answers[key] for key in ids]})


def _one(fake: Handles, call: Call, part: dict[str, Any]) -> Reply:
    headers = {k.lower(): str(v) for k, v in (part.get("headers") or {}).items()}
    headers["authorization"] = call.headers.get("authorization", "")
    body = part.get("body")
    data = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        headers.setdefault("content-type", "application/json")
    method = str(part.get("method", "GET")).upper()
    return fake.handle(method, "/v1.0" + str(part.get("url", "")), headers, data)


def _answer(part: dict[str, Any], inner: Reply) -> dict[str, Any]:
    status, headers, data = inner
    answer: dict[str, Any] = {"id": str(part["id"]), "status": status, "headers": headers}
    if data:
        is_json = headers.get("Content-Type", "").startswith("application/json")
        answer["body"] = json.loads(data) if is_json else base64.b64encode(data).decode("ascii")
    return answer
