"""SMTP submission for the IMAP backend: implicit TLS or STARTTLS, AUTH, with a timeout."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field

from bot.mailbox.base import MailboxAuthError, MailboxError, MailboxUnavailable
from bot.mailbox.imap_transport import Security, refuse_plain_off_loopback

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where and how to submit mail; no username means the server needs no login."""

    host: str
    port: int
    security: Security
    username: str | None
    password: str = field(repr=False, default="")
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        refuse_plain_off_loopback("SMTP", self.host, self.security)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def submit(endpoint: SmtpEndpoint, message: bytes, sender: str, recipients: list[str]) -> None:
    """Hand one message to the submission server; raises unless at least one recipient took it."""
    ep = endpoint
    context = ep.ssl_context or ssl.create_default_context()
    try:
        smtp = (
            smtplib.SMTP_SSL(ep.host, ep.port, timeout=ep.timeout, context=context)
            if ep.security == "ssl"
            else smtplib.SMTP(ep.host, ep.port, timeout=ep.timeout)
        )
        with smtp:
            if ep.security == "starttls":
                smtp.starttls(context=context)  # raises when not offered: never send in clear
            if ep.username:
                smtp.login(ep.username, ep.password)
            refused = smtp.sendmail(sender, recipients, _crlf(message))
    except smtplib.SMTPAuthenticationError as err:
        raise MailboxAuthError(
            f"SMTP login as {ep.username} on {ep.where} was refused: {err.smtp_code}"
        ) from err
    except smtplib.SMTPRecipientsRefused as err:
        codes = sorted({code for code, _ in err.recipients.values()})
        raise MailboxError(
            f"SMTP server {ep.where} refused all {len(recipients)} recipients ({codes})"
        ) from err
    except smtplib.SMTPNotSupportedError as err:
        raise MailboxError(f"SMTP server {ep.where} does not offer {err}") from err
    except smtplib.SMTPResponseException as err:
        kind = MailboxUnavailable if err.smtp_code < 500 else MailboxError  # 4xx: try later
        raise kind(f"SMTP submission to {ep.where} failed: {err.smtp_code}") from err
    except (smtplib.SMTPException, OSError) as err:
        raise MailboxUnavailable(f"SMTP submission to {ep.where} failed: {err}") from err
    if refused:
        # Sent to the others already: raising would send it to them twice on the retry.
        log.warning(
            "SMTP server %s refused %d of %d recipients", ep.where, len(refused), len(recipients)
        )


def _crlf(message: bytes) -> bytes:
    """SMTP lines end in CRLF; servers refuse bare LF (it enables SMTP smuggling)."""
    return re.sub(rb"\r?\n", b"\r\n", message)
