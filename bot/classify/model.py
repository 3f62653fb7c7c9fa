"""The values classification takes and returns: who sent a mail, which rules hit, the verdict."""

from __future__ import annotations

from dataclasses import dataclass

# The kinds a mail can be classified as; the procedure engine switches on these strings.
KINDS: tuple[str, ...] = (
    "new_referral",
    "provider_accepts",
    "provider_disputes",
    "provider_unclear",
    "referrer_comment",
    "follow_up_evidence",
    "operational_validation",
    "outcome_dispute",
    "third_party_comment",
    "command",
    "automated",
    "unknown",
)

# The sender roles the caller may report (see SenderInfo.role).
ROLES: tuple[str, ...] = (
    "cmo",
    "spo",
    "staff",
    "referrer",
    "provider",
    "referrer_domain",
    "third_party",
    "unknown",
)

# Recorded as the deciding rule when no rule hit at all.
NO_RULE = "no_rule_hit"


@dataclass(frozen=True)
class SenderInfo:
    """What the caller knows of the sender, from the directory and the case the mail threads to."""

    role: str  # one of ROLES
    case_reference: str | None  # the case this mail threads to, if any
    case_stage: str | None  # that case's current stage id
    automated: bool  # the automated-mail detector's verdict, computed earlier


@dataclass(frozen=True)
class RuleHit:
    """One rule whose checks all matched, with what each check saw."""

    rule: str
    kind: str
    checks: tuple[str, ...]  # "check_name: what it saw"


@dataclass(frozen=True)
class Classification:
    """The verdict: the first hit decides; every hit is kept for the audit trail."""

    kind: str
    rule: str
    hits: tuple[RuleHit, ...]
