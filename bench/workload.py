"""The backlog a shared mailbox sees, in fixed proportions, from a seed: raw emails with times."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench import mailgen
from bench.people import person
from bench.seed import OpenCase
from bot.config import Config

# What a council's shared mailbox sees, by share of all mail.
MIX: tuple[tuple[str, float], ...] = (
    ("referral", 0.25),
    ("provider_reply", 0.25),
    ("officer", 0.20),
    ("auto_reply", 0.10),
    ("bounce", 0.08),
    ("stranger", 0.07),
    ("malformed", 0.05),
)


@dataclass
class Email:
    kind: str
    raw: bytes
    received_at: datetime


def kinds_for(count: int, rng: random.Random) -> list[str]:
    """Exactly the mix's proportions (largest remainders), in a shuffled order."""
    shares = [(kind, share * count) for kind, share in MIX]
    counts = {kind: int(exact) for kind, exact in shares}
    spare = count - sum(counts.values())
    for kind, _ in sorted(shares, key=lambda s: s[1] - int(s[1]), reverse=True)[:spare]:
        counts[kind] += 1
    kinds = [kind for kind, n in counts.items() for _ in range(n)]
    rng.shuffle(kinds)
    return kinds


class Workload:
    """Writes mail about the config's providers, people and the seeded open cases."""

    def __init__(self, config: Config, cases: list[OpenCase], seed: int) -> None:
        self.config = config
        self.cases = cases
        self.rng = random.Random(seed)
        self.serial = 0

    def backlog(self, count: int, end: datetime, span: timedelta) -> list[Email]:
        """`count` emails received over `span` before `end`, oldest first."""
        kinds = kinds_for(count, self.rng)
        step = span / max(count, 1)
        start = end - span
        return [self.email(kind, start + step * i) for i, kind in enumerate(kinds)]

    def email(self, kind: str, at: datetime) -> Email:
        self.serial += 1
        message_id = f"bench.{kind}.{self.serial}.{self.rng.getrandbits(32):08x}@mail.example"
        rng = self.rng
        case = rng.choice(self.cases) if self.cases else None
        if kind in ("provider_reply", "officer", "auto_reply", "bounce") and case is None:
            kind = "referral"
        if kind == "referral":
            provider = rng.choice(self.config.providers)
            name, sender = person(rng)
            raw = mailgen.referral(rng, sender, name, rng.choice(provider.aliases), at, message_id)
        elif kind == "stranger":
            raw = mailgen.stranger(rng, at, message_id)
        elif kind == "malformed":
            raw = mailgen.malformed(rng, at, message_id)
        else:
            assert case is not None
            raw = self._about(kind, case, at, message_id)
        return Email(kind, raw, at)

    def _about(self, kind: str, case: OpenCase, at: datetime, message_id: str) -> bytes:
        rng = self.rng
        last = case.bot_ids[-1] if case.bot_ids else None
        provider = self.config.provider(case.provider_id) if case.provider_id else None
        contact = rng.choice(provider.contacts) if provider else case.referrer
        if kind == "provider_reply":
            body = rng.choice(mailgen.PROVIDER_REPLIES)
            return mailgen.reply(contact, case.reference, last, body, at, message_id)
        if kind == "officer":
            officer = self.config.person(case.officer_id) if case.officer_id else None
            spo = self.config.people_with_role("spo")
            line = rng.choice(mailgen.OFFICER_LINES)
            person_ = spo[0] if line.startswith("Decision") and spo else officer
            sender = person_.email if person_ else "jane.smith@council.example"
            extra = [("Authentication-Results", mailgen.AUTH)]
            body = f"Hi all,\n\n{line}\n\nThanks"
            return mailgen.reply(sender, case.reference, last, body, at, message_id, extra=extra)
        if kind == "auto_reply":
            who = rng.choice((contact, case.referrer))
            return mailgen.auto_reply(rng, who, case.reference, at, message_id)
        original = rng.choice(case.bot_ids) if case.bot_ids else f"{case.reference.lower()}.x@c"
        return mailgen.bounce(rng, contact, original, at, message_id)


def count_kinds(emails: list[Email]) -> dict[str, int]:
    return dict(Counter(e.kind for e in emails))
