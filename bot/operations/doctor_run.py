"""`doctor` put together: config first, then every other check, each on its own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path

from bot.clock import LONDON, Clock
from bot.config import Config
from bot.config.yamlsource import ProblemsError
from bot.letters.document import letter_problems
from bot.mailbox.base import Mailbox
from bot.operations.doctor import (
    Finding,
    check_dashboard,
    check_holidays,
    check_secrets,
    run_checks,
)
from bot.operations.doctor_mailbox import check_mailbox
from bot.operations.doctor_store import check_store
from bot.rules import Rules


def probe_addresses(config: Config) -> list[str]:
    """Mailboxes the bot must not be able to read: the team's, and the first staff member's."""
    own = config.mailbox.address.lower()
    candidates = [config.council.team_address, *(p.email for p in config.people[:1])]
    return [a for a in dict.fromkeys(c.lower() for c in candidates) if a != own]


def diagnose(
    config_path: Path,
    clock: Clock,
    open_mailbox: Callable[[Config, Clock], Mailbox],
    probes: list[str] | None = None,
) -> list[Finding]:
    """Every check doctor makes; the mailbox is opened through `open_mailbox` (app.py's).
    `probes` are mailboxes the bot must not reach (default: `probe_addresses`)."""
    try:
        rules = Rules.load(config_path)
    except ProblemsError as err:
        return [
            Finding("config", "fail", str(problem), "edit the file at that line")
            for problem in err.problems
        ]
    except OSError as err:
        return [Finding("config", "fail", f"cannot read {config_path}: {err}", "check the path")]
    config = rules.config
    now = clock.now()
    # O365 logs every refused call at ERROR; here refusals are findings, reported below.
    logging.getLogger("O365").setLevel(logging.CRITICAL)
    since = datetime.combine(config.start_date, time(0), LONDON)

    def check_mail() -> list[Finding]:
        mailbox = open_mailbox(config, clock)
        return check_mailbox(mailbox, since, now, probes or probe_addresses(config))

    def check_letters() -> list[Finding]:
        problems = letter_problems(config, rules.renderer)
        if not problems:
            return [Finding("letters", "ok", "a sample PDF letter was made on the letterhead")]
        return [Finding("letters", "fail", p.message, p.fix) for p in problems]

    findings = [Finding("config", "ok", f"{config_path} and its rules and templates are valid")]
    return findings + run_checks(
        [
            lambda: check_secrets(config),
            lambda: check_store(config.store.directory),
            check_mail,
            lambda: check_dashboard(config),
            lambda: check_holidays(now.date()),
            check_letters,
        ]
    )
