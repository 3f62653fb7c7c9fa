"""Opens the configured backend: the one place that knows which mail systems exist."""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import Clock
from bot.config import Config
from bot.mailbox.base import Mailbox, MailboxState
from bot.mailbox.maildir import LocalMailbox

MailboxFactory = Callable[[Config, Clock, MailboxState], Mailbox]


def local_mailbox(config: Config, clock: Clock) -> LocalMailbox:
    settings = config.mailbox.local
    return LocalMailbox(
        settings.directory,
        config.mailbox.address,
        config.council.team_address,
        config.shared_drive,
        clock=clock,
        max_message_mb=config.limits.max_message_mb,
        read_seconds=config.limits.max_read_seconds,
    )


def open_mailbox(config: Config, clock: Clock, state: MailboxState) -> Mailbox:
    """The backend `mailbox.backend` names; secrets are read from the environment here."""
    backend = config.mailbox.backend
    opened: Mailbox
    # Imported on demand: the local default must not pay for (or need) the network clients.
    if backend == "graph":
        from bot.mailbox.graph import GraphMailbox

        opened = GraphMailbox.from_config(config, clock, state)
        return opened
    if backend == "ews":
        from bot.mailbox.ews import EwsMailbox

        opened = EwsMailbox.from_config(config, clock, state)
        return opened
    if backend == "imap":
        from bot.mailbox.imap import ImapMailbox

        opened = ImapMailbox.from_config(config, clock, state)
        return opened
    return local_mailbox(config, clock)
