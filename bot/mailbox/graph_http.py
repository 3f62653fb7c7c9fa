"""Graph over HTTP: the O365 connection, reading errors and Retry-After, request paths."""

from __future__ import annotations

import os
import re
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from O365.connection import Connection, MSGraphProtocol
from O365.utils.token import MemoryTokenBackend
from requests.utils import get_environ_proxies

from bot.clock import Clock

GRAPH_URL = "https://graph.microsoft.com/"


def graph_connection(
    base_url: str, credentials: tuple[str, Any], tenant_id: str, timeout: float
) -> tuple[Connection, str]:
    """An O365 Connection with its own retries and pacing off (GraphClient does both, for
    every method), and the service URL (`…/v1.0/`) of the Graph at `base_url`."""
    protocol_class = type("BotGraphProtocol", (MSGraphProtocol,), {"_protocol_url": base_url})
    protocol = protocol_class(timezone="UTC")
    connection = Connection(
        credentials,
        auth_flow_type="credentials",
        tenant_id=tenant_id,
        token_backend=MemoryTokenBackend(),
        requests_delay=0,
        request_retries=0,
        raise_http_errors=False,
        timeout=timeout,
    )
    return connection, protocol.service_url


class ProxiesOnce:
    """The proxies the environment names for each host, read once.

    A requests session that trusts the environment reads the proxy variables (walking the
    whole environment twice) and looks for ~/.netrc on every request: about a quarter of the
    bot's CPU per Graph request. This reads them once per host and stops the session from
    reading them again; a request gets them as its own proxies, which is what requests does
    with what it reads. The CA bundle the environment names is read once too."""

    def __init__(self, session: requests.Session) -> None:
        self.trusted = session.trust_env
        if self.trusted and session.verify is True:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                session.verify = bundle
        session.trust_env = False
        self._known: dict[str, dict[str, str]] = {}

    def __call__(self, url: str) -> dict[str, str]:
        if not self.trusted:
            return {}
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        found = self._known.get(key)
        if found is None:  # two threads may both read it: the same answer
            found = self._known[key] = dict(get_environ_proxies(url, no_proxy=None))
        return dict(found)


def path_pattern(url: str) -> str:
    """A request's path with ids blanked, for logs (never a query: it can hold addresses)."""
    path = urlsplit(url).path
    return re.sub(
        r"/(users|messages|mailFolders|events|drives|attachments)/[^/]+", r"/\1/{id}", path
    )


def retry_after(response: requests.Response, clock: Clock) -> float | None:
    """Seconds the server asked us to wait (delta-seconds or an HTTP date), if it said."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - clock.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def error_code(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return ""
    return str(error.get("code", "")) if isinstance(error, dict) else str(error)


def denied(what: str, response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
    except ValueError:
        message = ""
    code = error_code(response)
    return (
        f"{what} was refused ({response.status_code} {code}: {message}). An administrator "
        "must check the app registration: admin consent for Mail.ReadWrite, Mail.Send, "
        "Calendars.ReadWrite and Sites.Selected, and that the application access policy (or "
        "RBAC for Applications scope) includes this shared mailbox."
    ).replace(" : ", ": ")


def user_path(address: str, *parts: str) -> str:
    """`users/{address}/…` with every part quoted as one path segment."""
    return "/".join(["users", quote(address, safe="@"), *(quote(p, safe="$") for p in parts)])
