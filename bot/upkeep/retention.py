"""Retention: closed cases' raw mail is deleted after the configured period; the record stays."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.procedure.case import Case
from bot.store import Store

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")  # documents whose sha is anything else hold no file


def _shas(case: dict[str, Any]) -> set[str]:
    found = {str(doc.get("sha") or "") for doc in case.get("documents", [])}
    found.add(str(case.get("concern_sha") or ""))
    return {sha for sha in found if _SHA256.match(sha)}


def _due(case: dict[str, Any], cutoff: datetime) -> bool:
    try:
        closed = datetime.fromisoformat(str(case.get("closed_at")))
    except ValueError:
        return False  # no closing time: never old enough
    if closed.tzinfo is None:
        return False
    return case.get("status") == "closed" and closed <= cutoff


def purge_raw_mail(now: datetime, store: Store, config: Config) -> int:
    """Delete the raw mail of cases closed for longer than the retention period; commits.

    The case record and its timeline stay; each purged document is marked "purged" with the
    time. A raw file that an open case, a more recently closed case or an unresolved triage
    item also points to is kept. Files go before the marks are committed, so a crash in
    between only means the next run marks what is already gone. Returns the files deleted.
    """
    cutoff = now - timedelta(days=config.retention.raw_mail_days_after_close)
    keep: set[str] = set()
    for open_case in store.open_cases():
        keep |= _shas(open_case)
    for item in store.triage_items():
        keep.add(str(item.get("sha") or ""))
    due: list[dict[str, Any]] = []
    for reference in store.closed_references():
        closed = store.get_case(reference)
        if closed is None:
            continue
        if _due(closed, cutoff):
            due.append(closed)
        else:
            keep |= _shas(closed)
    deleted = 0
    changed: list[str] = []
    for case in due:
        gone = _purge_case(now, store, case, keep)
        if gone is None:
            continue
        deleted += gone
        changed.append(case["reference"])
    if changed:
        store.audit(
            {"at": now.isoformat(), "event": "retention", "references": changed, "files": deleted}
        )
        store.commit()
        log.info("retention: raw mail of %d case(s) removed, %d file(s)", len(changed), deleted)
    return deleted


def _purge_case(now: datetime, store: Store, doc: dict[str, Any], keep: set[str]) -> int | None:
    """Delete one case's unshared raw files and mark them; None when nothing was left to do."""
    case = Case.model_validate(doc)
    pending = [
        d
        for d in case.documents
        if _SHA256.match(d.get("sha", "")) and not d.get("purged") and d["sha"] not in keep
    ]
    # The concern is normally one of the documents; an older record may hold it only here.
    extra = {case.concern_sha} - {d.get("sha") for d in case.documents} - keep
    extra = {sha for sha in extra if _SHA256.match(sha)}
    if not pending and not _present(store, extra):
        return None
    gone = 0
    for sha in dict.fromkeys([*(d["sha"] for d in pending), *extra]):
        gone += int(store.delete_raw(sha))
    for document in pending:
        document["purged"] = now.isoformat()
    case.note(
        now,
        "note",
        f"Raw email removed under the retention policy ({len(pending)} document(s), "
        f"case closed {case.closed_at:%d/%m/%Y}); the record and timeline are kept"
        if case.closed_at
        else "Raw email removed under the retention policy",
    )
    store.put_case(case.model_dump(mode="json"))
    return gone


def _present(store: Store, shas: Iterable[str]) -> bool:
    return any(store.has_raw(sha) for sha in shas)
