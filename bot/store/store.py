"""The case store: open cases in tinydb, closed ones archived, history in append-only files."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.store.case_briefs import CaseBriefs
from bot.store.errors import StoreError, write_failed
from bot.store.files import (
    atomic_write,
    json_clone,
    json_copy,
    make_dir_unsynced,
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
from bot.store.raw_spill import SPILL_BYTES, raw_file
from bot.store.raw_stream import write_streamed
from bot.store.reading import commit_mark
from bot.store.storage import GENERATION

RECENT_RAW_BYTES = 1 << 20  # a larger email kept is held until the commit, for its letters
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RESERVED_META = frozenset({"schema_version", "counters", GENERATION})


class Store(CaseBriefs):
    """Everything the bot remembers; changes are staged in memory until `commit()`.

    Dicts go in and come out as copies, so a caller's later edits never leak into the store.
    One process writes (it holds the directory's lock); any number read snapshots beside it
    (`open_snapshot`).
    """

    @classmethod
    def open_snapshot(cls, directory: Path, clock: Clock | None = None) -> Store:
        """A consistent, read-only view of the store at its last commit, for readers beside
        the running bot (`cases`, `status`, the case timeline, the dashboard, reports).

        It takes no lock and writes nothing, so it never blocks or waits for the writer, and
        it never sees half a commit: the changes file is read up to its last whole, checked
        commit. It stays at that commit until `refresh()` brings it to the latest (reading
        only the commits since). What it answers, all as of that commit:

        - cases: `open_references()`, `open_cases()`, `open_case_document(ref)`,
          `case_summaries()`, `get_case(ref)` (open or closed), `closed_references()`;
        - for reports, each case's brief (bot.store.brief): `open_case_briefs()`,
          `closed_case_briefs(closed_since)`;
        - `triage_items()`, `triage_resolved()`, `outbox_pending()`, `get_meta(key)`;
        - `audit_entries(reference=None)`: the audit trail up to that commit;
        - `load_raw(sha)`: the kept mail a case points to.

        Writes raise StoreError. Close it (or use `with`) to release its open files. A closed
        case reopened after the snapshot was taken may read as None from `get_case`.
        """
        return cls(directory, read_only=True, clock=clock)

    @staticmethod
    def commit_mark(directory: Path) -> tuple[int, ...] | None:
        """Changes whenever the bot commits (stat calls only): a reader that holds a snapshot
        asks this to know whether to take a new one or `refresh()`; None before any commit."""
        return commit_mark(directory)

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
        durable by the next commit, before its commit point (a rollback keeps it). Mail up to
        SPILL_BYTES goes into the commit's append (bot.store.raw_spill), to become a file at
        the next checkpoint; a larger one is a file at once, fsynced by the commit."""
        self._writable("keep raw mail")
        sha = hashlib.sha256(raw).hexdigest()
        if len(raw) <= SPILL_BYTES:
            self._storage.spill.add(sha, raw)
            return sha
        path = self.raw_path(sha)
        if path in self._unsynced_raw or self._raw_writer.held(path) is not None:
            return sha
        try:
            self._raw_folder(path.parent)
            if len(raw) <= RECENT_RAW_BYTES:
                self._raw_writer.write(path, raw)
                return sha
            # A copy left by a process that died before its commit may be incomplete after a
            # power cut; it is trusted only if it holds these bytes.
            if not (path.exists() and path.read_bytes() == raw):
                atomic_write(path, raw, sync=False)
        except OSError as exc:
            raise write_failed(self.directory, exc) from exc
        self._unsynced_raw.add(path)
        self._recent_raw = (sha, raw)  # a letter may attach it at once: no second copy
        return sha

    def keep_raw_chunks(self, chunks: Iterable[bytes | memoryview]) -> str:
        """`keep_raw` for a message written out as it is generated (a letter carrying a large
        email), so that it is never whole in memory."""
        self._writable("keep raw mail")
        def place(sha: str) -> Path:
            path = self.raw_path(sha)
            self._raw_folder(path.parent)  # made durable with the mail by the next commit
            return path

        try:
            sha, path = write_streamed(self.directory / "raw", chunks, place)
        except OSError as exc:
            raise write_failed(self.directory, exc) from exc
        self._unsynced_raw.add(path)
        return sha

    def _raw_folder(self, folder: Path) -> None:
        """Make raw/<xx> (owner-only); its entry in raw/ is made durable by the next commit
        with the mail in it, not at once: a fresh store makes up to 256 of them."""
        if folder in self._raw_folders:
            return  # seen this run: one look per folder, not one per email (a commit that
            # fails forgets them, in case one went)
        if make_dir_unsynced(folder):
            self._unsynced_folders.add(folder.parent)
        self._raw_folders.add(folder)

    def raw_path(self, sha: str) -> Path:
        """Where an email's bytes are kept, by their sha256."""
        if not _SHA256.match(sha):
            raise ValueError(f"{sha!r} is not a sha256 hex digest")
        return raw_file(self.directory, sha)

    def has_raw(self, sha: str) -> bool:
        """Whether mail with this sha256 is kept (in its file, or still in the changes file)."""
        return sha in self._storage.spill or self.raw_path(sha).exists()

    def delete_raw(self, sha: str) -> bool:
        """Remove kept mail for good (retention); True if it was there. Its file is gone on
        return; mail still in the changes file goes with the next commit, whose checkpoint,
        written straight after, leaves its bytes nowhere on the disk."""
        self._writable("delete raw mail")
        path = self.raw_path(sha)
        spilled = self._storage.spill.drop(sha)
        if spilled:
            self._dirty = True
        if self._raw_writer.held(path) is not None:
            # Kept again meanwhile: its write finishes first, made durable with its folder as
            # a commit makes it (waiting alone would leave the folder's entry unsynced).
            self._sync_raw()
        return remove_durably(path) or spilled

    def load_raw(self, sha: str) -> bytes:
        if self._recent_raw is not None and self._recent_raw[0] == sha:
            return self._recent_raw[1]
        path = self.raw_path(sha)
        spilled = self._storage.spill.load(sha)
        if spilled is not None:
            return spilled
        held = self._raw_writer.held(path)
        if held is not None:
            return held
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
        """Entries in seq order, staged ones last; filtered on their "reference" if given.
        Entries appended after this store's last commit (a snapshot's) are left out."""
        pending = self._unconfirmed + self._staged_records
        last = int(self._meta.get("counters", {}).get("audit", 0))
        for line in audit_lines(self.directory, pending):
            if int(line.get("seq", 0)) > last:
                return
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
        return [json_clone(item) for item in self._outbox.values()]

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
        return [copy.deepcopy(item) for item in self._triage.values()]

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

    def counters(self) -> dict[str, int]:
        """The store's own counters (references per year, audit entries, triage items...)."""
        return dict(self._meta.get("counters", {}))

    def set_meta(self, key: str, value: Any) -> None:
        if key in _RESERVED_META:
            raise ValueError(f"meta key {key!r} is kept by the store itself")
        self._stage("save a setting")
        self._meta.set(key, json_copy(value, f"meta value {key!r}"))
