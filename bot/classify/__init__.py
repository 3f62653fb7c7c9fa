"""Classify an incoming mail by an ordered, declarative rule table (rules/classification.yaml)."""

from bot.classify.checks import CHECKS, Check, ParamError, register
from bot.classify.engine import classify
from bot.classify.model import KINDS, NO_RULE, ROLES, Classification, RuleHit, SenderInfo
from bot.classify.rules import ClassificationRules, Rule, load_classification

__all__ = [
    "CHECKS",
    "KINDS",
    "NO_RULE",
    "ROLES",
    "Check",
    "Classification",
    "ClassificationRules",
    "ParamError",
    "Rule",
    "RuleHit",
    "SenderInfo",
    "classify",
    "load_classification",
    "register",
]
