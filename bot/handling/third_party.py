"""A reply in a case's thread from someone who is no party to it: filed, the officer told."""

from __future__ import annotations

from datetime import datetime

from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient, resolve
from bot.classify.reading import Reading
from bot.config import Config
from bot.handling.handled import Handled
from bot.intake.quoting import strip_quoted
from bot.procedure.case import Case
from bot.store.case_index import CaseIndex


def file_comment(
    case: Case,
    reading: Reading,
    now: datetime,
    *,
    config: Config,
    outbox: Outbox,
    cases: CaseIndex,
) -> Handled:
    """Keep the email on the case as a third party's comment and tell the case's officer.

    It is never a procedure event: a manager replying to all, or a colleague from another
    department, cannot move the case on, however their words read.
    """
    mail = reading.mail
    who = f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else mail.sender
    case.note(
        reading.received_at,
        "comment",
        f"Comment from a third party, {who}, who is not a party to the case; "
        "filed, the stage is unchanged",
        rule=f"threaded by {reading.threading.how}: {reading.threading.detail}",
        ref=mail.message_id,
    )
    officers = resolve("officer", case, config) or [
        Recipient(p.name, p.email) for p in config.people_with_role("cmo")
    ]
    outbox.queue_message(
        template="third_party_comment",
        to=officers,
        case=case,
        key=f"comment.{mail.content_hash[:16]}",
        now=now,
        extra={
            "sender": mail.sender,
            "sender_name": mail.sender_name,
            "received": reading.received_at.date(),
            "text": strip_quoted(mail.text).strip(),
        },
        attachments=[("comment.eml", "message/rfc822", outbox.store.load_raw(mail.content_hash))],
    )
    cases.put(case)
    return Handled("filed", case.reference, f"comment from a third party, {mail.sender}")
