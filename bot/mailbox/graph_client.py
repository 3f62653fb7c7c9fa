"""The one place every Graph request is made: token, timeout, Retry-After, at most four at once."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from O365.connection import Connection

from bot.clock import Clock
from bot.mailbox.base import MailboxAuthError, MailboxError, MailboxUnavailable
from bot.mailbox.graph_auth import AccessToken, TokenSource
from bot.mailbox.graph_budget import RequestBudget
from bot.mailbox.graph_http import (
    GRAPH_URL,
    ProxiesOnce,
    denied,
    error_code,
    graph_connection,
    path_pattern,
    retry_after,
    user_path,
)
from bot.mailbox.graph_pacing import CONCURRENT, Pacing

__all__ = ["CONCURRENT", "GRAPH_URL", "GraphClient", "graph_connection", "user_path"]

log = logging.getLogger(__name__)

THROTTLED = (429, 503, 504)
_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})
_TOKEN_MARGIN = timedelta(minutes=5)


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
        self.pacing = Pacing(self.budget.monotonic, sleep)
        if getattr(connection, "naive_session", None) is None:
            # Made now, not lazily by the first of several threads.
            connection.naive_session = connection.get_naive_session()
        self.proxies = ProxiesOnce(connection.naive_session)

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
        batched: int = 0,
        **kwargs: Any,
    ) -> requests.Response | None:
        """Make one Graph call; retry on 429/503/504 after Retry-After (for every method).

        A status in `accept` is returned to the caller; other failures raise. A POST is
        repeated after an ambiguous failure (504, a read timeout) only when `settled` says the
        first one did not take effect; when it did, None is returned. A batch of `batched`
        requests holds every slot and takes that many from the budget, as Graph counts them.
        """
        slots = self.pacing.all_slots() if batched else self.pacing.slot()
        with slots:
            return self._request(
                method.upper(), self.url(path), accept, settled, auth, kwargs, max(batched, 1)
            )

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
        weight: int = 1,
    ) -> requests.Response | None:
        what = f"Graph {method} {path_pattern(url)} on {self.host}"
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = dict(kwargs.get("headers") or {})
            if auth:
                headers["Authorization"] = f"Bearer {self._bearer(refreshed)}"
            self.pacing.wait()
            for _ in range(weight):
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
                    raise MailboxAuthError(denied(what, response))
                if status not in THROTTLED:
                    if status < 400 or status in accept:
                        return response
                    error = MailboxUnavailable if status >= 500 else MailboxError
                    raise error(f"{what} answered {status} {error_code(response)}".rstrip())
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
                self.pacing.pause_all(wait)  # the other threads wait too
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
        options = {**kwargs, "headers": headers, "proxies": self.proxies(url)}
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
