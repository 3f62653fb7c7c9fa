"""The gate in front of every page: who is signed in, as `request.state.user`, or off to sign in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.clock import Clock
from bot.config import SignInSettings
from bot.views.web.auth_pages import AuthPage, Render, plain_render
from bot.views.web.staff import StaffDirectory, StaffMember

SIGN_IN_PATH = "/sign-in"
# /healthz: for monitoring systems, which cannot sign in; it shows no personal data.
PUBLIC_PATHS = frozenset(
    {SIGN_IN_PATH, "/auth/callback", "/sign-out", "/signed-out", "/healthz"}
)
USER_KEY = "user"  # in the session: {"id", "address", "at"}; the rest comes from the directory
NEXT_KEY = "next"  # the page asked for before signing in


def signed_in_user(
    session: Mapping[str, Any], directory: StaffDirectory, clock: Clock, hours: int
) -> StaffMember | None:
    """The member of staff this session belongs to, if the sign-in is recent and they are
    still in the directory (taking someone out of config.yaml locks them out at once)."""
    data = session.get(USER_KEY)
    if not isinstance(data, dict):
        return None
    try:
        at = datetime.fromisoformat(str(data["at"]))
        person_id, address = str(data["id"]), str(data["address"])
    except (KeyError, ValueError):
        return None
    now = clock.now()
    if at.tzinfo is None or not now - timedelta(hours=hours) <= at <= now + timedelta(minutes=5):
        return None
    member = directory.find(address)
    return member if member is not None and member.id == person_id else None


def safe_next(path: object) -> str:
    """A path on this site to return to; anything else (another site, odd forms) is '/'."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return "/"
    return path if "\\" not in path and all(c.isprintable() for c in path) else "/"


class SignInGate:
    """Puts the person on `request.state.user`; without one, a page request goes to /sign-in
    (GET, HEAD) or is refused (403). With `local_user` given there is no sign-in at all."""

    def __init__(
        self,
        app: ASGIApp,
        directory: StaffDirectory,
        clock: Clock,
        sign_in: SignInSettings | None,
        local_user: StaffMember | None = None,
        public_prefixes: tuple[str, ...] = ("/static/",),
        render: Render = plain_render,
    ) -> None:
        if (sign_in is None) == (local_user is None):
            raise ValueError("give sign-in settings, or a local user for a dashboard without")
        self.app = app
        self.directory = directory
        self.clock = clock
        self.sign_in = sign_in
        self.local_user = local_user
        self.public_prefixes = public_prefixes
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        user = self.local_user
        if self.sign_in is not None:
            user = signed_in_user(
                request.session, self.directory, self.clock, self.sign_in.session_hours
            )
            if user is None:
                request.session.pop(USER_KEY, None)
        scope.setdefault("state", {})["user"] = user
        path = request.url.path
        if user is not None or path in PUBLIC_PATHS or path.startswith(self.public_prefixes):
            await self.app(scope, receive, send)
            return
        if request.method in ("GET", "HEAD"):
            # The path only, not the query: a search may hold a name, and this goes in a cookie.
            request.session[NEXT_KEY] = safe_next(path)
            await RedirectResponse(SIGN_IN_PATH, 303)(scope, receive, send)
            return
        page = AuthPage(
            "sign-in-needed",
            "Sign in to continue",
            ("Your sign-in has ended, so nothing was changed.",),
            link_href=SIGN_IN_PATH,
            link_text="Sign in",
        )
        await self.render(request, page, 403)(scope, receive, send)
