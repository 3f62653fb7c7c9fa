"""What a backend's test server offers the contract tests, whatever the mail system."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol

from bot.clock import Clock
from bot.mailbox.base import Mailbox, MailboxState

Folder = Literal["inbox", "processed", "quarantine", "sent", "review"]


@dataclass(frozen=True)
class DiaryEntry:
    """A calendar entry as the server holds it."""

    uid: str
    day: date
    title: str


class ServerHarness(Protocol):
    """A running mail server (or folder) for one test, seen from the server's side.

    Everything but `mailbox()` reads or changes the server directly, never through the
    bot's client, so a test checks what the backend really did.
    """

    name: str  # "local", "graph", "ews", "imap"
    address: str  # the shared mailbox
    team_address: str  # where calendar invitations go when the backend has no calendar

    def mailbox(self, clock: Clock, state: MailboxState) -> Mailbox:
        """A new client of the backend under test (a restart makes another one)."""
        ...

    def inject(self, raw: bytes, received_at: datetime) -> None:
        """Deliver a message into the shared mailbox's inbox, received at `received_at`."""
        ...

    def folder(self, name: Folder) -> list[bytes]:
        """The raw messages in one of the bot's folders, oldest first."""
        ...

    def delivered_to(self, address: str) -> list[bytes]:
        """The messages the bot sent that reached `address`, oldest first."""
        ...

    def thread_key(self, message_id: str) -> str | None:
        """The server's conversation for the message with this Message-ID (any folder);
        two messages in one thread give the same key. None when there is no such message."""
        ...

    def diary(self) -> list[DiaryEntry]:
        """The calendar entries the bot made (invitations, for backends without a calendar)."""
        ...

    def files(self) -> dict[str, bytes]:
        """Documents the bot saved, by file name."""
        ...

    def break_connection(self) -> None:
        """Make the server unreachable (refused or failing) until `restore`."""
        ...

    def restore(self) -> None: ...
