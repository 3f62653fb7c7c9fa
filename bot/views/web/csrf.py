"""Cross-site request forgery: a token kept in the session that every form must send back."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.views.web.auth_pages import AuthPage, Render, plain_render

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
SESSION_KEY = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 2 * 1024 * 1024  # the dashboard's forms are short; uploads are not taken


def csrf_token(request: Request) -> str:
    """The session's token for hidden form fields, made on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def csrf_field(request: Request) -> Markup:
    """`<input type="hidden" name="csrf_token" value="...">` for a template: {{ csrf_field }}."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, csrf_token(request)
    )


def token_matches(session: Mapping[str, Any], submitted: object) -> bool:
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


class CSRFMiddleware:
    """Refuses (403) every POST, PUT, PATCH or DELETE without the session's token in its form,
    or sent from another site; pages need not check it themselves.

    Sits inside the session middleware. The body is read once here and replayed to the page.
    """

    def __init__(self, app: ASGIApp, render: Render = plain_render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await PlainTextResponse("The form is too large.", 413)(scope, receive, send)
            return
        request = Request(scope, _replay(body))
        if not await self._allowed(request):
            page = AuthPage(
                "form-expired",
                "The form could not be accepted",
                (
                    "It had expired, or it did not come from this dashboard. Nothing was "
                    "changed.",
                    "Go back, reload the page and try again.",
                ),
                link_href="/",
                link_text="Go to the dashboard",
            )
            await self.render(request, page, 403)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _allowed(self, request: Request) -> bool:
        # Browsers say where a request comes from; a form on another site is refused even
        # before its token is looked at.
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            log.warning("form refused: sent from another site")
            return False
        try:
            form = await request.form()
        except Exception:  # malformed bodies are refused like forgeries, never half-read
            log.warning("form refused: unreadable body")
            return False
        try:
            submitted = form.get(CSRF_FIELD)
        finally:
            await form.close()
        if not token_matches(request.session, submitted):
            log.warning("form refused: missing or wrong CSRF token")
            return False
        return True


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, then: Receive | None = None) -> Receive:
    """The body already read, then the client's own messages (so a disconnect is still seen)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
