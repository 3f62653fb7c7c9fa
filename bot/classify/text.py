"""The new part of an email body, for rules and commands: quoted earlier messages removed."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.intake.quoting import strip_quoted

# Curly quotes would otherwise defeat patterns written with a plain apostrophe ("don't").
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00a0": " "})
_SPACES = re.compile(r"\s+")


def new_part(text: str) -> str:
    """The text the sender wrote in this message, line breaks kept."""
    return strip_quoted(text).translate(_APOSTROPHES)


@lru_cache(maxsize=32)
def flat_new_part(text: str) -> str:
    """The new part on one line with single spaces, so a phrase split across lines still matches."""
    return _SPACES.sub(" ", new_part(text)).strip()
