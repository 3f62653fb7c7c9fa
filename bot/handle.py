"""Act on one read email: open a case, feed an event to the engine, obey commands, or triage."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient, resolve
from bot.cases import CaseIndex
from bot.commands import CommandPolicy, parse_commands
from bot.config import Config
from bot.intake.authenticity import commands_trusted
from bot.intake.quoting import strip_quoted
from bot.intake.reading import Reading
from bot.intake.screening import propose
from bot.intake.threading import normalise
from bot.procedure.case import Case
from bot.procedure.engine import Engine, Event, Outcome
from bot.store import Store

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
# Commands that only record facts: applied before any command that moves the case on.
FACTS_FIRST = {
    "allocate",
    "provider",
    "referrer",
    "review.conclusion",
    "review.recommendation",
    "review.remedial",
    "follow_up.deadline",
    "default_notice.yes",
    "default_notice.no",
}


@dataclass
class Handled:
    """What became of one email, for the audit trail."""

    outcome: str  # opened, applied, filed, triaged, automated, commands, refused
    reference: str | None = None
    detail: str = ""
    quarantine: str = ""  # set when the email must leave the inbox to quarantine, and why


class Handler:
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
            trust = commands_trusted(
                reading.mail,
                own_domains=self.config.council.own_domains,
                trusted_authserv_ids=self.config.security.trusted_authserv_ids,
                trust_m365_internal=self.config.security.microsoft_365_internal,
                require_authenticated=self.config.security.require_authenticated_commands,
            )
            if not trust.authenticated:
                return self._suspect_command(case, reading, trust.reason, now)
            return self._commands(case, reading, sha, now)
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

    def _suspect_command(
        self, case: Case | None, reading: Reading, reason: str, now: datetime
    ) -> Handled:
        """Looks like an instruction but is not proven to come from inside the council: it
        changes nothing, goes to quarantine, and the officers hear of it."""
        mail = reading.mail
        if case is not None:
            case.note(
                reading.received_at,
                "triage",
                f"Instruction from {mail.sender} not obeyed: {reason}",
                ref=mail.message_id,
            )
            self.cases.put(case)
        officers = self._officers(case)
        self.outbox.queue_message(
            template="suspect_command_alert",
            to=officers,
            case=case,
            key=f"suspect.{mail.content_hash[:16]}",
            now=now,
            extra={"sender": mail.sender, "subject": mail.subject, "reason": reason},
        )
        return Handled(
            "refused",
            case.reference if case else None,
            reason,
            quarantine=f"instruction not authenticated: {reason}",
        )

    def _officers(self, case: Case | None) -> list[Recipient]:
        """The case's officer; every CMO when the case has none (or there is no case)."""
        officer = resolve("officer", case, self.config) if case else []
        return officer or [Recipient(p.name, p.email) for p in self.config.people_with_role("cmo")]

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

    def _commands(self, case: Case | None, reading: Reading, sha: str, now: datetime) -> Handled:
        mail = reading.mail
        local_day = reading.received_at.astimezone(self.engine.calendar.zone).date()
        parsed = parse_commands(mail.text, local_day)
        if case is None and parsed.case_reference:
            found = self.cases.get(normalise(parsed.case_reference))
            case = found.model_copy(deep=True) if found else None
            if case is not None:
                self._file_mail(case, reading, sha)
        person = self.config.person_by_email(mail.sender)
        roles = set(person.roles) if person else set()
        done: list[str] = []
        refused: list[str] = [f"{line} (not understood)" for line in parsed.not_understood]
        triage = [c for c in parsed.commands if c.name.startswith("triage.")]
        parsed_commands = [c for c in parsed.commands if not c.name.startswith("triage.")]
        for command in triage:
            if not self.policy.allowed(command.name, roles):
                refused.append(f"{command.line}: your role may not give this command")
                continue
            message = self._triage_command(command.args, mail.sender, now)
            (done if message.startswith("done") else refused).append(f"{command.line}: {message}")
        if case is None:
            refused += [
                f"{c.line}: no case found; put the case reference (CC-YYYY-NNNN) in the subject"
                for c in parsed_commands
            ]
        else:
            ordered = sorted(parsed_commands, key=lambda c: 0 if c.name in FACTS_FIRST else 1)
            for command in ordered:
                if not self.policy.allowed(command.name, roles):
                    refused.append(f"{command.line}: your role may not give this command")
                    continue
                case, message = self._command(case, command.name, command.args, reading, now)
                (done if message.startswith("done") else refused).append(
                    f"{command.line}: {message}"
                )
            case.note(
                reading.received_at,
                "command",
                f"Commands from {mail.sender}: {len(done)} done, {len(refused)} not done",
                ref=mail.message_id,
            )
            self.cases.put(case)
        self.outbox.queue_message(
            template="command_receipt",
            to=[Recipient(person.name if person else "", mail.sender)],
            case=case,
            key=f"receipt.{sha[:16]}",
            now=now,
            in_reply_to=mail.message_id or None,
            extra={
                "done": done,
                "not_understood": refused,
                "ignored": list(parsed.ignored),
                "help": self.policy.help_lines(),
            },
        )
        if case is not None:
            self.cases.put(case)
        return Handled(
            "commands",
            case.reference if case else None,
            f"{len(done)} done, {len(refused)} not done",
        )

    def _triage_command(self, args: dict[str, object], officer: str, now: datetime) -> str:
        item_id = str(args["item"])
        item = next((t for t in self.store.triage_items() if t.get("id") == item_id), None)
        if item is None:
            return f"not done: {item_id} is not waiting in triage"
        reference = args.get("reference")
        if reference is None:
            self.store.triage_resolve(item_id, f"dismissed by {officer}: {args.get('text', '')}")
            return f"done: {item_id} taken off the triage list"
        target = self.cases.get(normalise(str(reference)))
        if target is None or target.status != "open":
            return f"not done: there is no open case {reference}"
        if not item.get("sha"):
            return f"not done: {item_id} has no stored email to file"
        raw = self.store.load_raw(str(item["sha"]))
        received = datetime.fromisoformat(str(item["received"]))
        reading = self.reread(raw, received, (target.reference, officer))
        handled = self.handle(reading, raw, now)
        self.store.triage_resolve(item_id, f"filed under {target.reference} by {officer}")
        return f"done: {item_id} filed under {target.reference} ({handled.outcome})"

    def _command(
        self, case: Case, name: str, args: dict[str, object], reading: Reading, now: datetime
    ) -> tuple[Case, str]:
        if name == "allocate":
            wanted = str(args.get("officer", "")).strip().lower()
            for officer in self.config.people_with_role("cmo"):
                if wanted in (officer.id.lower(), officer.name.lower(), officer.email):
                    case.officer_id = officer.id
                    case.note(reading.received_at, "note", f"Allocated to {officer.name}", "2")
                    return case, f"done: allocated to {officer.name}"
            return case, f"not done: no officer called {wanted!r} in the directory"
        if name == "provider":
            wanted = str(args.get("name", ""))
            named = self.config.provider(wanted.lower()) or next(
                iter(self.config.providers_named_in(wanted)), None
            )
            if named is None:
                return case, f"not done: no contracted provider called {wanted!r}"
            case.provider_id = named.id
            case.note(reading.received_at, "note", f"Provider set to {named.name}", "1")
            return case, f"done: provider is {named.name}"
        if name == "referrer":
            case.referrer = str(args.get("email", case.referrer)).lower()
            return case, f"done: referrer is {case.referrer}"
        outcome = self.engine.apply(
            case, Event(name, reading.received_at, args=args, source=reading.mail.message_id)
        )
        if not outcome.applied:
            return case, f"not done: {outcome.reason}"
        self.queue_outcome(outcome, now, reading)
        stage = self.engine.procedure.stages[outcome.case.stage]
        return outcome.case, f"done; the case is now at stage {stage.step} ({stage.title})"

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
