"""The case store: open cases in tinydb, closed ones archived, history in append-only files."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.store.archive import check_reference, read_closed_since
from bot.store.core import StoreCore
from bot.store.errors import StoreError, write_failed
from bot.store.files import (
    atomic_write,
    ensure_dir,
    json_bytes,
    json_copy,
    read_json_lines,
    remove_durably,
)
from bot.store.journal import (
    SEEN_FILE,
    SENT_FILE,
    TRIAGE_FILE,
    audit_file,
    audit_lines,
    unwritten,
)
from bot.store.raw_stream import write_streamed
from bot.store.tinystorage import Packed

RECENT_RAW_BYTES = 1 << 20  # a larger email kept is held until the commit, for its letters
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RESERVED_META = frozenset({"schema_version", "counters"})


class Store(StoreCore):
    """Everything the bot remembers; changes are staged in memory until `commit()`.

    Dicts go in and come out as copies, so a caller's later edits never leak into the store.
    """

    # -- cases -----------------------------------------------------------------------------------

    def open_cases(self) -> list[dict[str, Any]]:
        return [json.loads(doc) for doc in self.open_case_documents()]

    def open_case_documents(self) -> Iterator[bytes]:
        """Each open case as its stored JSON, oldest first: parsed only by whoever needs it."""
        return (packed.json() for packed in self._cases.documents())

    def open_case_document(self, reference: str) -> bytes | None:
        """An open case's stored JSON, or None if it is not open."""
        packed: Packed | None = self._cases.get(reference)
        return None if packed is None else packed.json()

    def get_case(self, reference: str) -> dict[str, Any] | None:
        encoded = self.open_case_document(reference)
        if encoded is not None:
            return dict(json.loads(encoded))
        staged = self._staged_closed.get(reference)
        if staged is not None:
            return copy.deepcopy(staged)
        try:
            return self._archive.read(reference)
        except ValueError:
            return None

    def put_case(self, case: dict[str, Any]) -> None:
        reference = check_reference(case.get("reference"))
        if case.get("status") not in ("open", "closed"):
            raise ValueError(f"case {reference}: status must be 'open' or 'closed'")
        self._stage("save a case")
        encoded = json_bytes(case, f"case {reference}")
        if case["status"] == "closed":
            self._cases.remove(reference)
            self._maybe_archived.discard(reference)
            self._staged_closed[reference] = json.loads(encoded)
        else:
            if reference not in self._cases:
                # Possibly a reopened case: its archive copy goes once open.json holds it.
                self._maybe_archived.add(reference)
            self._staged_closed.pop(reference, None)
            self._cases.put(reference, Packed(encoded))

    def closed_case_documents(
        self, closed_since: date | None = None
    ) -> tuple[int, Iterator[bytes]]:
        """How many closed cases there are, and each one's stored JSON, unparsed. With
        `closed_since`, a case that closed before that day is skipped on the tail of its file
        alone (reports go through tens of thousands and need few)."""
        files = [
            (ref, path)
            for ref, path in self._archive.files()
            if ref not in self._cases and ref not in self._staged_closed
        ]

        def documents() -> Iterator[bytes]:
            for _, path in files:
                try:
                    document = read_closed_since(path, closed_since)
                except OSError as exc:
                    raise StoreError(f"could not read {path}: {exc.strerror or exc}") from exc
                if document is not None:
                    yield document
            for case in self._staged_closed.values():
                yield json_bytes(case, f"case {case.get('reference')}")

        return len(files) + len(self._staged_closed), documents()

    def closed_references(self) -> list[str]:
        closed = self._archive.references() | set(self._staged_closed)
        return sorted(ref for ref in closed if ref not in self._cases)

    def next_reference(self, year: int) -> str:
        self._stage("allocate a case reference")
        return f"CC-{year:04d}-{self._meta.next_number(f'reference-{year:04d}'):04d}"

    # -- dedupe of incoming mail -----------------------------------------------------------------

    def seen(self, key: str) -> bool:
        return key in self._seen or key in self._staged_seen

    def mark_seen(self, key: str) -> None:
        self._stage("mark mail as seen")
        if self.seen(key):
            return
        self._staged_seen.add(key)
        self._stage_line(SEEN_FILE, {"key": key}, "seen")

    # -- raw mail --------------------------------------------------------------------------------

    def keep_raw(self, raw: bytes) -> str:
        """Keep an email's bytes under their sha256, not staged: readable on return, and made
        durable by the next commit, before its commit point (one batch of fsyncs per poll)."""
        self._writable("keep raw mail")
        sha = hashlib.sha256(raw).hexdigest()
        path = self.raw_path(sha)
        if path in self._unsynced_raw:
            return sha
        try:
            # A copy left by a process that died before its commit may be incomplete after a
            # power cut; it is trusted only if it holds these bytes.
            if not (path.exists() and path.read_bytes() == raw):
                ensure_dir(path.parent)
                atomic_write(path, raw, sync=False)
        except OSError as exc:
            raise write_failed(self.directory, exc) from exc
        self._unsynced_raw.add(path)
        if len(raw) > RECENT_RAW_BYTES:  # a letter may attach it at once: no second copy
            self._recent_raw = (sha, raw)
        return sha

    def keep_raw_chunks(self, chunks: Iterable[bytes | memoryview]) -> str:
        """`keep_raw` for a message written out as it is generated (a letter carrying a large
        email), so that it is never whole in memory."""
        self._writable("keep raw mail")
        try:
            sha, path = write_streamed(self.directory / "raw", chunks, self.raw_path)
        except OSError as exc:
            raise write_failed(self.directory, exc) from exc
        self._unsynced_raw.add(path)
        return sha

    def raw_path(self, sha: str) -> Path:
        """Where an email's bytes are kept, by their sha256."""
        if not _SHA256.match(sha):
            raise ValueError(f"{sha!r} is not a sha256 hex digest")
        return self.directory / "raw" / sha[:2] / f"{sha}.eml"

    def delete_raw(self, sha: str) -> bool:
        """Remove kept mail for good (retention); durable on return. True if it was there."""
        self._writable("delete raw mail")
        return remove_durably(self.raw_path(sha))

    def load_raw(self, sha: str) -> bytes:
        if self._recent_raw is not None and self._recent_raw[0] == sha:
            return self._recent_raw[1]
        path = self.raw_path(sha)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise StoreError(
                f"could not read kept mail {path}: {exc.strerror or exc}; restore it from a backup"
            ) from exc

    # -- audit trail -----------------------------------------------------------------------------

    def audit(self, entry: dict[str, Any]) -> None:
        """Stage an entry; it gets a rising "seq" and is filed by its "at" month (else now)."""
        self._stage("write to the audit trail")
        line = json_copy(entry, "an audit entry")
        self._stage_line(audit_file(self._audit_month(line.get("at"))), line, "audit")

    def _audit_month(self, at: object) -> str:
        when = self._clock.now()
        if isinstance(at, str):
            with contextlib.suppress(ValueError):
                when = datetime.fromisoformat(at)
        return f"{when.year:04d}-{when.month:02d}"

    def audit_entries(self, reference: str | None = None) -> Iterator[dict[str, Any]]:
        """Entries in seq order, staged ones last; filtered on their "reference" if given."""
        pending = self._unconfirmed + self._staged_records
        for line in audit_lines(self.directory, pending):
            if reference is None or line.get("reference") == reference:
                yield line

    # -- outbox ----------------------------------------------------------------------------------

    def outbox_add(self, item: dict[str, Any]) -> bool:
        message_id = item.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise ValueError("an outbox item needs a 'message_id' string")
        self._stage("queue a letter")
        if message_id in self._outbox or self.was_sent(message_id):
            return False
        self._outbox.put(message_id, json_copy(item, f"outbox item {message_id}"))
        return True

    def is_queued(self, message_id: str) -> bool:
        """Whether this message is waiting in the outbox (an O(1) look, no copies)."""
        return message_id in self._outbox

    def outbox_pending(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(item) for item in self._outbox.documents()]

    def outbox_mark_sent(self, message_id: str, info: dict[str, Any]) -> None:
        """Sent letters leave open.json for outbox/sent.jsonl, so open.json does not grow."""
        self._stage("record a sent letter")
        item = self._outbox.remove(message_id)
        if item is None and self.was_sent(message_id):
            return
        self._staged_sent.add(message_id)
        line: dict[str, Any] = {"message_id": message_id, "info": json_copy(info, "sent info")}
        if item is not None and "reference" in item:
            line["reference"] = item["reference"]
        self._stage_line(SENT_FILE, line, "sent")

    def was_sent(self, message_id: str) -> bool:
        return message_id in self._sent or message_id in self._staged_sent

    # -- triage ----------------------------------------------------------------------------------

    def triage_add(self, item: dict[str, Any]) -> str:
        self._stage("add a triage item")
        doc = json_copy(item, "a triage item")
        item_id = f"T{self._meta.next_number('triage'):04d}"
        self._triage.put(item_id, {**doc, "id": item_id})
        return item_id

    def triage_items(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(item) for item in self._triage.documents()]

    def triage_resolve(self, item_id: str, note: str, at: datetime | None = None) -> None:
        """Resolved items move to triage/resolved.jsonl with the note and, given, the time
        (reports measure how long items waited)."""
        self._stage("resolve a triage item")
        item = self._triage.remove(item_id)
        if item is None:
            raise KeyError(f"no unresolved triage item {item_id!r}")
        line = {"id": item_id, "note": note, "item": item}
        if at is not None:
            line["at"] = at.isoformat()
        self._stage_line(TRIAGE_FILE, line, "resolved")

    def triage_resolved(self) -> Iterator[dict[str, Any]]:
        """Resolved triage items, oldest first, with what is staged last."""
        pending = self._unconfirmed + self._staged_records
        yield from read_json_lines(self.directory / TRIAGE_FILE)
        for line in unwritten(self.directory, (r for r in pending if r["file"] == TRIAGE_FILE)):
            yield line["line"]

    # -- small key/values ------------------------------------------------------------------------

    def get_meta(self, key: str, default: Any = None) -> Any:
        if key in _RESERVED_META:
            raise ValueError(f"meta key {key!r} is kept by the store itself")
        return copy.deepcopy(self._meta.get(key, default))

    def set_meta(self, key: str, value: Any) -> None:
        if key in _RESERVED_META:
            raise ValueError(f"meta key {key!r} is kept by the store itself")
        self._stage("save a setting")
        self._meta.set(key, json_copy(value, f"meta value {key!r}"))
