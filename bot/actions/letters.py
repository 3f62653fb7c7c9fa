"""Letters to providers as PDFs on letterhead, with the approved copy of the concern and no more."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.actions.concern import copy_attachments, referral_attachment_names
from bot.actions.context import build_context
from bot.actions.recipients import Recipient
from bot.config import Config
from bot.intake.message import ParsedMail
from bot.letters.document import Addressee, Letterhead, LetterPdf, letter_pdf
from bot.letters.render import Renderer
from bot.procedure.case import Case, Deadline
from bot.procedure.model import Procedure
from bot.store import Store

PDF = "application/pdf"

Attachment = tuple[str, str, bytes]  # filename, content type, bytes


class ProviderLetters:
    """Renders a provider's letter into a PDF and says what travels with it."""

    def __init__(
        self, config: Config, procedure: Procedure, renderer: Renderer, store: Store
    ) -> None:
        self.config = config
        self.procedure = procedure
        self.renderer = renderer
        self.store = store
        self.letterhead = Letterhead.from_config(config)

    def enclosures(self, case: Case) -> list[Attachment]:
        """The referral's files that go with the copy of the concern (none unless kept)."""
        return [
            (found.filename, found.content_type, found.data)
            for found in copy_attachments(case, self.config, self.store)
        ]

    def context_files(self, case: Case) -> dict[str, Any]:
        """What the templates say about attachments: those sent, and all the referral had."""
        return {
            "enclosures": [name for name, _, _ in self.enclosures(case)],
            "referral_attachments": referral_attachment_names(case, self.store),
        }

    def render(
        self,
        case: Case,
        template: str,
        recipient: Recipient,
        now: datetime,
        *,
        deadline: Deadline | None = None,
        mail: ParsedMail | None = None,
        overdue: Mapping[str, bool] | None = None,
        draft: bool = False,
    ) -> tuple[str, LetterPdf]:
        """(subject, PDF) of letter `template` to `recipient`, dated today."""
        today = now.date()
        context = build_context(
            config=self.config,
            procedure=self.procedure,
            case=case,
            recipient=recipient,
            deadline=deadline,
            mail=mail,
            now=now,
            today=today,
            overdue=overdue,
            letterhead=True,
            **self.context_files(case),
        )
        rendered = self.renderer.render(template, context)
        addressee = Addressee(
            recipient.name, recipient.job_title, recipient.organisation, recipient.address
        )
        pdf = letter_pdf(
            self.renderer,
            rendered,
            letterhead=self.letterhead,
            addressee=addressee,
            reference=case.reference,
            template=template,
            day=today,
            draft=draft,
        )
        return rendered.subject, pdf
