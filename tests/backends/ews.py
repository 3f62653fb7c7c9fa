"""The EWS backend's harness: the real exchangelib client against the fake EWS server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from exchangelib import Version
from exchangelib.transport import NOAUTH
from exchangelib.version import EXCHANGE_2016

from backends.ews_fake import FakeEws
from backends.harness import DiaryEntry, Folder
from bot.clock import Clock
from bot.mailbox.base import MailboxState
from bot.mailbox.ews import EwsMailbox

ADDRESS = "contract.concerns@council.example"
TEAM = "contract.management@council.example"
_FOLDERS = {
    "inbox": "inbox",
    "sent": "sentitems",
    "processed": "Processed",
    "quarantine": "Quarantine",
    "review": "Review",
}


class EwsHarness:
    name = "ews"
    address = ADDRESS
    team_address = TEAM

    def __init__(self, fake: FakeEws, shared_drive: Path) -> None:
        self.fake = fake
        self.shared_drive = shared_drive
        self.waits: list[float] = []  # every back-off the backend waited, in seconds

    def mailbox(
        self,
        clock: Clock,
        state: MailboxState,
        *,
        page_size: int = 100,
        sleep: Callable[[float], None] | None = None,
    ) -> EwsMailbox:
        return EwsMailbox(
            ADDRESS,
            self.fake.url,
            state=state,
            shared_drive=self.shared_drive,
            clock=clock,
            auth_type=NOAUTH,
            version=Version(build=EXCHANGE_2016),
            timeout=5,
            sleep=sleep or self.waits.append,
            page_size=page_size,
        )

    def inject(self, raw: bytes, received_at: datetime) -> None:
        self.fake.inject(raw, received_at)

    def folder(self, name: Folder) -> list[bytes]:
        return self.fake.messages(_FOLDERS[name])

    def delivered_to(self, address: str) -> list[bytes]:
        return self.fake.delivered_to(address)

    def thread_key(self, message_id: str) -> str | None:
        item = self.fake.find_by_message_id(message_id)
        return None if item is None else item.conversation_id

    def diary(self) -> list[DiaryEntry]:
        entries = []
        for item, day in self.fake.calendar():
            uid = next(
                (
                    v
                    for k, v in item.extended.items()
                    if ("PropertyName", "ContractConcernsUid") in k
                ),
                "",
            )
            entries.append(DiaryEntry(uid=uid, day=day, title=item.subject))
        return entries

    def files(self) -> dict[str, bytes]:
        if not self.shared_drive.exists():
            return {}
        return {p.name: p.read_bytes() for p in self.shared_drive.iterdir() if p.is_file()}

    def break_connection(self) -> None:
        self.fake.break_connection()

    def restore(self) -> None:
        self.fake.restore()


@contextmanager
def running(tmp_path: Path) -> Iterator[EwsHarness]:
    """A fresh fake EWS server for one test, stopped afterwards."""
    with FakeEws(ADDRESS) as fake:
        yield EwsHarness(fake, tmp_path / "ews-shared-drive")
