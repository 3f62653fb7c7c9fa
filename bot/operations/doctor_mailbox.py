"""`doctor`'s mail checks: the mailbox answers; on Microsoft 365, see doctor_graph.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.mailbox.base import Mailbox, MailboxAuthError, MailboxError
from bot.mailbox.graph import GraphMailbox
from bot.mailbox.maildir import LocalMailbox
from bot.operations.doctor import Finding, check_email
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
    if isinstance(mailbox, LocalMailbox):  # nothing leaves this machine: no send to try
        where = f"folders under {mailbox.directory}"
        return [Finding("mailbox", "ok", f"reachable ({where}); {waiting} email(s) waiting")]
    reachable = Finding(
        "mailbox",
        "ok",
        f"reachable (inbox); {waiting} email(s) waiting; the bot makes its folders "
        "(Processed, Quarantine, Review) on first use",
    )
    return [reachable, check_send(mailbox, now)]


def check_send(mailbox: Mailbox, now: datetime) -> Finding:
    """One email from the shared mailbox to itself, through the backend's own send: the login
    to send (SMTP on IMAP) is not the one to read, and fails on its own."""
    raw, message_id = check_email(mailbox.address, now)
    try:
        mailbox.send(raw, [mailbox.address], message_id)
    except MailboxAuthError as err:
        return Finding(
            "send mail",
            "fail",
            f"the mail system refused the login to send: {err}",
            "check the sending account and the secret its *_env setting names "
            "(mailbox.imap.smtp_password_env, or password_env when it has none)",
        )
    except (MailboxError, OSError) as err:
        return Finding(
            "send mail",
            "fail",
            f"sending failed: {err}",
            "check the sending host, port and encryption, and that the account may send as "
            f"{mailbox.address}",
        )
    return Finding("send mail", "ok", "sent a check email to itself")
