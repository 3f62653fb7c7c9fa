"""Officer and SPO instructions, by email or from the dashboard: checked, obeyed in order,
answered with a receipt."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from bot.actions.outbox import Outbox
from bot.actions.recipients import Recipient, resolve
from bot.classify.reading import Reading
from bot.commands import CommandPolicy, ParsedCommands, parse_commands
from bot.config import Config
from bot.handling import approval
from bot.handling.handled import Handled
from bot.handling.origin import Origin
from bot.intake.command_trust import commands_trusted
from bot.intake.threading import normalise
from bot.procedure.case import Case
from bot.procedure.engine import Engine, Event, Outcome
from bot.store import Store
from bot.store.case_index import CaseIndex

# Commands that only record facts: applied before any command that moves the case on.
FACTS_FIRST = {
    "letter.identity",
    "letter.attachments",
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


class Instructions:
    """The command half of the Handler (bot.handling.handle), kept apart to keep each readable."""

    config: Config
    engine: Engine
    outbox: Outbox
    store: Store
    cases: CaseIndex
    policy: CommandPolicy
    reread: Callable[[bytes, datetime, tuple[str, str]], Reading]
    handle: Callable[[Reading, bytes, datetime], Handled]
    queue_outcome: Callable[[Outcome, datetime, Reading | None], None]
    _file_mail: Callable[[Case, Reading, str], None]

    def obey(self, case: Case | None, reading: Reading, sha: str, now: datetime) -> Handled:
        """Carry out the instructions in an email, if it is proven to come from inside."""
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
        origin = Origin(
            mail.sender,
            person.name if person else "",
            reading.received_at,
            mail.message_id,
            "email",
            reading,
        )
        roles = set(person.roles) if person else set()
        case, done, refused = self.apply_commands(case, parsed, roles, origin, now)
        self.command_receipt(
            case, origin, done, refused, parsed.ignored, key=f"receipt.{sha[:16]}", now=now
        )
        if case is not None:
            self.cases.put(case)
        return Handled(
            "commands",
            case.reference if case else None,
            f"{len(done)} done, {len(refused)} not done",
        )

    def apply_commands(
        self,
        case: Case | None,
        parsed: ParsedCommands,
        roles: Collection[str],
        origin: Origin,
        now: datetime,
    ) -> tuple[Case | None, list[str], list[str]]:
        """Carry out parsed commands for someone holding `roles`, each only if the policy lets
        those roles give it; the case (copied, not yet stored), what was done and what not."""
        done: list[str] = []
        refused: list[str] = [f"{line} (not understood)" for line in parsed.not_understood]
        triage = [c for c in parsed.commands if c.name.startswith("triage.")]
        parsed_commands = [c for c in parsed.commands if not c.name.startswith("triage.")]
        if triage and case is not None:
            # Filing a triaged email may change this very case: store ours first, re-read after.
            self.cases.put(case)
        for command in triage:
            if not self.policy.allowed(command.name, roles):
                refused.append(f"{command.line}: your role may not give this command")
                continue
            message = self._triage_command(command.args, origin.who, now)
            (done if message.startswith("done") else refused).append(f"{command.line}: {message}")
        if triage and case is not None:
            fresh = self.cases.get(case.reference)
            case = fresh.model_copy(deep=True) if fresh else case
        if case is None:
            refused += [
                f"{c.line}: no case found; put the case reference (CC-YYYY-NNNN) in the subject"
                for c in parsed_commands
            ]
            return None, done, refused
        ordered = sorted(parsed_commands, key=lambda c: 0 if c.name in FACTS_FIRST else 1)
        procedure = self.engine.procedure
        for command in ordered:
            # "approve" means the draft letter while one waits; only the case's officer may.
            name, args = approval.meant(
                case, command.name, command.args, origin.sender, self.config, procedure
            )
            if not self.policy.allowed(name, roles):
                refused.append(f"{command.line}: your role may not give this command")
                continue
            why_not = approval.refusal(case, name, args, origin.sender, self.config)
            if why_not:
                refused.append(f"{command.line}: {why_not}")
                continue
            case, message = self._command(case, name, args, origin, now)
            (done if message.startswith("done") else refused).append(f"{command.line}: {message}")
        case.note(
            origin.at,
            "command",
            f"Commands from {origin.who}: {len(done)} done, {len(refused)} not done",
            ref=origin.ref,
        )
        return case, done, refused

    def command_receipt(
        self,
        case: Case | None,
        origin: Origin,
        done: Sequence[str],
        refused: Sequence[str],
        ignored: Sequence[str],
        *,
        key: str,
        now: datetime,
    ) -> None:
        """Queue the receipt that tells the sender what was done and what was not."""
        if not origin.sender:
            return  # the dashboard's local operator has no address; the page shows the result
        self.outbox.queue_message(
            template="command_receipt",
            to=[Recipient(origin.name, origin.sender)],
            case=case,
            key=key,
            now=now,
            in_reply_to=(origin.ref or None) if origin.reading else None,
            extra={
                "done": list(done),
                "not_understood": list(refused),
                "ignored": list(ignored),
                "help": self.policy.help_lines(),
                "source": origin.source,
            },
        )

    def _triage_command(self, args: dict[str, object], officer: str, now: datetime) -> str:
        item_id = str(args["item"])
        item = next((t for t in self.store.triage_items() if t.get("id") == item_id), None)
        if item is None:
            return f"not done: {item_id} is not waiting in triage"
        reference = args.get("reference")
        if reference is None:
            self.store.triage_resolve(
                item_id, f"dismissed by {officer}: {args.get('text', '')}", now
            )
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
        self.store.triage_resolve(item_id, f"filed under {target.reference} by {officer}", now)
        return f"done: {item_id} filed under {target.reference} ({handled.outcome})"

    def _command(
        self, case: Case, name: str, args: dict[str, object], origin: Origin, now: datetime
    ) -> tuple[Case, str]:
        if name == "allocate":
            wanted = str(args.get("officer", "")).strip().lower()
            for officer in self.config.people_with_role("cmo"):
                if wanted in (officer.id.lower(), officer.name.lower(), officer.email):
                    case.officer_id = officer.id
                    case.note(origin.at, "note", f"Allocated to {officer.name}", "2")
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
            case.note(origin.at, "note", f"Provider set to {named.name}", "1")
            return case, f"done: provider is {named.name}"
        if name == "referrer":
            case.referrer = str(args.get("email", case.referrer)).lower()
            return case, f"done: referrer is {case.referrer}"
        outcome = self.engine.apply(case, Event(name, origin.at, args=args, source=origin.ref))
        if not outcome.applied:
            return case, f"not done: {outcome.reason}"
        self.queue_outcome(outcome, now, origin.reading)
        stage = self.engine.procedure.stages[outcome.case.stage]
        return outcome.case, f"done; the case is now at stage {stage.step} ({stage.title})"
