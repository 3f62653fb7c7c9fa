"""An aiosmtpd submission server that hands every accepted message to Dovecot's LMTP."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# aiosmtpd warns on every connection about the AUTH-without-TLS the loopback tests use.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass
class Submission:
    """What the relay saw of one message: who logged in, the envelope, over TLS or not."""

    login: str | None
    sender: str
    recipients: list[str]
    tls: bool


@dataclass
class _Relay:
    lmtp_port: int
    password: str
    submissions: list[Submission] = field(default_factory=list)

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password.decode() == self.password
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        sender = envelope.mail_from or ""
        # One LMTP transaction per recipient: LMTP answers per recipient after DATA, which
        # smtplib's sendmail does not expect. Delivered before "250", so tests need not wait.
        for recipient in envelope.rcpt_tos:
            with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=10) as lmtp:
                lmtp.sendmail(sender, [recipient], content)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.submissions.append(
            Submission(login, sender, list(envelope.rcpt_tos), session.ssl is not None)
        )
        return "250 OK delivered"


class SmtpRelay:
    """SMTP with AUTH PLAIN/LOGIN (required) and STARTTLS offered, on an ephemeral port."""

    def __init__(self, lmtp_port: int, password: str, tls: ssl.SSLContext) -> None:
        self._relay = _Relay(lmtp_port, password)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

        def factory() -> SMTP:
            with warnings.catch_warnings():  # AUTH without TLS: on purpose, for loopback tests
                warnings.simplefilter("ignore")
                return self._smtp(tls)

        async def serve() -> asyncio.Server:
            return await self._loop.create_server(factory, "127.0.0.1", 0)

        self._server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _smtp(self, tls: ssl.SSLContext) -> SMTP:
        return SMTP(
            self._relay,
            hostname="relay.example.test",
            tls_context=tls,
            auth_required=True,
            auth_require_tls=False,  # the plain tests log in without TLS on loopback
            authenticator=self._relay.authenticate,
            timeout=30,
        )

    @property
    def submissions(self) -> list[Submission]:
        return self._relay.submissions

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
