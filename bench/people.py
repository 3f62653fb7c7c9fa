"""Invented names and addresses for the workload and the seeded cases (all made up here)."""

from __future__ import annotations

import random

_FIRST = "Alex Bea Cara Dev Ella Femi Gus Hana Imran Jo Kofi Lena Milo Nadia Owen Priya Quinn Rosa \
Saul Tara Umar Vera Wes Yara Zac Ade Bryn Cleo Dara Esme Finn Gita Hugo Isla Jude Kira Luca Maya"
_LAST = "Abbott Baines Carver Dunmore Ellery Fairley Gaskell Hollins Irwin Jessop Kettle Lowther \
Marsh Nolan Orchard Pryce Quarry Rudd Stannard Thorne Upton Vance Whitlow Yardley Ziegler Ashby"
FIRST = tuple(_FIRST.split())
LAST = tuple(_LAST.split())
REFERRER_DOMAINS = ("council.example", "nhs.example")


def person(rng: random.Random) -> tuple[str, str]:
    """A (name, address) for an invented referrer at one of the referrer domains."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    number = rng.randrange(1, 40)
    domain = rng.choice(REFERRER_DOMAINS)
    return f"{first} {last}", f"{first.lower()}.{last.lower()}{number}@{domain}"
