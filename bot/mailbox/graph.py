"""Microsoft 365 through Microsoft Graph (app-only, via the O365 package): the primary backend."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.config import Config
from bot.mailbox.base import (
    CalendarEntry,
    IncomingMail,
    MailboxAuthError,
    MailboxState,
    SentRecord,
)
from bot.mailbox.graph_auth import MsalTokenSource, TokenSource
from bot.mailbox.graph_budget import DEFAULT_LIMIT, RequestBudget
from bot.mailbox.graph_calendar import GraphCalendar
from bot.mailbox.graph_client import CONCURRENT, GRAPH_URL, GraphClient, graph_connection
from bot.mailbox.graph_files import GraphFiles
from bot.mailbox.graph_mail import GraphInbox
from bot.mailbox.graph_send import GraphSender


def _from_env(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise MailboxAuthError(
            f"the environment variable {name} (named by mailbox.graph.{what}) is not set: "
            "set it before starting the bot"
        )
    return value


class GraphMailbox:
    """The shared mailbox in Exchange Online, read and written as the app registration."""

    # Letters of different cases are sent side by side, up to Graph's limit per mailbox.
    concurrent_sends = CONCURRENT

    def __init__(
        self,
        address: str,
        state: MailboxState,
        clock: Clock,
        tokens: TokenSource,
        *,
        base_url: str = GRAPH_URL,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        drive_id: str | None = None,
        drive_folder: str = "Contract concerns",
        requests_per_10_minutes: int = DEFAULT_LIMIT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = address
        # The transport never signs in itself: bearer tokens come from `tokens`.
        connection, service_url = graph_connection(
            base_url, ("app-only", "unused"), "organizations", timeout
        )
        budget = RequestBudget(requests_per_10_minutes, monotonic=monotonic, sleep=sleep)
        self.client = GraphClient(
            connection, service_url, tokens, clock, sleep=sleep, budget=budget
        )
        self.inbox = GraphInbox(self.client, address, state)
        self.sender = GraphSender(self.client, address, self.inbox)
        self.calendar = GraphCalendar(self.client, address)
        self.files = GraphFiles(self.client, address, drive_id, drive_folder)

    @classmethod
    def from_config(cls, config: Config, clock: Clock, state: MailboxState) -> GraphMailbox:
        """Open the mailbox `mailbox.graph` describes; the secret or key comes from the
        environment variable it names."""
        settings = config.mailbox.graph
        if settings is None:
            raise ValueError("mailbox.backend is graph but there is no mailbox.graph section")
        credential: Any
        if settings.client_secret_env is not None:
            credential = _from_env(settings.client_secret_env, "client_secret_env")
        else:
            assert settings.certificate_path_env is not None  # the settings check one is given
            key_path = Path(_from_env(settings.certificate_path_env, "certificate_path_env"))
            try:
                private_key = key_path.read_text(encoding="ascii")
            except OSError as err:
                raise MailboxAuthError(
                    f"cannot read the certificate key {key_path} named by "
                    f"{settings.certificate_path_env}: {err.strerror}"
                ) from err
            credential = {"private_key": private_key, "thumbprint": settings.certificate_thumbprint}
        credentials = (settings.client_id, credential)
        timeout = settings.request_timeout_seconds
        connection, _ = graph_connection(GRAPH_URL, credentials, settings.tenant_id, timeout)
        return cls(
            config.mailbox.address,
            state,
            clock,
            MsalTokenSource(connection, clock),
            timeout=timeout,
            drive_id=settings.drive_id,
            drive_folder=settings.drive_folder,
            requests_per_10_minutes=settings.requests_per_10_minutes,
        )

    def token_expires_at(self) -> datetime | None:
        """When the current access token runs out (None before the first request)."""
        return self.client.token_expires_at()

    def fetch_new(self, since: datetime) -> list[IncomingMail]:
        return self.inbox.fetch_new(since)

    def mark_processed(self, backend_id: str) -> None:
        self.inbox.move(backend_id, "processed")

    def mark_processed_all(self, backend_ids: list[str]) -> None:
        """`mark_processed` for a whole poll's mail, up to four moves at once."""
        self.inbox.move_all(backend_ids, "processed")

    def quarantine(self, backend_id: str, reason: str) -> None:
        self.inbox.quarantine(backend_id, reason)

    def send(self, message: bytes, recipients: list[str], message_id: str) -> SentRecord:
        return self.sender.send(message, recipients, message_id)

    def hold_for_review(self, message: bytes, message_id: str) -> SentRecord:
        return self.sender.hold_for_review(message, message_id)

    def already_sent(self, message_id: str) -> bool:
        return self.sender.already_sent(message_id)

    def diarise(self, entry: CalendarEntry) -> None:
        self.calendar.diarise(entry)

    def save_file(self, name: str, content: bytes) -> str:
        return self.files.save_file(name, content)

    def manager_of(self, address: str) -> str | None:
        return self.files.manager_of(address)
