"""The exchangelib connection and one wrapper that turns every EWS failure into a mailbox error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from exchangelib import DELEGATE, Account, Configuration, EWSTimeZone, Version
from exchangelib.errors import (
    CASError,
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorNonExistentMailbox,
    ErrorServerBusy,
    ErrorTimeoutExpired,
    EWSError,
    UnauthorizedError,
)
from exchangelib.protocol import BaseProtocol, FailFast, NoVerifyHTTPAdapter
from oauthlib.oauth2 import OAuth2Error

from bot.mailbox.base import MailboxAuthError, MailboxUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

# An administrator must act on these; retrying next poll cannot help.
_AUTH_ERRORS: tuple[type[Exception], ...] = (
    UnauthorizedError,
    CASError,
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorNonExistentMailbox,
    OAuth2Error,
)
DEFAULT_BACK_OFF = 10.0  # seconds, when a busy server names no back-off


def connect(
    endpoint: str,
    address: str,
    *,
    credentials: Any,
    auth_type: str | None,
    access_type: str = DELEGATE,
    version: Version | None = None,
    timeout: float = 60,
    verify_tls: bool = True,
) -> Account:
    """An exchangelib Account on the shared mailbox; no request is sent until it is used."""
    if not verify_tls:
        # exchangelib only offers this process-wide; the config says so explicitly.
        BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
    config = Configuration(
        service_endpoint=endpoint,
        credentials=credentials,
        auth_type=auth_type,
        version=version,
        # Fail fast: waiting on ErrorServerBusy is ours to do, with the injected sleep.
        retry_policy=FailFast(),
        max_connections=1,
    )
    account = Account(
        primary_smtp_address=address,
        config=config,
        autodiscover=False,
        access_type=access_type,
        default_timezone=EWSTimeZone("Europe/London"),
    )
    # Instance attribute: the class default is 120 s, and a hung server must not hang a poll.
    account.protocol.TIMEOUT = timeout
    return account


def _is_connection_failure(err: Exception) -> bool:
    # exchangelib reports a refused or dropped connection as ErrorTimeoutExpired, or as a
    # "server busy" re-raised from it; neither is a server asking us to slow down.
    return isinstance(err, ErrorTimeoutExpired) or "ErrorTimeoutExpired" in str(err)


class EwsCaller:
    """Runs one EWS call: waits out ErrorServerBusy a bounded number of times, and maps the
    rest to MailboxUnavailable (try again next poll) or MailboxAuthError (an admin must act)."""

    def __init__(
        self,
        endpoint: str,
        sleep: Callable[[float], None],
        *,
        max_busy_retries: int = 3,
        max_back_off: float = 60.0,
    ) -> None:
        self.endpoint = endpoint
        self.sleep = sleep
        self.max_busy_retries = max_busy_retries
        self.max_back_off = max_back_off

    def __call__(self, what: str, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except ErrorServerBusy as err:
                if _is_connection_failure(err):
                    raise self.unavailable(what, err) from err
                wait = err.back_off or DEFAULT_BACK_OFF
                attempt += 1
                if attempt > self.max_busy_retries or wait > self.max_back_off:
                    raise MailboxUnavailable(
                        f"EWS {what} at {self.endpoint}: server busy after {attempt} tries "
                        f"(asked to wait {wait:g} s); the next poll tries again"
                    ) from err
                log.info("EWS %s: server busy, waiting %.1f s (try %d)", what, wait, attempt)
                self.sleep(wait)
            except _AUTH_ERRORS as err:
                raise MailboxAuthError(
                    f"EWS {what} at {self.endpoint}: login or access refused "
                    f"({type(err).__name__}); check the account, its secret and its rights "
                    "on the shared mailbox"
                ) from err
            except (EWSError, requests.RequestException, OSError) as err:
                raise self.unavailable(what, err) from err

    def unavailable(self, what: str, err: Exception) -> MailboxUnavailable:
        # The text is cut short: some exchangelib errors quote the whole response.
        detail = str(err).splitlines()[0][:200] if str(err) else ""
        return MailboxUnavailable(
            f"EWS {what} at {self.endpoint} failed: {type(err).__name__}: {detail}"
        )
