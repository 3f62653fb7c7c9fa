"""The letter half of the outbox: PDF letters to providers, and drafts for the officer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.actions.letters import PDF, ProviderLetters
from bot.actions.recipients import Recipient, resolve
from bot.commands import COPY_END, COPY_START
from bot.config import Config
from bot.intake.message import ParsedMail
from bot.letters.compose import message_id_for
from bot.procedure.case import Case, Deadline
from bot.procedure.engine import Action
from bot.store import Store


class LetterMail:
    """Kept apart from bot.actions.outbox.Outbox (which it is part of) to keep each readable."""

    config: Config
    store: Store
    domain: str
    letters: ProviderLetters
    _known: Callable[[str], bool]
    queue_message: Callable[..., str | None]

    def _queue_letter(
        self,
        case: Case,
        action: Action,
        recipients: Sequence[Recipient],
        cc: Sequence[Recipient],
        key: str,
        now: datetime,
        deadline: Deadline | None,
        mail: ParsedMail | None,
        overdue: Mapping[str, bool] | None,
    ) -> str | None:
        """The letter as a PDF, in a short email with the kept enclosures, addressed to the
        provider's main contact."""
        if self._known(message_id_for(case.reference, key, domain=self.domain)):
            return None  # rendering a PDF costs; a letter already queued needs none
        subject, pdf = self.letters.render(
            case, action.template, recipients[0], now, deadline=deadline, mail=mail,
            overdue=overdue,
        )  # fmt: skip
        # Only the kept files of the referral go with a letter; never an email (attach: mail).
        enclosures = self.letters.enclosures(case) if action.attach == "concern" else []
        letter = {
            "subject": subject,
            "date": now.date(),
            "filename": pdf.filename,
            "enclosures": [name for name, _, _ in enclosures],
        }
        message_id = self.queue_message(
            template="letter_email",
            to=recipients,
            cc=cc,
            case=case,
            key=key,
            now=now,
            deadline_name=deadline.name if deadline else None,
            extra={"letter": letter},
            attachments=[(pdf.filename, PDF, pdf.data), *enclosures],
        )
        # The outbox keeps the email, PDF and all, with the case: byte for byte what was sent.
        return message_id

    def _draft_extra(self, action: Action) -> dict[str, Any]:
        """The marker lines an officer's edited copy of the concern goes between."""
        return {"copy_start": COPY_START, "copy_end": COPY_END} if action.draft else {}

    def _attachments(
        self, case: Case, action: Action, now: datetime
    ) -> list[tuple[str, str, bytes]]:
        if action.draft:
            # The draft of the letter to the provider, for the officer to approve.
            provider = resolve("provider", case, self.config)
            message_id = message_id_for(case.reference, action.key, domain=self.domain)
            if not provider or self._known(message_id):
                return []
            _, pdf = self.letters.render(case, action.draft, provider[0], now, draft=True)
            return [(pdf.filename, PDF, pdf.data), *self.letters.enclosures(case)]
        if action.attach == "concern" and case.concern_sha:
            return [("concern.eml", "message/rfc822", self.store.load_raw(case.concern_sha))]
        if action.attach == "mail" and action.mail_sha:
            return [("response.eml", "message/rfc822", self.store.load_raw(action.mail_sha))]
        return []
