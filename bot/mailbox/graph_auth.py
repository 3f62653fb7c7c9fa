"""App-only access tokens for Microsoft Graph by MSAL client credentials; failures for admins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from O365.connection import Connection

from bot.clock import Clock
from bot.mailbox.base import MailboxAuthError, MailboxUnavailable

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: datetime


class TokenSource(Protocol):
    """Where the client gets a bearer token; `fresh` asks for a new one, not a cached one."""

    def acquire(self, *, fresh: bool = False) -> AccessToken: ...


def token_from_result(result: Mapping[str, Any], now: datetime, who: str) -> AccessToken:
    """An OAuth token response (MSAL's result dict has the same keys) as a token, or the
    reason an administrator must act."""
    if "access_token" in result:
        lifetime = int(result.get("expires_in", 3599))
        return AccessToken(str(result["access_token"]), now + timedelta(seconds=lifetime))
    error = str(result.get("error", "unknown_error"))
    # The first line carries the AADSTS code and its meaning; the rest is trace ids.
    detail = str(result.get("error_description", "")).strip().splitlines()
    described = f"{error}: {detail[0]}" if detail else error
    raise MailboxAuthError(
        f"Microsoft Entra ID refused the bot's app-only sign-in ({who}): {described}. "
        "Check the client secret or certificate the mailbox.graph settings name (an expired "
        "secret is the usual cause), and that an administrator has granted consent to the "
        "app's application permissions."
    )


class MsalTokenSource:
    """Client-credentials tokens through the MSAL client of an O365 Connection (secret or
    certificate); MSAL keeps them in the connection's token backend until they expire."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self.connection = connection
        self.clock = clock
        self.who = f"tenant {connection.tenant_id}, client {connection.auth[0]}"

    def acquire(self, *, fresh: bool = False) -> AccessToken:
        client = self.connection.msal_client
        if fresh:
            # Graph refused the cached token: forget it so MSAL asks the token endpoint again.
            for cached in client.token_cache.search(client.token_cache.CredentialType.ACCESS_TOKEN):
                client.token_cache.remove_at(cached)
        try:
            result = client.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        except (requests.RequestException, ValueError) as err:
            raise MailboxUnavailable(
                f"could not reach the Microsoft sign-in service for {self.who}: "
                f"{type(err).__name__}"
            ) from err
        return token_from_result(result or {}, self.clock.now(), self.who)
