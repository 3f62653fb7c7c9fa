"""Checks of the dashboard section that need more than one key: where it may listen."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.dashboard_settings import DashboardSettings
from bot.config.network import is_loopback
from bot.config.yamlsource import Problem, YamlDoc


@dataclass(frozen=True)
class BindRefusal:
    """Why the dashboard may not listen on an address, and what to do instead."""

    why: str
    fix: str

    def __str__(self) -> str:
        return f"{self.why}. Fix: {self.fix}"


def bind_refusal(host: str, dashboard: DashboardSettings) -> BindRefusal | None:
    """Why the dashboard must not listen on `host` with these settings, or None when it may."""
    if is_loopback(host):
        return None
    sign_in = dashboard.sign_in
    if sign_in is None:
        return BindRefusal(
            f"the dashboard has no sign-in configured, so it may only listen on 127.0.0.1: "
            f"on {host} anyone who can reach this machine would see every case",
            "add dashboard.sign_in (see docs/dashboard-sign-in.md), or listen on 127.0.0.1",
        )
    if not sign_in.secure_cookies():
        return BindRefusal(
            f"dashboard.sign_in.redirect_url is plain http, so on {host} sign-ins and "
            "session cookies would cross the network unencrypted",
            "serve the dashboard over https (redirect_url https://...), or listen on 127.0.0.1",
        )
    return None


def dashboard_problems(dashboard: DashboardSettings, doc: YamlDoc) -> list[Problem]:
    refusal = bind_refusal(dashboard.bind_host, dashboard)
    if refusal is None:
        return []
    return [doc.problem(("dashboard", "bind_host"), refusal.why, refusal.fix)]
