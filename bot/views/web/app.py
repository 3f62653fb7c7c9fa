"""The dashboard application factory: its pages, actions and stylesheet behind sign-in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.clock import Clock
from bot.rules import Rules
from bot.views.web import (
    actions,
    pages_case,
    pages_cases,
    pages_overview,
    pages_reports,
    pages_triage,
)
from bot.views.web.idp import EntraSignIn
from bot.views.web.render import STATIC
from bot.views.web.secured import secured_app
from bot.views.web.site import Site
from bot.views.web.staff import staff_directory

log = logging.getLogger(__name__)


def create_app(
    config: Path | Site,
    clock: Clock,
    *,
    local_person: str | None = None,
    backlog: Callable[[], int | None] | None = None,
    client: EntraSignIn | None = None,
) -> Starlette:
    """The dashboard for the workspace of `config` (a config.yaml, or parts already built),
    reading the store read-only; every `now` from `clock`."""
    site = config if isinstance(config, Site) else Site.build(Rules.load(config), clock, backlog)
    routes: list[BaseRoute] = [
        *pages_cases.routes(site),
        *actions.routes(site),
        *pages_case.routes(site),
        *pages_triage.routes(site),
        *pages_overview.routes(site),
        *pages_reports.routes(site),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return Response("Method not allowed", 405)
        return site.not_found(request)

    async def failed(request: Request, exc: Exception) -> Response:
        log.error("page failed: %s", type(exc).__name__)  # no details: they may hold a name
        return site.pages.render(
            request,
            "not_found.html",
            500,
            heading="Sorry, there is a problem with the dashboard",
            paragraphs=("Try again later. Nothing you sent was lost or half done.",),
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        site.data.close()

    app = secured_app(
        routes,
        site.rules.config.dashboard,
        staff_directory(site.rules.config),
        clock,
        render=site.pages.auth_page,
        local_person=local_person,
        client=client,
        exception_handlers={404: not_found, 405: not_found, 500: failed},
        lifespan=lifespan,
    )
    app.state.site = site
    return app
