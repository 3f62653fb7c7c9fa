"""Config sections that keep the bot safe to run: who may command it, self-alerts, retention."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.config.fields import AuthservId
from bot.config.mailbox_settings import STRICT


class SecuritySettings(BaseModel):
    """Which mail is believed to come from the council itself, so its commands are obeyed."""

    model_config = STRICT
    trusted_authserv_ids: list[AuthservId] = Field(
        default=[],
        description=(
            "Our own mail servers, by the name they write in Authentication-Results; "
            "only their results are believed"
        ),
    )
    # Off by default: on a mail system that is not Exchange nobody strips this header, so
    # anyone could write it.
    microsoft_365_internal: bool = Field(
        default=False,
        description=(
            "Believe Exchange's X-MS-Exchange-Organization-AuthAs: Internal "
            "(only when the mailbox is in Exchange Online or Exchange)"
        ),
    )
    require_authenticated_commands: bool = Field(
        default=True,
        description=(
            "Obey commands only from authenticated council mail; false only for the local "
            "demo or test mailbox"
        ),
    )


class MonitoringSettings(BaseModel):
    """When the bot emails the admin contacts about itself."""

    model_config = STRICT
    poll_failure_alert_minutes: int = Field(
        default=30, gt=0, description="Alert when polling the mailbox has failed this long"
    )
    poll_stuck_minutes: int = Field(
        default=15,
        gt=0,
        description=(
            "Alert when one poll has run this long (the watchdog; systemd WatchdogSec "
            "restarts the bot too)"
        ),
    )
    outbox_stuck_minutes: int = Field(
        default=60, gt=0, description="Alert when a letter has waited this long to go out"
    )
    triage_alert_working_days: int = Field(
        default=2,
        gt=0,
        description="Alert when an item has waited in triage this many working days",
    )


class RetentionSettings(BaseModel):
    """How long personal data is kept."""

    model_config = STRICT
    raw_mail_days_after_close: int = Field(
        default=730,
        gt=0,
        description="Days after a case closes before its raw emails are removed",
    )
