"""Web security for every response: headers, where the dashboard may listen, trusted hosts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import DashboardSettings
from bot.config.dashboard_checks import bind_refusal

# Everything comes from the dashboard itself; no inline script or style, no frames, no plugins.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
# A page may set its own value for these (an attachment download, a cacheable stylesheet).
_DEFAULTS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Cache-Control", "no-store"),  # case pages hold personal data: keep them out of caches
)
_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000")


class BindRefused(Exception):
    """The dashboard was asked to listen where it must not; the message says why."""


def check_bind(host: str, settings: DashboardSettings) -> None:
    """Refuse to listen on `host` unless it is this machine only, or sign-in is configured
    (and served over https). Call it before starting the server."""
    refusal = bind_refusal(host, settings)
    if refusal is not None:
        raise BindRefused(str(refusal))


def server_options(host: str, port: int, settings: DashboardSettings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run, once check_bind allows `host`. No access log: it
    would record each client's address and the one-time sign-in codes in URLs."""
    check_bind(host, settings)
    return {"host": host, "port": port, "access_log": False, "server_header": False}


def allowed_hosts(settings: DashboardSettings) -> list[str]:
    """Host headers to accept: this machine, and the public name in the sign-in address.

    Checking the Host header stops DNS rebinding, where another site's page reaches a
    dashboard on 127.0.0.1 through a name that resolves to this machine.
    """
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"]
    if settings.bind_host not in hosts and settings.bind_host not in ("0.0.0.0", "::"):
        hosts.append(settings.bind_host)
    if settings.sign_in is not None:
        name = urlsplit(settings.sign_in.redirect_url).hostname
        if name and name not in hosts:
            hosts.append(name)
    return hosts


class SecurityHeaders:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.always = _ALWAYS + ((_HSTS,) if https else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _DEFAULTS:
                    if name not in headers:
                        headers[name] = value
                for name, value in self.always:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
