"""`python -m bot web`: the dashboard under uvicorn, where check_bind allows it to listen."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from bot.clock import Clock
from bot.rules import Rules
from bot.views.web.app import create_app
from bot.views.web.auth import SignInConfigError
from bot.views.web.security import BindRefused, server_options
from bot.views.web.site import Site


def serve(
    config_path: Path,
    clock: Clock,
    *,
    host: str | None,
    port: int | None,
    local_person: str | None = None,
    backlog: Callable[[], int | None] | None = None,
) -> int:
    """Serve until Ctrl-C; 2 when the dashboard must not start here, saying why."""
    import uvicorn

    rules = Rules.load(config_path)  # a ProblemsError is reported by the command line
    dashboard = rules.config.dashboard
    host = host or dashboard.bind_host
    port = port or dashboard.port
    try:
        options = server_options(host, port, dashboard)
        app = create_app(Site.build(rules, clock, backlog), clock, local_person=local_person)
    except (BindRefused, SignInConfigError, ValueError) as err:
        print(f"The dashboard cannot start: {err}", file=sys.stderr)
        return 2
    where = f"[{host}]" if ":" in host else host
    print(
        f"dashboard for {rules.config.council.name} on http://{where}:{port}/ ; Ctrl-C stops",
        flush=True,
    )
    uvicorn.run(app, log_level="warning", **options)
    return 0
