"""Sign-in routes: /sign-in, /auth/callback, /sign-out, /signed-out (Entra ID, code flow + PKCE)."""

from __future__ import annotations

import logging
import os
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.clock import Clock
from bot.config import SignInSettings
from bot.views.web.auth_pages import AuthPage, Render, plain_render
from bot.views.web.csrf import csrf_token
from bot.views.web.gate import NEXT_KEY, SIGN_IN_PATH, USER_KEY, safe_next, signed_in_user
from bot.views.web.idp import EntraSignIn, SignInUnavailable
from bot.views.web.staff import StaffDirectory
from bot.views.web.tokens import SignInFailed

log = logging.getLogger(__name__)

FLOWS_KEY = "flows"  # sign-ins under way, by state: a few, so two open tabs both work
_MAX_FLOWS = 3


class SignInConfigError(Exception):
    """Sign-in is configured but cannot work as it stands (a secret is missing)."""


def env_secret(variable: str, key: str, minimum: int = 1) -> str:
    value = os.environ.get(variable, "")
    if len(value) < minimum:
        need = f"at least {minimum} characters" if minimum > 1 else "the value"
        raise SignInConfigError(
            f"the environment variable {variable} (named by dashboard.sign_in.{key}) must "
            f"hold {need}: set it before starting the dashboard"
        )
    return value


def auth_routes(
    settings: SignInSettings,
    directory: StaffDirectory,
    clock: Clock,
    *,
    render: Render = plain_render,
    client: EntraSignIn | None = None,
) -> list[Route]:
    """The sign-in routes; the dashboard's middleware must include the session and the gate."""
    if client is None:
        client = EntraSignIn(settings, env_secret(settings.client_secret_env, "client_secret_env"))
    idp = client

    def unavailable(request: Request) -> Response:
        page = AuthPage(
            "unavailable",
            "Sign-in is not available",
            ("The dashboard cannot reach Microsoft sign-in just now.", "Try again shortly."),
            link_href=SIGN_IN_PATH,
            link_text="Try again",
        )
        return render(request, page, 503)

    def sign_in(request: Request) -> Response:
        session = request.session
        if signed_in_user(session, directory, clock, settings.session_hours) is not None:
            return RedirectResponse(safe_next(session.pop(NEXT_KEY, "/")), 303)
        try:
            flow = idp.begin()
        except SignInUnavailable as exc:
            log.error("sign-in unavailable: %s", exc)
            return unavailable(request)
        auth_uri = flow.pop("auth_uri")
        flows: dict[str, Any] = dict(session.get(FLOWS_KEY) or {})
        flows[flow["state"]] = flow
        session[FLOWS_KEY] = dict(list(flows.items())[-_MAX_FLOWS:])
        return RedirectResponse(auth_uri, 303)

    def callback(request: Request) -> Response:
        session = request.session
        response = dict(request.query_params)
        flows: dict[str, Any] = dict(session.get(FLOWS_KEY) or {})
        flow = flows.pop(response.get("state", ""), None)
        session[FLOWS_KEY] = flows
        if not isinstance(flow, dict):
            if signed_in_user(session, directory, clock, settings.session_hours) is not None:
                return RedirectResponse("/", 303)  # another tab's sign-in got here first
            log.warning("sign-in refused: the response's state is not one this browser started")
            page = AuthPage(
                "failed",
                "Sign-in could not be completed",
                ("This sign-in was not started here, or it has already been used.",),
                link_href=SIGN_IN_PATH,
                link_text="Sign in again",
            )
            return render(request, page, 400)
        try:
            addresses = idp.finish(flow, response, clock.now())
        except SignInUnavailable as exc:
            log.error("sign-in unavailable: %s", exc)
            return unavailable(request)
        except SignInFailed as exc:
            log.warning("sign-in refused: %s", exc.reason)
            page = AuthPage(
                "failed",
                "Sign-in could not be completed",
                ("Microsoft sign-in did not confirm who you are, so you are not signed in.",),
                link_href=SIGN_IN_PATH,
                link_text="Sign in again",
            )
            return render(request, page, 403)
        member = next((m for m in map(directory.find, addresses) if m is not None), None)
        if member is None:
            log.warning("sign-in refused: not a member of staff in the directory")
            shown = addresses[0] if addresses else "an account with no email address"
            page = AuthPage(
                "refused",
                "You cannot use this dashboard yet",
                (
                    f"You signed in to Microsoft as {shown}, but that address is not in the "
                    "dashboard's staff directory.",
                    directory.ask,
                ),
            )
            return render(request, page, 403)
        back = safe_next(session.get(NEXT_KEY, "/"))
        session.clear()  # a fresh session (and CSRF token) for the signed-in person
        session[USER_KEY] = {"id": member.id, "address": member.address, "at": _iso(clock)}
        log.info("sign-in accepted for a member of staff")
        return RedirectResponse(back, 303)

    def sign_out_form(request: Request) -> Response:
        page = AuthPage(
            "sign-out",
            "Sign out of the dashboard",
            (),
            button_action="/sign-out",
            button_text="Sign out",
            csrf_token=csrf_token(request),
        )
        return render(request, page, 200)

    def sign_out(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/signed-out", 303)

    def signed_out(request: Request) -> Response:
        page = AuthPage(
            "signed-out",
            "You have signed out",
            (
                "You have signed out of the dashboard. You may still be signed in to other "
                "Microsoft 365 services in this browser.",
            ),
            link_href=SIGN_IN_PATH,
            link_text="Sign in again",
        )
        return render(request, page, 200)

    return [
        Route(SIGN_IN_PATH, sign_in, methods=["GET"], name="sign_in"),
        Route("/auth/callback", callback, methods=["GET"], name="auth_callback"),
        Route("/sign-out", sign_out_form, methods=["GET"], name="sign_out_form"),
        Route("/sign-out", sign_out, methods=["POST"], name="sign_out"),
        Route("/signed-out", signed_out, methods=["GET"], name="signed_out"),
    ]


def _iso(clock: Clock) -> str:
    return clock.now().isoformat()
