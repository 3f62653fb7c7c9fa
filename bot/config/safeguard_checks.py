"""Checks that the safety settings fit the mail system: forged commands and useless alerts."""

from __future__ import annotations

from bot.config.model import Config
from bot.config.yamlsource import Problem, YamlDoc


def safeguard_problems(config: Config, doc: YamlDoc) -> list[Problem]:
    """Settings that would let a forger command the bot, or make an alert fire on every poll."""
    return _authentication(config, doc) + _poll_alert(config, doc)


def _authentication(config: Config, doc: YamlDoc) -> list[Problem]:
    security = config.security
    backend = config.mailbox.backend
    if backend == "local":  # a folder on this machine: no mail server stamps anything
        return []
    if not security.require_authenticated_commands:
        return [
            doc.problem(
                ("security", "require_authenticated_commands"),
                f"with backend '{backend}' anyone who writes a council From address could "
                "give the bot commands",
                "set require_authenticated_commands: true; false is only for the local "
                "demo mailbox",
            )
        ]
    if not security.trusted_authserv_ids and not security.microsoft_365_internal:
        where = ("security",) if doc.has(("security",)) else ("mailbox", "backend")
        return [
            doc.problem(
                where,
                "no mail could ever be authenticated as the council's, so every command "
                "would be quarantined",
                "under security, set microsoft_365_internal: true when the mailbox is in "
                "Exchange Online or Exchange, or list your own mail server's name in "
                "trusted_authserv_ids",
            )
        ]
    return []


def _poll_alert(config: Config, doc: YamlDoc) -> list[Problem]:
    alert_seconds = config.monitoring.poll_failure_alert_minutes * 60
    if alert_seconds > config.poll_interval_seconds:
        return []
    return [
        doc.problem(
            ("monitoring", "poll_failure_alert_minutes"),
            f"{config.monitoring.poll_failure_alert_minutes} minutes is not longer than the "
            f"poll interval ({config.poll_interval_seconds} s), so every poll would alert",
            "make it several poll intervals, like 30",
        )
    ]
