"""The one place every Graph request is made: token, timeout, Retry-After, at most four at once."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from O365.connection import Connection, MSGraphProtocol
from O365.utils.token import MemoryTokenBackend

from bot.clock import Clock
from bot.mailbox.base import MailboxAuthError, MailboxError, MailboxUnavailable
from bot.mailbox.graph_auth import AccessToken, TokenSource
from bot.mailbox.graph_budget import RequestBudget

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/"
THROTTLED = (429, 503, 504)
# Graph serves at most four requests at once per app and mailbox; more are refused with 429.
CONCURRENT = 4
_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})
_TOKEN_MARGIN = timedelta(minutes=5)


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


class GraphClient:
    """Makes Graph requests for one mailbox through an O365 Connection, from any thread, at
    most CONCURRENT at a time (Graph's limit per mailbox). A Retry-After from Graph pauses
    every thread's next request, not only the one that was told: throttling is per mailbox."""

    def __init__(
        self,
        connection: Connection,
        service_url: str,
        tokens: TokenSource,
        clock: Clock,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        max_wait: float = 300.0,
        budget: RequestBudget | None = None,
    ) -> None:
        self.connection = connection
        self.service_url = service_url
        self.host = urlsplit(service_url).netloc
        self.tokens = tokens
        self.clock = clock
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.budget = budget or RequestBudget(sleep=sleep)
        self._token: AccessToken | None = None
        self._token_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(CONCURRENT)
        self._held = threading.local()  # a `settled` check asks Graph from inside a request
        self._pause = threading.Lock()
        self._paused_until = float("-inf")  # on the budget's monotonic clock
        if getattr(connection, "naive_session", None) is None:
            # Made now, not lazily by the first of several threads.
            connection.naive_session = connection.get_naive_session()

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.service_url + path

    def token_expires_at(self) -> datetime | None:
        return self._token.expires_at if self._token else None

    def _bearer(self, fresh: bool) -> str:
        with self._token_lock:
            token = self._token
            if fresh or token is None or self.clock.now() >= token.expires_at - _TOKEN_MARGIN:
                token = self._token = self.tokens.acquire(fresh=fresh)
            return token.value

    def request(
        self,
        method: str,
        path: str,
        *,
        accept: Collection[int] = (),
        settled: Callable[[], bool] | None = None,
        auth: bool = True,
        **kwargs: Any,
    ) -> requests.Response | None:
        """Make one Graph call; retry on 429/503/504 after Retry-After (for every method).

        A status in `accept` is returned to the caller; other failures raise. A POST is
        repeated after an ambiguous failure (504, a read timeout) only when `settled` says the
        first one did not take effect; when it did, None is returned.
        """
        if getattr(self._held, "slot", False):  # nested in this thread's own request
            return self._request(method.upper(), self.url(path), accept, settled, auth, kwargs)
        with self._slots:
            self._held.slot = True
            try:
                return self._request(method.upper(), self.url(path), accept, settled, auth, kwargs)
            finally:
                self._held.slot = False

    def _wait_for_pause(self) -> None:
        """Sleep out a Retry-After that Graph gave another thread (throttling is per mailbox);
        each thread sleeps out each pause once."""
        with self._pause:
            until = self._paused_until
        wait = until - self.budget.monotonic()
        if wait > 0 and until > getattr(self._held, "slept_until", float("-inf")):
            self._held.slept_until = until
            self.sleep(wait)

    def _pause_all(self, seconds: float) -> None:
        """Hold every thread's next request back for `seconds`; this thread sleeps them now."""
        with self._pause:
            until = self._paused_until = max(
                self._paused_until, self.budget.monotonic() + seconds
            )
        self._held.slept_until = until
        self.sleep(seconds)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """`request` for calls that cannot be settled early: always a response."""
        response = self.request(method, path, **kwargs)
        assert response is not None  # only a `settled` check returns None
        return response

    def _request(
        self,
        method: str,
        url: str,
        accept: Collection[int],
        settled: Callable[[], bool] | None,
        auth: bool,
        kwargs: Mapping[str, Any],
    ) -> requests.Response | None:
        what = f"Graph {method} {path_pattern(url)} on {self.host}"
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = dict(kwargs.get("headers") or {})
            if auth:
                headers["Authorization"] = f"Bearer {self._bearer(refreshed)}"
            self._wait_for_pause()
            self.budget.spend()
            try:
                response = self._send(method, url, kwargs, headers)
            except requests.exceptions.ReadTimeout as err:
                if method not in _IDEMPOTENT and settled is None:
                    raise MailboxUnavailable(f"{what} timed out; not repeated") from err
                status, wait, ambiguous = 0, None, True
            except requests.RequestException as err:
                raise MailboxUnavailable(f"{what} failed: {type(err).__name__}") from err
            else:
                status = response.status_code
                if status == 401 and auth and not refreshed:
                    refreshed = True  # the token may have been revoked early: get a new one
                    attempt -= 1
                    continue
                if status in (401, 403):
                    raise MailboxAuthError(_denied(what, response))
                if status not in THROTTLED:
                    if status < 400 or status in accept:
                        return response
                    error = MailboxUnavailable if status >= 500 else MailboxError
                    raise error(f"{what} answered {status} {_error_code(response)}".rstrip())
                wait = retry_after(response, self.clock)
                ambiguous = status == 504
                if ambiguous and method not in _IDEMPOTENT and settled is None:
                    raise MailboxUnavailable(f"{what} answered 504; not repeated")
            if attempt >= self.max_attempts:
                raise MailboxUnavailable(f"{what} still failing ({status}) after {attempt} tries")
            delay = wait if wait is not None else min(2.0**attempt, 60.0)
            if delay > self.max_wait:
                raise MailboxUnavailable(f"{what}: Graph asked to wait {delay:.0f} s; next poll")
            log.info("%s answered %s: waiting %.1f s (try %d)", what, status, delay, attempt)
            if wait is not None:
                self._pause_all(wait)  # the other threads wait too
            else:
                self.sleep(delay)
            if ambiguous and method not in _IDEMPOTENT and settled is not None and settled():
                return None


    def _send(
        self, method: str, url: str, kwargs: Mapping[str, Any], headers: dict[str, str]
    ) -> requests.Response:
        """One request on the connection's session, as O365's naive_request makes it (a JSON
        body for a dict, the timeout) but without its debug lines, which format every
        request's body (a letter in base64) into a string even when debug logging is off."""
        options = {**kwargs, "headers": headers}
        if method in ("POST", "PUT", "PATCH"):
            headers.setdefault("Content-type", "application/json")
            data = options.get("data")
            if data is not None and headers["Content-type"] == "application/json":
                options["data"] = json.dumps(data)
        elif method == "GET":
            options.setdefault("allow_redirects", True)
        if self.connection.timeout is not None:
            options["timeout"] = self.connection.timeout
        session = self.connection.naive_session
        assert session is not None  # made in __init__
        response: requests.Response = session.request(method.lower(), url, **options)
        return response


def _error_code(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return ""
    return str(error.get("code", "")) if isinstance(error, dict) else str(error)


def _denied(what: str, response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
    except ValueError:
        message = ""
    code = _error_code(response)
    return (
        f"{what} was refused ({response.status_code} {code}: {message}). An administrator "
        "must check the app registration: admin consent for Mail.ReadWrite, Mail.Send, "
        "Calendars.ReadWrite and Sites.Selected, and that the application access policy (or "
        "RBAC for Applications scope) includes this shared mailbox."
    ).replace(" : ", ": ")


def user_path(address: str, *parts: str) -> str:
    """`users/{address}/…` with every part quoted as one path segment."""
    return "/".join(["users", quote(address, safe="@"), *(quote(p, safe="$") for p in parts)])
