"""Rules for a verified ID token's claims: its times, and which addresses it vouches for."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

LEEWAY_SECONDS = 120  # clocks of this server and the sign-in service may differ a little
FRESH_SECONDS = 600  # a token straight from the token endpoint was issued moments ago


class SignInFailed(Exception):
    """A sign-in that cannot be trusted. `reason` names the check and is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_times(claims: Mapping[str, Any], now: datetime) -> None:
    """exp, nbf and iat against `now` (the injected clock), with a little leeway."""
    at = now.timestamp()
    try:
        exp, iat = float(claims["exp"]), float(claims["iat"])
        nbf = float(claims.get("nbf", iat))
    except (KeyError, TypeError, ValueError):
        raise SignInFailed("id token has unreadable times") from None
    if exp <= at - LEEWAY_SECONDS:
        raise SignInFailed("id token has expired")
    if nbf > at + LEEWAY_SECONDS or iat > at + LEEWAY_SECONDS:
        raise SignInFailed("id token is not valid yet")
    if iat < at - FRESH_SECONDS - LEEWAY_SECONDS:
        raise SignInFailed("id token was issued too long ago")


def identity_addresses(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The addresses the token vouches for, best first, to look up in the staff directory.

    preferred_username is the user principal name, in a domain the tenant has verified. The
    email claim is only taken from the tenant's own members: a guest's email comes from
    elsewhere and need not be verified (Entra marks a guest with an idp claim that differs
    from the issuer, unless it says the domain owner verified it with xms_edov).
    """
    found: list[str] = []
    for claim in ("preferred_username", "upn"):
        _add(found, claims.get(claim))
    idp = claims.get("idp")
    member = idp is None or idp == claims.get("iss")
    if member or claims.get("xms_edov") in (True, "1", "true"):
        _add(found, claims.get("email"))
    return tuple(found)


def _add(found: list[str], value: Any) -> None:
    if isinstance(value, str) and "@" in value:
        address = value.strip().lower()
        if address not in found:
            found.append(address)
