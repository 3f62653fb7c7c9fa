"""`doctor`'s mail checks: the mailbox answers; on Microsoft 365, see doctor_graph.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.mailbox.base import Mailbox, MailboxAuthError, MailboxError
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.maildir import LocalMailbox
from bot.operations.doctor import Finding
from bot.operations.doctor_graph import GraphChecks


def check_mailbox(
    mailbox: Mailbox, since: datetime, now: datetime, probes: Sequence[str]
) -> list[Finding]:
    """Whichever backend is configured: reachable, and on Graph every permission the bot uses."""
    if isinstance(mailbox, GraphMailbox):
        return GraphChecks(mailbox, now).run(probes)
    try:
        waiting = len(mailbox.fetch_new(since))
    except MailboxAuthError as err:
        return [
            Finding(
                "mailbox",
                "fail",
                f"the mail system refused the login: {err}",
                "check the account and the secret its *_env setting names",
            )
        ]
    except (MailboxError, OSError) as err:
        return [
            Finding(
                "mailbox",
                "fail",
                f"the mail system did not answer: {err}",
                "check the host, the port and that this server may reach it",
            )
        ]
    where = f"folders under {mailbox.directory}" if isinstance(mailbox, LocalMailbox) else "inbox"
    return [Finding("mailbox", "ok", f"reachable ({where}); {waiting} email(s) waiting")]
