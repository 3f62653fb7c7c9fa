"""Seed a store with N open and M closed cases by cloning engine-made templates, quickly."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.library import Library, Template
from bench.people import person
from bot.clock import LONDON, FixedClock
from bot.store import Store

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CLOSED_BATCH = 1000  # closed cases per commit while seeding


@dataclass
class OpenCase:
    """What the workload needs to write realistic mail about one seeded open case."""

    reference: str
    stage: str
    provider_id: str | None
    officer_id: str | None
    referrer: str
    bot_ids: list[str]  # Message-IDs of letters the bot sent on it, to reply to


@contextlib.contextmanager
def no_fsync() -> Iterator[None]:
    """Seeding writes data nobody needs to survive a crash: skip fsync while it runs (only)."""
    real = os.fsync
    os.fsync = lambda fd: None
    try:
        yield
    finally:
        os.fsync = real


def _shift(value: Any, days: int) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str):
        if _DATETIME.match(value):
            moment = datetime.fromisoformat(value).astimezone(LONDON)
            return (moment + timedelta(days=days)).isoformat()
        if _DATE.match(value):
            return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
    return value


class Cloner:
    """Shifted copies of templates, cached per (template, shift) so a clone costs a few replaces."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._cache: dict[tuple[int, int], tuple[str, int]] = {}

    def shifted(self, template: Template, days: int) -> tuple[str, int]:
        key = (id(template), days)
        if key not in self._cache:
            doc = _shift(template.doc, days)
            self._cache[key] = (json.dumps(doc), datetime.fromisoformat(doc["opened_at"]).year)
        return self._cache[key]

    def clone(self, template: Template, days: int, reference: str) -> dict[str, Any]:
        text, _ = self.shifted(template, days)
        old = template.doc["reference"]
        name, address = person(self.rng)
        tag = reference.lower()
        text = text.replace(old, reference).replace(old.lower(), tag)
        if template.doc.get("referrer"):
            text = text.replace(template.doc["referrer"], address)
        if template.doc.get("referrer_name"):
            text = text.replace(template.doc["referrer_name"], name)
        # Mail the bot did not write carries no reference: make each clone's ids its own.
        for message_id in template.doc.get("thread_ids", []):
            if old.lower() not in message_id.lower() and "@" in message_id:
                local, domain = message_id.rsplit("@", 1)
                text = text.replace(message_id, f"{local}.{tag}@{domain}")
        doc: dict[str, Any] = json.loads(text)
        return doc


def _open_shift(template: Template, now: datetime) -> int:
    """Whole weeks that move the snapshot day to within the week from `now` (weekdays kept)."""
    gap = (now.date() - date.fromisoformat(template.taken)).days
    return 7 * -(-gap // 7)


def seed_closed(
    directory: Path, library: Library, count: int, *, now: datetime, seed: int
) -> None:
    """Add `count` closed cases (with their seen and sent history) to the store, in batches."""
    rng = random.Random(seed)
    cloner = Cloner(rng)
    with no_fsync():
        store = Store(directory, clock=FixedClock(now))
        try:
            keep_raw(store, library)
            for start in range(0, count, CLOSED_BATCH):
                for _ in range(min(CLOSED_BATCH, count - start)):
                    _add_closed(store, cloner, rng.choice(library.closed), now, rng)
                store.commit()
            settle(store)
        finally:
            store.close()
        write_fingerprints(directory, now)


def seed_open(
    directory: Path, library: Library, count: int, *, now: datetime, seed: int
) -> list[OpenCase]:
    """Add `count` open cases, in one commit; none has a deadline due before `now`."""
    rng = random.Random(seed)
    cloner = Cloner(rng)
    opened: list[OpenCase] = []
    with no_fsync():
        store = Store(directory, clock=FixedClock(now))
        try:
            keep_raw(store, library)
            for _ in range(count):
                template = rng.choice(library.open)
                days = _open_shift(template, now)
                _, year = cloner.shifted(template, days)
                doc = cloner.clone(template, days, store.next_reference(year))
                put_open(store, doc)
                opened.append(_describe(doc))
            store.commit()
            settle(store)
        finally:
            store.close()
        write_fingerprints(directory, now)
    return opened


def settle(store: Store) -> None:
    """Write the checkpoint the bot would write once idle (`App.tidy`), so a seeded store is
    one a running bot leaves; a bot from before the idle checkpoint wrote it in the commit."""
    compact_if_due = getattr(store, "compact_if_due", None)
    if compact_if_due is not None:
        compact_if_due()


def write_fingerprints(directory: Path, now: datetime) -> None:
    """The caches of seen keys and sent Message-IDs a bot writes when it opens a store with a
    long history (bot.store.keyset); without them the first timed poll would build them.
    A seeder that marks mail seen never opens the store afresh, so it opens it here."""
    store = Store(directory, clock=FixedClock(now))
    try:
        store.seen("")
        store.was_sent("")
    finally:
        store.close()


def put_open(store: Store, doc: dict[str, Any]) -> None:
    """An open case as the bot puts one: with the summary its case index keeps beside it."""
    try:
        from bot.procedure.case import Case
        from bot.store.case_views import addresses_of, encode, view_of
    except ImportError:  # a bot from before issue 12 keeps no summaries
        store.put_case(doc)
        return
    case = Case.model_validate(doc)
    store.put_case(doc, encode(view_of(case), addresses_of(case)))


def keep_raw(store: Store, library: Library) -> None:
    """The mail the templates point to (the same bytes for every clone: kept once by sha)."""
    for text in library.raw.values():
        store.keep_raw(base64.b64decode(text))


def link_copy(source: Path, target: Path) -> None:
    """Copy a store; archived cases are hard links (the store replaces them, never edits)."""

    def copy(src: str, dst: str) -> None:
        if f"{os.sep}closed{os.sep}" in src[len(str(source)) :]:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=copy)


def _add_closed(
    store: Store, cloner: Cloner, template: Template, now: datetime, rng: random.Random
) -> None:
    # Closed in the last four years, on the template's weekday; every other week, so that
    # the cache of shifted templates stays small.
    weeks_ago = (now.date() - date.fromisoformat(template.taken)).days // 7
    days = 7 * (weeks_ago - 1 - 2 * rng.randrange(104))
    _, year = cloner.shifted(template, days)
    doc = cloner.clone(template, days, store.next_reference(year))
    store.put_case(doc)
    tag = doc["reference"].lower()
    domain = doc["referrer"].rsplit("@", 1)[-1]
    for n in range(template.mails):
        store.mark_seen(f"mid:bench-{tag}-{n}@{domain}")
    for n in range(template.letters):
        store.outbox_mark_sent(
            f"{tag}.bench-{n}@council.example",
            {"at": doc.get("closed_at") or doc["opened_at"], "where": "", "shadow": False},
        )


def _describe(doc: dict[str, Any]) -> OpenCase:
    reference = doc["reference"].lower()
    own = [m for m in doc.get("thread_ids", []) if m.lower().startswith(reference)]
    return OpenCase(
        reference=doc["reference"],
        stage=doc["stage"],
        provider_id=doc.get("provider_id"),
        officer_id=doc.get("officer_id"),
        referrer=doc["referrer"],
        bot_ids=own,
    )
