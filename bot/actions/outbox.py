"""Queue letters, calendar entries and reports in the store's outbox; deliver them after commit."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.actions.context import build_context
from bot.actions.letter_mail import LetterMail
from bot.actions.letters import ProviderLetters
from bot.actions.recipients import ManagerLookup, Recipient, resolve
from bot.config import Config
from bot.intake.message import ParsedMail
from bot.letters.compose import compose_chunks, message_id_for
from bot.letters.render import Renderer
from bot.procedure.case import Case
from bot.procedure.engine import Action
from bot.procedure.model import Procedure
from bot.store import Store

log = logging.getLogger(__name__)

# A letter whose attachments are larger than this waits as a file in the store, not inline.
INLINE_LETTER_BYTES = 256 * 1024


@dataclass
class Queued:
    """What one action put in the outbox, for the timeline and the caller."""

    message_ids: list[str] = field(default_factory=list)
    missing_roles: list[str] = field(default_factory=list)


class Outbox(LetterMail):
    """Renders actions into complete messages and keeps them in the store until delivered."""

    def __init__(
        self,
        config: Config,
        procedure: Procedure,
        renderer: Renderer,
        store: Store,
        manager_of: ManagerLookup | None = None,
    ) -> None:
        self.config = config
        self.manager_of = manager_of
        self.procedure = procedure
        self.renderer = renderer
        self.store = store
        self.domain = config.mailbox.address.split("@", 1)[1]
        self.letters = ProviderLetters(config, procedure, renderer, store)
        # Items wait here until the message that caused them has been handled without error,
        # so a failure half-way never leaves a letter queued for a change that was not stored.
        self.staged: list[dict[str, Any]] = []
        # Queued by this process and not tried yet: delivery need not look for these in Sent.
        self.untried: set[str] = set()

    def stage(self) -> int:
        """Move the staged items into the store's outbox (it commits with the case change)."""
        added = 0
        for item in self.staged:
            if self.store.outbox_add(item):
                added += 1
                self.untried.add(item["message_id"])
        self.staged.clear()
        return added

    def discard(self) -> None:
        self.staged.clear()

    def _known(self, message_id: str) -> bool:
        return (
            self.store.was_sent(message_id)
            or any(item["message_id"] == message_id for item in self.staged)
            or self.store.is_queued(message_id)
        )

    def _add(self, item: dict[str, Any]) -> bool:
        if self._known(item["message_id"]):
            return False
        self.staged.append(item)
        return True

    # --- queueing -----------------------------------------------------------
    def queue_action(
        self,
        case: Case,
        action: Action,
        now: datetime,
        mail: ParsedMail | None = None,
        overdue: Mapping[str, bool] | None = None,
    ) -> Queued:
        result = Queued()
        if action.kind == "diarise":
            self._queue_calendar(case, action, now, result)
            return result
        if action.kind == "save_report":
            self._queue_report(case, action, now, result)
            return result
        deadline = case.deadline(action.deadline) if action.deadline else None
        cc = [
            r
            for role in action.cc
            for r in resolve(role, case, self.config, manager_of=self.manager_of)
        ]
        extra = (
            {"overdue": deadline.due < now.date()} if action.kind == "remind" and deadline else {}
        )
        for role in action.to:
            recipients = resolve(role, case, self.config, manager_of=self.manager_of)
            if not recipients:
                result.missing_roles.append(role)
                continue
            key = f"{action.key}.{role}" if len(action.to) > 1 else action.key
            if role == "provider":
                # Whatever goes to a provider is a letter on letterhead, never a raw email.
                message_id = self._queue_letter(
                    case, action, recipients, cc, key, now, deadline, mail, overdue
                )
            else:
                message_id = self.queue_message(
                    template=action.template,
                    to=recipients,
                    cc=cc,
                    case=case,
                    key=key,
                    now=now,
                    deadline_name=deadline.name if deadline else None,
                    mail=mail,
                    attachments=self._attachments(case, action, now),
                    overdue=overdue,
                    extra={**extra, **self._draft_extra(action)},
                    files=self.letters.context_files(case) if action.draft else None,
                )
            if message_id:
                result.message_ids.append(message_id)
        for role in action.cc:
            if not resolve(role, case, self.config, manager_of=self.manager_of):
                result.missing_roles.append(role)
        return result

    def queue_message(
        self,
        *,
        template: str,
        to: Sequence[Recipient],
        cc: Sequence[Recipient] = (),
        case: Case | None,
        key: str,
        now: datetime,
        deadline_name: str | None = None,
        mail: ParsedMail | None = None,
        extra: Mapping[str, Any] | None = None,
        attachments: Sequence[tuple[str, str, bytes]] = (),
        overdue: Mapping[str, bool] | None = None,
        in_reply_to: str | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> str | None:
        """Render and queue one message; None when the same message is already queued or sent.
        `files` names the concern's enclosures and the referral's attachments for the template."""
        reference = case.reference if case else "CC-BOT"
        message_id = message_id_for(reference, key, domain=self.domain)
        if self._known(message_id):
            return None
        deadline = case.deadline(deadline_name) if case and deadline_name else None
        today = now.date()
        context = build_context(
            config=self.config,
            procedure=self.procedure,
            case=case,
            recipient=to[0],
            deadline=deadline,
            mail=mail,
            now=now,
            today=today,
            extra=extra,
            overdue=overdue,
            **(files or {}),
        )
        rendered = self.renderer.render(template, context)
        to_cc = {r.email for r in to}
        cc_list = [r.email for r in cc if r.email not in to_cc]
        primary = to[0].email
        references: list[str] = []
        if case is not None:
            in_reply_to = in_reply_to or case.last_from.get(primary)
            if primary == case.referrer and case.concern_message_id:
                references.append(case.concern_message_id)
                in_reply_to = in_reply_to or case.concern_message_id
            if in_reply_to and in_reply_to not in references:
                references.append(in_reply_to)
        chunks = compose_chunks(
            rendered=rendered,
            sender=self.config.mailbox.address,
            sender_name=self.config.council.team_name,
            to=[r.email for r in to],
            cc=cc_list,
            reference=reference,
            message_id=message_id,
            in_reply_to=in_reply_to,
            references=references,
            date=now,
            attachments=attachments,
        )
        # A letter carrying a large email is written to the store as it is generated, never
        # whole in memory. A case's letter is kept with the case, byte for byte as sent, for
        # the dashboard (and purged with the case's other mail by retention): the outbox
        # refers to that copy by its sha rather than holding a second one. Only a message
        # about no case (a digest) waits inline.
        large = sum(len(data) for _, _, data in attachments) > INLINE_LETTER_BYTES
        sha = self.store.keep_raw_chunks(chunks) if large else None
        raw = b"" if large else b"".join(chunks)
        if sha is None and case is not None:
            sha = self.store.keep_raw(raw)
        letter = {"raw_sha": sha} if sha else {"raw": base64.b64encode(raw).decode("ascii")}
        added = self._add(
            {
                "message_id": message_id,
                "kind": "mail",
                "reference": reference,
                "template": template,
                "to": [r.email for r in to],
                "cc": cc_list,
                "subject": rendered.subject,
                **letter,
                "queued_at": now.isoformat(),
            }
        )
        if not added:
            return None
        if case is not None:
            assert sha is not None
            case.documents.append({"kind": "letter", "sha": sha, "message_id": message_id})
            for recipient in to:
                case.last_from[recipient.email] = message_id
            case.thread_ids.append(message_id)
            # Whoever the bot writes to takes part in the case: their replies thread to it.
            for address in (*(r.email for r in to), *cc_list):
                if address != case.referrer and address not in case.participants:
                    case.participants.append(address)
        return message_id

    def queue_file(self, *, name: str, content: bytes, key: str, now: datetime) -> str | None:
        """Queue a document not about one case (the monthly report) for the shared drive;
        None when the same document is already queued or saved."""
        message_id = message_id_for("CC-BOT", key, domain=self.domain)
        item = {
            "message_id": message_id,
            "kind": "file",
            "queued_at": now.isoformat(),
            "reference": "CC-BOT",
            "name": name,
            "content_b64": base64.b64encode(content).decode("ascii"),
        }
        return message_id if self._add(item) else None

    def _queue_calendar(self, case: Case, action: Action, now: datetime, result: Queued) -> None:
        deadline = case.deadline(action.deadline or "")
        if deadline is None:
            return
        uid = f"{case.reference}.{deadline.name}@{self.domain}".lower()
        message_id = message_id_for(case.reference, action.key, domain=self.domain)
        provider = self.config.provider(case.provider_id) if case.provider_id else None
        title = f"{case.reference}: {deadline.title}"
        if provider:
            title += f" ({provider.name})"
        if self._add(
            {
                "message_id": message_id,
                "kind": "calendar",
                "queued_at": now.isoformat(),
                "reference": case.reference,
                "uid": uid,
                "day": deadline.due.isoformat(),
                "title": title,
                "description": f"Step {deadline.step}. {deadline.explanation}",
            }
        ):
            result.message_ids.append(message_id)

    def _queue_report(self, case: Case, action: Action, now: datetime, result: Queued) -> None:
        message_id = message_id_for(case.reference, action.key, domain=self.domain)
        context = build_context(
            config=self.config,
            procedure=self.procedure,
            case=case,
            recipient=Recipient(self.config.council.team_name, self.config.council.team_address),
            deadline=None,
            mail=None,
            now=now,
            today=now.date(),
        )
        rendered = self.renderer.render(action.template, context)
        name = f"{case.reference}-closure-report-{now:%Y%m%d}.txt"
        if self._add(
            {
                "message_id": message_id,
                "kind": "file",
                "queued_at": now.isoformat(),
                "reference": case.reference,
                "name": name,
                "content": rendered.text,
            }
        ):
            result.message_ids.append(message_id)
