"""The Graph backend's test server: the fake Graph behind the contract tests' ServerHarness."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

from backends.graph_fake import FakeGraph
from backends.harness import DiaryEntry, Folder
from bot.clock import Clock
from bot.mailbox.base import MailboxState, MailboxUnavailable
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.graph_auth import AccessToken, token_from_result
from bot.mailbox.graph_calendar import UID_PROPERTY
from bot.mailbox.graph_mime import angle
from bot.mailbox.graph_send import MESSAGE_ID_PROPERTY

ADDRESS = "contract.concerns@council.example"
DRIVE_ID = "b!fake-drive"
FOLDERS = {"processed": "Processed", "quarantine": "Quarantine", "review": "Review"}


class FakeTokenSource:
    """Client credentials posted to the fake's token endpoint; the answer is read by the same
    function that reads MSAL's, so a refusal becomes the same MailboxAuthError."""

    def __init__(self, token_url: str, clock: Clock) -> None:
        self.token_url = token_url
        self.clock = clock
        self.requests = 0

    def acquire(self, *, fresh: bool = False) -> AccessToken:
        self.requests += 1
        form = {
            "grant_type": "client_credentials",
            "client_id": "11111111-2222-3333-4444-555555555555",
            "client_secret": "test-secret",
            "scope": "https://graph.microsoft.com/.default",
        }
        try:
            answer = requests.post(self.token_url, data=form, timeout=5)
        except requests.RequestException as err:
            raise MailboxUnavailable(
                f"token endpoint {self.token_url} unreachable: {type(err).__name__}"
            ) from err
        return token_from_result(answer.json(), self.clock.now(), "fake tenant")


class GraphHarness:
    """The fake Graph seen from the server side, for one test."""

    name = "graph"
    address = ADDRESS
    team_address = "contracts.team@council.example"

    def __init__(self, fake: FakeGraph) -> None:
        self.fake = fake
        self.waits: list[float] = []  # every Retry-After/backoff wait the backend asked for

    def mailbox(self, clock: Clock, state: MailboxState) -> GraphMailbox:
        # Exchange stamps sent mail with its own time, which in production is the bot's
        # wall clock: the fake follows the simulated clock the bot runs on.
        self.fake.store.now = clock.now
        return GraphMailbox(
            self.address,
            state,
            clock,
            FakeTokenSource(self.fake.token_url, clock),
            base_url=self.fake.base_url,
            sleep=self.waits.append,
            timeout=10.0,
            drive_id=DRIVE_ID,
            drive_folder="Contract concerns",
        )

    def inject(self, raw: bytes, received_at: datetime) -> None:
        with self.fake.lock:
            store = self.fake.store
            store.from_mime(raw, store.alias("inbox"), draft=False, received=received_at)

    def _folder_id(self, name: Folder) -> str | None:
        store = self.fake.store
        if name in FOLDERS:
            return store.folder_named(FOLDERS[name])
        return store.alias("sentitems" if name == "sent" else "inbox")

    def folder(self, name: Folder) -> list[bytes]:
        with self.fake.lock:
            folder = self._folder_id(name)
            return [m.render() for m in self.fake.store.in_folder(folder)] if folder else []

    def delivered_to(self, address: str) -> list[bytes]:
        with self.fake.lock:
            sent = self.fake.store.in_folder(self.fake.store.alias("sentitems"))
            return [
                m.render()
                for m in sent
                if address.lower() in (r.lower() for r in m.recipients()) and not m.is_draft
            ]

    def thread_key(self, message_id: str) -> str | None:
        wanted = angle(message_id)
        with self.fake.lock:
            for message in self.fake.store.messages.values():
                if wanted in (message.internet_message_id, message.props.get(MESSAGE_ID_PROPERTY)):
                    return message.conversation_id
        return None

    def diary(self) -> list[DiaryEntry]:
        with self.fake.lock:
            events = list(self.fake.api.events.values())
        return [
            DiaryEntry(
                uid=e["props"].get(UID_PROPERTY, ""),
                day=date.fromisoformat(e["start"]["dateTime"][:10]),
                title=e["subject"],
            )
            for e in events
        ]

    def files(self) -> dict[str, bytes]:
        with self.fake.lock:
            return {path.rsplit("/", 1)[-1]: data for path, data in self.fake.api.drive.items()}

    def break_connection(self) -> None:
        self.fake.stop()

    def restore(self) -> None:
        self.fake.start()


def server_clock() -> Clock:
    """The fake's own clock: one second per reading from a fixed start (never the wall clock)."""
    ticks = itertools.count()
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    class Ticking:
        def now(self) -> datetime:
            return start + timedelta(seconds=next(ticks))

    return Ticking()


@contextmanager
def running(tmp_path: Path) -> Iterator[GraphHarness]:
    """A fresh fake Graph on an ephemeral port for one test."""
    fake = FakeGraph(ADDRESS, server_clock().now).start()
    try:
        yield GraphHarness(fake)
    finally:
        fake.stop()
