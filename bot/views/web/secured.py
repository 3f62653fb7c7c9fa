"""The dashboard's protective layers in order, and a Starlette app with them around its pages."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute

from bot.clock import Clock
from bot.config import DashboardSettings
from bot.views.web.auth import auth_routes, env_secret
from bot.views.web.auth_pages import Render, plain_render
from bot.views.web.csrf import CSRFMiddleware
from bot.views.web.gate import SignInGate
from bot.views.web.idp import EntraSignIn
from bot.views.web.security import SecurityHeaders, allowed_hosts
from bot.views.web.staff import StaffDirectory, local_operator

SESSION_SECRET_MIN = 32


def dashboard_middleware(
    dashboard: DashboardSettings,
    directory: StaffDirectory,
    clock: Clock,
    *,
    render: Render = plain_render,
    local_person: str | None = None,
) -> list[Middleware]:
    """Outermost first: headers, trusted hosts, session cookie, sign-in gate, CSRF check.

    Without dashboard.sign_in everyone is the local operator (or `local_person` from the
    directory), and the session key is made afresh at each start.
    """
    sign_in = dashboard.sign_in
    https = sign_in is not None and sign_in.secure_cookies()
    if sign_in is not None:
        key = env_secret(sign_in.session_secret_env, "session_secret_env", SESSION_SECRET_MIN)
        gate: dict[str, Any] = {"sign_in": sign_in}
    else:
        key = secrets.token_urlsafe(32)
        gate = {"sign_in": None, "local_user": local_operator(directory, local_person)}
    return [
        Middleware(SecurityHeaders, https=https),
        Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(dashboard)),
        Middleware(
            SessionMiddleware,
            secret_key=key,
            # __Host-: the browser keeps it to this exact site, https and path / only.
            session_cookie="__Host-ccbot-session" if https else "ccbot-session",
            max_age=None,  # a browser-session cookie; the gate ends sign-ins by the clock
            same_site="lax",  # lax, not strict: the return from Microsoft must carry it
            https_only=https,
        ),
        Middleware(SignInGate, directory=directory, clock=clock, render=render, **gate),
        Middleware(CSRFMiddleware, render=render),
    ]


def secured_app(
    pages: Sequence[BaseRoute],
    dashboard: DashboardSettings,
    directory: StaffDirectory,
    clock: Clock,
    *,
    render: Render = plain_render,
    local_person: str | None = None,
    client: EntraSignIn | None = None,
    **starlette: Any,
) -> Starlette:
    """A Starlette app serving `pages` behind sign-in (when configured) and every safeguard."""
    routes: list[BaseRoute] = []
    if dashboard.sign_in is not None:
        routes += auth_routes(dashboard.sign_in, directory, clock, render=render, client=client)
    routes += pages
    middleware = dashboard_middleware(
        dashboard, directory, clock, render=render, local_person=local_person
    )
    return Starlette(routes=routes, middleware=middleware, **starlette)
