"""`doctor`: each thing that can be wrong before the first real email, and what to do about it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Literal

import holidays
from pydantic import BaseModel

from bot.classify.reading import LOOP_HEADER
from bot.config import Config

Verdict = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    """One check's verdict; `fix` says what to do when it is not ok."""

    check: str
    verdict: Verdict
    detail: str
    fix: str = ""

    def render(self) -> str:
        mark = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[self.verdict]
        line = f"{mark}  {self.check}: {self.detail}"
        return f"{line}\n      fix: {self.fix}" if self.fix and self.verdict != "ok" else line


def secret_names(model: BaseModel, where: str = "") -> Iterator[tuple[str, str]]:
    """(setting, environment variable) for every `*_env` setting the config sets."""
    for name in type(model).model_fields:
        value: Any = getattr(model, name)
        setting = f"{where}.{name}" if where else name
        if isinstance(value, BaseModel):
            yield from secret_names(value, setting)
        elif name.endswith("_env") and isinstance(value, str) and value:
            yield setting, value


def check_secrets(config: Config, environ: dict[str, str] | None = None) -> list[Finding]:
    env = os.environ if environ is None else environ
    found = []
    for setting, variable in secret_names(config):
        if env.get(variable):
            found.append(Finding("secret", "ok", f"{variable} is set ({setting})"))
        else:
            found.append(
                Finding(
                    "secret",
                    "fail",
                    f"{variable} is not set; {setting} names it",
                    f"set {variable} in the service's environment file (never in config.yaml)",
                )
            )
    return found or [Finding("secret", "ok", "the configuration names no secrets")]


def check_holidays(today: date) -> list[Finding]:
    """The bank holiday data must reach a year past today, or deadlines would count them."""
    next_year = today.year + 1
    known = holidays.country_holidays("GB", subdiv="ENG", years=next_year)
    if len(known) >= 8 and any(day.month == 12 and day.day >= 25 for day in known):
        return [Finding("bank holidays", "ok", f"{len(known)} known for {next_year} (England)")]
    return [
        Finding(
            "bank holidays",
            "fail",
            f"the holidays package knows {len(known)} bank holiday(s) for {next_year}",
            "upgrade the holidays package (pip install -U holidays) and restart the bot",
        )
    ]


def check_dashboard(config: Config, environ: dict[str, str] | None = None) -> list[Finding]:
    env = os.environ if environ is None else environ
    sign_in = config.dashboard.sign_in
    if sign_in is None:
        return [
            Finding(
                "dashboard",
                "ok",
                f"no sign-in configured: the dashboard serves {config.dashboard.bind_host} only",
            )
        ]
    missing = [
        name
        for name in (sign_in.client_secret_env, sign_in.session_secret_env)
        if not env.get(name)
    ]
    if missing:
        return [
            Finding(
                "dashboard",
                "fail",
                f"sign-in is configured but {', '.join(missing)} is not set",
                "set the dashboard's client secret and session secret in its environment file",
            )
        ]
    return [
        Finding(
            "dashboard",
            "ok",
            f"sign-in with Entra ID (tenant {sign_in.tenant_id}), returning to "
            f"{sign_in.redirect_url}",
        )
    ]


def check_email(address: str, now: datetime) -> tuple[bytes, str]:
    """The email doctor sends the shared mailbox from itself, and its Message-ID; marked as the
    bot's own, so the bot files it when it arrives instead of reading it as a concern."""
    message = EmailMessage()
    message["From"] = message["To"] = address
    message["Subject"] = "Contract concerns bot: doctor's send check (no action needed)"
    message["Date"] = format_datetime(now)
    message_id = make_msgid("doctor", address.split("@")[-1])
    message["Message-ID"] = message_id
    message[LOOP_HEADER] = "doctor"
    message.set_content("Sent by `python -m bot doctor` to check the bot may send mail.")
    return message.as_bytes(), message_id.strip("<>")


def run_checks(checks: list[Callable[[], list[Finding]]]) -> list[Finding]:
    """Every check, each on its own: one that breaks is a finding, never the end of the run."""
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check())
        except Exception as err:  # a check that breaks says so and the others still run
            name = getattr(check, "__name__", "check").removeprefix("check_")
            findings.append(
                Finding(name, "fail", f"the check itself failed: {type(err).__name__}: {err}")
            )
    return findings


def report(findings: list[Finding]) -> tuple[str, int]:
    """The text to print and the exit status: 1 when anything failed."""
    failed = sum(1 for f in findings if f.verdict == "fail")
    warned = sum(1 for f in findings if f.verdict == "warn")
    summary = (
        f"{failed} problem(s) to fix, {warned} warning(s)"
        if failed or warned
        else "everything checked is ready"
    )
    return "\n".join([*(f.render() for f in findings), summary]), 1 if failed else 0
