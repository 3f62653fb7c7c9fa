"""Act on one read email: open a case, feed an event to the engine, obey commands, or triage."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.actions.outbox import Outbox
from bot.classify.reading import Reading
from bot.commands import CommandPolicy
from bot.config import Config
from bot.handling.handled import Handled
from bot.handling.obey import Instructions
from bot.handling.third_party import file_comment
from bot.intake.quoting import strip_quoted
from bot.intake.screening import propose
from bot.procedure.case import Case
from bot.procedure.engine import Engine, Event, Outcome
from bot.store import Store
from bot.store.case_index import CaseIndex

log = logging.getLogger(__name__)

# Classified kinds that are procedure events once threaded to a case.
EVENTS = {
    "provider_accepts": "provider.accepts",
    "provider_disputes": "provider.disputes",
    "referrer_comment": "referrer.comment",
    "follow_up_evidence": "provider.follow_up",
    "operational_validation": "ops.validation",
    "outcome_dispute": "provider.outcome_dispute",
}


class Handler(Instructions):
    def __init__(
        self,
        *,
        config: Config,
        engine: Engine,
        outbox: Outbox,
        store: Store,
        cases: CaseIndex,
        policy: CommandPolicy,
        reread: Callable[[bytes, datetime, tuple[str, str]], Reading],
    ) -> None:
        self.config = config
        # Reads a stored email again as part of the case an officer names (triage.attach).
        self.reread = reread
        self.engine = engine
        self.outbox = outbox
        self.store = store
        self.cases = cases
        self.policy = policy

    def handle(self, reading: Reading, raw: bytes, now: datetime) -> Handled:
        sha = self.store.keep_raw(raw)
        kind = reading.classification.kind
        case = self.cases.get(reading.reference) if reading.reference else None
        if case is not None:
            case = case.model_copy(deep=True)
            self._file_mail(case, reading, sha)
        if kind == "automated":
            return self._automated(case, reading, now)
        if reading.threading.refused:
            return self._triage(None, reading, sha, reading.threading.detail)
        if kind == "new_referral" and case is None:
            return self._open(reading, sha, now)
        if kind == "command":
            return self.obey(case, reading, sha, now)
        placed = reading.threading.how == "officer"  # an officer filed it: no need to tell them
        if kind == "third_party_comment" and case is not None and not placed:
            return file_comment(
                case, reading, now, config=self.config, outbox=self.outbox, cases=self.cases
            )
        event_name = EVENTS.get(kind)
        if case is not None and event_name is not None:
            outcome = self.engine.apply(
                case,
                Event(
                    event_name,
                    reading.received_at,
                    # The new part of the email: the grounds of a dispute, for example.
                    args={"text": strip_quoted(reading.mail.text).strip()},
                    source=reading.mail.message_id,
                    mail_sha=sha,
                ),
            )
            if outcome.applied:
                self.queue_outcome(outcome, now, reading)
                self.cases.put(outcome.case)
                return Handled("applied", case.reference, event_name)
            return self._triage(case, reading, sha, f"{kind}: {outcome.reason}")
        if case is not None and reading.threading.how == "officer":
            # An officer filed it here: keep it on the case; they act on it by command.
            case.note(
                reading.received_at,
                "note",
                f"Email {reading.threading.detail}",
                ref=reading.mail.message_id,
            )
            self.cases.put(case)
            return Handled("filed", case.reference, reading.threading.detail)
        reason = {
            "provider_unclear": "the provider's reply neither clearly accepts nor disputes: "
            "an officer should reply 'provider accepts' or 'provider disputes'",
            "unknown": "the bot could not tell what this email is",
        }.get(kind, f"classified as {kind} but no case it applies to")
        return self._triage(case, reading, sha, reason)

    # --- kinds -------------------------------------------------------------
    def _file_mail(self, case: Case, reading: Reading, sha: str) -> None:
        mail = reading.mail
        case.documents.append(
            {"kind": reading.classification.kind, "sha": sha, "message_id": mail.message_id}
        )
        if mail.message_id:
            case.thread_ids.append(mail.message_id)
            case.last_from[mail.sender] = mail.message_id
        if reading.classification.kind == "new_referral" and not case.stage:
            return  # the engine notes the concern itself when it opens the case
        case.note(
            reading.received_at,
            "mail_in",
            f"Email from {mail.sender} ({reading.sender_role}): {reading.classification.kind}",
            rule=f"rule {reading.classification.rule}; "
            f"threaded by {reading.threading.how or 'nothing'}",
            ref=mail.message_id,
        )

    def _automated(self, case: Case | None, reading: Reading, now: datetime) -> Handled:
        """Logged on the case, never answered, never a response: it moves no clock."""
        verdict = reading.automated
        if case is None:
            return Handled("automated", None, verdict.kind)
        text = f"Automated mail ({verdict.kind}) logged, not answered: {'; '.join(verdict.reasons)}"
        case.note(reading.received_at, "automated", text, ref=reading.mail.message_id)
        if verdict.kind == "bounce" and reading.threading.how == "report":
            self._undelivered(case, reading, now)
        self.cases.put(case)
        return Handled("automated", case.reference, verdict.kind)

    def _undelivered(self, case: Case, reading: Reading, now: datetime) -> None:
        """A letter of ours bounced: mark it on the case and tell the officer today."""
        letter_id = reading.automated.original_message_id
        failed = list(reading.automated.failed_recipients) or ["(the report names no address)"]
        sent = next((e for e in case.timeline if e.ref == letter_id and e.kind == "letter"), None)
        what = sent.text.removeprefix("Letter out: ") if sent else letter_id
        case.data.setdefault("undelivered", []).append(
            {"message_id": letter_id, "failed": failed, "at": reading.received_at.isoformat()}
        )
        case.note(
            reading.received_at,
            "letter",
            f"Letter undelivered: {what}; failed: {', '.join(failed)}",
            ref=letter_id,
        )
        officers = self._officers(case)
        self.outbox.queue_message(
            template="undelivered_alert",
            to=officers,
            case=case,
            key=f"bounce.{letter_id}",
            now=now,
            mail=reading.mail,
            extra={"failed_recipients": failed, "letter_subject": what},
        )

    def _open(self, reading: Reading, sha: str, now: datetime) -> Handled:
        mail = reading.mail
        local = reading.received_at.astimezone(self.engine.calendar.zone)
        reference = self.store.next_reference(local.year)
        named = self.config.providers_named_in(f"{mail.subject}\n{mail.text}")
        provider = named[0] if len(named) == 1 else None
        officer_id = provider.allocated_officer if provider and provider.allocated_officer else None
        officer_id = officer_id or self._next_on_rota()
        day, _ = self.engine.calendar.effective_day(reading.received_at)
        proposal = propose(mail.text, day)
        reasons = list(proposal.reasons)
        if provider is None:
            reasons.append(
                "no single contracted provider is named: reply 'provider: <name>'"
                if not named
                else f"several providers are named ({', '.join(p.name for p in named)})"
            )
        case = Case(
            reference=reference,
            stage="",
            opened_at=reading.received_at,
            received_day=day,
            referrer=mail.sender,
            referrer_name=mail.sender_name,
            provider_id=provider.id if provider else None,
            officer_id=officer_id,
            subject=mail.subject,
            concern_message_id=mail.message_id,
            concern_sha=sha,
            concern_text=mail.text,
            screening_proposal=proposal.outcome,
            screening_reasons=reasons,
            participants=[a for a in mail.cc if not self.config.is_staff(a)],
            # Fixed when the case opens, so a later change of config leaves it as it started.
            data={"approval_required": self.config.letters.approval == "required"},
        )
        self._file_mail(case, reading, sha)
        outcome = self.engine.open_case(
            case, Event("referral.new", reading.received_at, source=mail.message_id, mail_sha=sha)
        )
        self.queue_outcome(outcome, now, reading)
        self.cases.put(outcome.case)
        return Handled("opened", reference, proposal.outcome)

    def _next_on_rota(self) -> str | None:
        rota = self.config.rota_officers() or self.config.people_with_role("cmo")
        if not rota:
            return None
        position = int(self.store.get_meta("rota_position", 0))
        self.store.set_meta("rota_position", position + 1)
        return rota[position % len(rota)].id

    def _triage(self, case: Case | None, reading: Reading, sha: str, reason: str) -> Handled:
        mail = reading.mail
        self.store.triage_add(
            {
                "received": reading.received_at.isoformat(),
                "sender": mail.sender,
                "subject": mail.subject,
                "reason": reason,
                "reference": case.reference if case else None,
                "message_id": mail.message_id,
                "sha": sha,
                "kind": reading.classification.kind,
            }
        )
        if case is not None:
            case.note(
                reading.received_at, "triage", f"Sent to triage: {reason}", ref=mail.message_id
            )
            self.cases.put(case)
        return Handled("triaged", case.reference if case else None, reason)

    def queue_outcome(self, outcome: Outcome, now: datetime, reading: Reading | None) -> None:
        """Render the outcome's actions into the outbox, noting each on the timeline."""
        case = outcome.case
        for action in outcome.actions:
            result = self.outbox.queue_action(case, action, now, reading.mail if reading else None)
            label = {
                "send": "Letter",
                "remind": "Reminder",
                "diarise": "Calendar entry",
                "save_report": "Closure report",
            }[action.kind]
            target = action.template or action.deadline or ""
            if result.message_ids:
                kind = "reminder" if action.kind == "remind" else "letter"
                to = {
                    "diarise": "the team calendar",
                    "save_report": "the shared drive",
                }.get(action.kind, ", ".join((*action.to, *(f"cc {r}" for r in action.cc))))
                case.note(
                    now,
                    kind,
                    f"{label} out: {target} to {to}",
                    action.step,
                    ref=result.message_ids[0],
                )
            for role in result.missing_roles:
                case.note(
                    now,
                    "triage",
                    f"{label} {target}: nobody in the directory for {role!r}",
                    action.step,
                )
                self.store.triage_add(
                    {
                        "received": now.isoformat(),
                        "sender": "",
                        "subject": case.subject,
                        "reason": f"{target}: no address for {role}; add it to config.yaml",
                        "reference": case.reference,
                        "message_id": "",
                        "sha": "",
                        "kind": "config",
                    }
                )
