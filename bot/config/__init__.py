"""The bot's configuration: validated models, lookups, and a loader naming file and line."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config.dashboard_settings import DashboardSettings, SignInSettings
    from bot.config.directory import ROLES, Contact, Person, Provider, Role, Teams
    from bot.config.letter_settings import LetterSettings
    from bot.config.loader import config_from_doc, load_config
    from bot.config.mailbox_settings import (
        EwsMailbox,
        GraphMailbox,
        ImapMailbox,
        LocalMailbox,
        MailboxSettings,
    )
    from bot.config.model import Config
    from bot.config.safeguards import MonitoringSettings, RetentionSettings, SecuritySettings
    from bot.config.settings import (
        ClosureDay,
        Council,
        Limits,
        RulesFiles,
        StoreSettings,
        TimeSettings,
    )
    from bot.config.yamlsource import Problem, ProblemsError

# Each name's module, imported when the name is first used: a command that reads checked rules
# from the cache needs the models, never the loader and its checks.
_MODULES = {
    "DashboardSettings": "dashboard_settings",
    "SignInSettings": "dashboard_settings",
    "ROLES": "directory",
    "Contact": "directory",
    "Person": "directory",
    "Provider": "directory",
    "Role": "directory",
    "Teams": "directory",
    "LetterSettings": "letter_settings",
    "config_from_doc": "loader",
    "load_config": "loader",
    "EwsMailbox": "mailbox_settings",
    "GraphMailbox": "mailbox_settings",
    "ImapMailbox": "mailbox_settings",
    "LocalMailbox": "mailbox_settings",
    "MailboxSettings": "mailbox_settings",
    "Config": "model",
    "MonitoringSettings": "safeguards",
    "RetentionSettings": "safeguards",
    "SecuritySettings": "safeguards",
    "ClosureDay": "settings",
    "Council": "settings",
    "Limits": "settings",
    "RulesFiles": "settings",
    "StoreSettings": "settings",
    "TimeSettings": "settings",
    "Problem": "yamlsource",
    "ProblemsError": "yamlsource",
}

__all__ = [
    "ROLES",
    "ClosureDay",
    "Config",
    "Contact",
    "Council",
    "DashboardSettings",
    "EwsMailbox",
    "GraphMailbox",
    "ImapMailbox",
    "LetterSettings",
    "Limits",
    "LocalMailbox",
    "MailboxSettings",
    "MonitoringSettings",
    "Person",
    "Problem",
    "ProblemsError",
    "Provider",
    "RetentionSettings",
    "Role",
    "RulesFiles",
    "SecuritySettings",
    "SignInSettings",
    "StoreSettings",
    "Teams",
    "TimeSettings",
    "config_from_doc",
    "load_config",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'bot.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"bot.config.{module}"), name)
    globals()[name] = value
    return value
