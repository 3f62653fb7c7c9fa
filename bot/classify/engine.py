"""Run the rule table over one mail: every rule is tried, every hit recorded, the first decides."""

from __future__ import annotations

from bot.classify.model import NO_RULE, Classification, RuleHit, SenderInfo
from bot.classify.rules import ClassificationRules, Rule
from bot.intake.message import ParsedMail


def classify(mail: ParsedMail, sender: SenderInfo, rules: ClassificationRules) -> Classification:
    """Classify `mail`; 'unknown' (rule NO_RULE) when no rule hits."""
    hits = tuple(hit for rule in rules.rules if (hit := _try(rule, mail, sender)) is not None)
    if not hits:
        return Classification("unknown", NO_RULE, ())
    return Classification(hits[0].kind, hits[0].rule, hits)


def _try(rule: Rule, mail: ParsedMail, sender: SenderInfo) -> RuleHit | None:
    seen: list[str] = []
    for check, params in rule.checks:
        saw = check.run(mail, sender, params)
        if saw is None:
            return None
        seen.append(f"{check.name}: {saw}")
    return RuleHit(rule.name, rule.kind, tuple(seen))
