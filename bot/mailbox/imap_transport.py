"""IMAP connections for the IMAP backend: TLS or STARTTLS, login, timeouts, one reconnect."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from bot.config.network import is_loopback
from bot.mailbox.base import MailboxAuthError, MailboxError, MailboxUnavailable

log = logging.getLogger(__name__)

Security = Literal["ssl", "starttls", "none"]
T = TypeVar("T")


def refuse_plain_off_loopback(what: str, host: str, security: Security) -> None:
    if security == "none" and not is_loopback(host):
        raise MailboxError(
            f"{what} security 'none' sends the password in clear text: it is only allowed "
            f"for a loopback host, not {host!r}; use ssl or starttls"
        )


@dataclass(frozen=True)
class ImapEndpoint:
    """Where and how to log in to IMAP."""

    host: str
    port: int
    security: Security
    username: str
    password: str = field(repr=False)
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        refuse_plain_off_loopback("IMAP", self.host, self.security)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def quote(name: str) -> str:
    """An IMAP quoted string (imaplib sends arguments exactly as given)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    """One logged-in connection, opened on demand and replaced once when it has dropped."""

    def __init__(self, endpoint: ImapEndpoint) -> None:
        self.endpoint = endpoint
        self.capabilities: frozenset[str] = frozenset()
        self.logins = 0  # connections opened: tests and diagnostics see the reconnects
        self.selected: tuple[str, int] | None = None  # (folder, UIDVALIDITY) now selected
        self._conn: imaplib.IMAP4 | None = None

    def _open(self) -> imaplib.IMAP4:
        ep = self.endpoint
        context = ep.ssl_context or ssl.create_default_context()
        try:
            if ep.security == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    ep.host, ep.port, ssl_context=context, timeout=ep.timeout
                )
            else:
                conn = imaplib.IMAP4(ep.host, ep.port, timeout=ep.timeout)
                if ep.security == "starttls":
                    conn.starttls(ssl_context=context)
        except (imaplib.IMAP4.abort, OSError) as err:
            raise MailboxUnavailable(f"IMAP connect to {ep.where} failed: {err}") from err
        except imaplib.IMAP4.error as err:  # no STARTTLS offered: never fall back to plain
            raise MailboxError(f"IMAP STARTTLS with {ep.where} failed: {err}") from err
        try:
            conn.login(ep.username, ep.password)
            typ, data = conn.capability()  # the list grows after login (MOVE, UIDPLUS)
        except (imaplib.IMAP4.abort, OSError) as err:
            raise MailboxUnavailable(f"IMAP login to {ep.where} failed: {err}") from err
        except imaplib.IMAP4.error as err:
            raise MailboxAuthError(
                f"IMAP login as {ep.username} on {ep.where} was refused: {err}"
            ) from err
        words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
        self.capabilities = frozenset(words.upper().split()) if typ == "OK" else frozenset()
        self.logins += 1
        log.info("IMAP logged in to %s (connection %d)", ep.where, self.logins)
        return conn

    def call(self, what: str, action: Callable[[imaplib.IMAP4], T]) -> T:
        """Run `action` on the connection; a dropped connection gets one fresh one and a retry,
        so `action` must be safe to repeat."""
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._open()
            try:
                return action(self._conn)
            except (imaplib.IMAP4.abort, OSError) as err:
                self.discard()
                if attempt == 2:
                    raise MailboxUnavailable(
                        f"IMAP {what} on {self.endpoint.where} failed twice: {err}"
                    ) from err
                log.warning("IMAP connection to %s dropped during %s", self.endpoint.where, what)
            except imaplib.IMAP4.error as err:
                raise MailboxError(f"IMAP {what} refused by {self.endpoint.where}: {err}") from err
        raise AssertionError("unreachable")

    def select(self, conn: imaplib.IMAP4, folder: str, *, fresh: bool = False) -> int:
        """SELECT `folder` (unless it already is) and return its UIDVALIDITY."""
        if not fresh and self.selected is not None and self.selected[0] == folder:
            return self.selected[1]
        self.selected = None
        typ, data = conn.select(quote(folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"SELECT {folder}: {_text(data)}")
        _, values = conn.response("UIDVALIDITY")
        validity = int(values[0]) if values and values[0] else 0
        self.selected = (folder, validity)
        return validity

    def discard(self) -> None:
        """Forget the connection (without a goodbye: it is probably dead already)."""
        conn, self._conn, self.selected = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.shutdown()

    def close(self) -> None:
        conn, self._conn, self.selected = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.logout()


def check(typ: str, data: Sequence[object], what: str) -> None:
    """A NO answer as an error (imaplib raises for BAD only)."""
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {_text(data)}")


def _text(data: Sequence[object]) -> str:
    return " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data)[
        :200
    ]
