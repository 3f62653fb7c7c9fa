"""How the bot reads one email: parsed, robot or not, sender role, case, and classified."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.classify.engine import classify
from bot.classify.model import Classification, SenderInfo
from bot.classify.rules import ClassificationRules
from bot.config import Config
from bot.intake.automated import detect_automated
from bot.intake.command_trust import commands_trusted
from bot.intake.message import AutomatedVerdict, ParsedMail
from bot.intake.parse import parse_message
from bot.intake.threading import Threading, find_case
from bot.procedure.case import Case

LOOP_HEADER = "X-Contract-Concerns-Loop"


@dataclass(frozen=True)
class Reading:
    mail: ParsedMail
    received_at: datetime
    automated: AutomatedVerdict
    sender_role: str
    directory_roles: tuple[str, ...]
    threading: Threading
    classification: Classification

    @property
    def reference(self) -> str | None:
        return self.threading.reference

    def to_json(self) -> dict[str, Any]:
        """The reading as plain data, for `inspect` and the audit trail (no body text)."""
        return {
            "message_id": self.mail.message_id,
            "dedupe_key": self.mail.dedupe_key,
            "from": self.mail.sender,
            "subject": self.mail.subject,
            "received_at": self.received_at.isoformat(),
            "sender_role": self.sender_role,
            "directory_roles": list(self.directory_roles),
            "case": {
                "reference": self.threading.reference,
                "found_by": self.threading.how,
                "detail": self.threading.detail,
            },
            "kind": self.classification.kind,
            "decided_by": self.classification.rule,
            "rules_hit": [
                {"rule": hit.rule, "kind": hit.kind, "checks": list(hit.checks)}
                for hit in self.classification.hits
            ],
            "automated": {
                "automated": self.automated.automated,
                "kind": self.automated.kind,
                "reasons": list(self.automated.reasons),
                "failed_recipients": list(self.automated.failed_recipients),
                "original_message_id": self.automated.original_message_id,
                "extra": dict(self.automated.extra),
            },
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                for a in self.mail.attachments
            ],
            "defects": list(self.mail.defects),
        }


def is_participant(case: Case | None, address: str, config: Config) -> bool:
    """Whether this address takes part in the case: its referrer, someone copied in, the
    case's provider, or procedure staff in the directory."""
    if case is None:
        return False
    if address == case.referrer or address in case.participants:
        return True
    person = config.person_by_email(address)
    if person is not None and set(person.roles) - {"referrer"}:
        return True  # council staff with a part in the procedure, not another case's referrer
    provider = config.provider_by_address(address)
    return provider is not None and provider.id == case.provider_id


def sender_role(
    address: str, case: Case | None, config: Config, *, third_party: bool = False
) -> tuple[str, tuple[str, ...]]:
    """The sender's part in this email's case (see classify.SenderInfo), and directory roles.
    In a case's thread, anyone but its referrer, provider, officers and procedure staff is a
    third party (another case's referrer included)."""
    person = config.person_by_email(address)
    roles = tuple(person.roles) if person else ()
    if case is not None and address == case.referrer:
        return "referrer", roles
    if "spo" in roles or "head_of_procurement" in roles:
        return "spo", roles
    if "cmo" in roles:
        return "cmo", roles
    provider = config.provider_by_address(address)
    if provider is not None and (case is None or case.provider_id in (None, provider.id)):
        return "provider", roles
    if third_party:
        return "third_party", roles
    if case is not None and address in config.teams.operational_teams:
        return "staff", roles  # the teams that validate remedial action (step 13.2)
    if person is not None and roles != ("referrer",) and case is not None:
        return "staff", roles
    if case is not None:
        return "third_party", roles
    if config.may_refer(address):
        return ("referrer" if person else "referrer_domain"), roles
    if person is not None:
        return "staff", roles
    return "unknown", roles


def inside_council(mail: ParsedMail, config: Config) -> bool:
    """From the council's own staff, and proven so (as commands are: see intake.authenticity)."""
    if not config.is_staff(mail.sender):
        return False
    security = config.security
    return commands_trusted(
        mail,
        own_domains=config.council.own_domains,
        trusted_authserv_ids=security.trusted_authserv_ids,
        trust_m365_internal=security.microsoft_365_internal,
        require_authenticated=security.require_authenticated_commands,
    ).authenticated


def read_mail(
    raw: bytes,
    received_at: datetime,
    *,
    config: Config,
    rules: ClassificationRules,
    get_case: Callable[[str], Case | None],
    participant_cases: Mapping[str, set[str]],
    placed_by: tuple[str, str] | None = None,
) -> Reading:
    """Parse, detect automated mail, thread and classify; changes nothing."""
    mail, message = parse_message(raw)
    own_domain = config.mailbox.address.split("@", 1)[1]
    own_domains = [own_domain, *config.council.own_domains]
    automated = detect_automated(
        mail,
        raw,
        own_domains,
        LOOP_HEADER,
        own_addresses=[config.mailbox.address],
        message=message,
    )
    if placed_by is not None:
        threading = Threading(placed_by[0], "officer", f"placed by {placed_by[1]}")
    else:
        threading = find_case(
            mail,
            own_domain=own_domain,
            exists=lambda ref: get_case(ref) is not None,
            participant_of=lambda ref, sender: is_participant(get_case(ref), sender, config),
            participant_cases=participant_cases,
            bounced_id=automated.original_message_id
            if automated.kind in ("bounce", "delivery-report")
            else "",
        )
    if threading.refused and inside_council(mail, config):
        # Council staff replying in a thread they were not copied into: a third party's
        # comment for the case, not a stranger's mail for triage.
        threading = Threading(
            threading.refused,
            "third-party",
            f"{mail.sender} is council staff but no party to {threading.refused}",
        )
    case = get_case(threading.reference) if threading.reference else None
    role, roles = sender_role(
        mail.sender, case, config, third_party=threading.how == "third-party"
    )
    info = SenderInfo(
        role=role,
        case_reference=threading.reference,
        case_stage=case.stage if case else None,
        automated=automated.automated,
    )
    return Reading(
        mail, received_at, automated, role, roles, threading, classify(mail, info, rules)
    )
