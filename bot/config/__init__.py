"""The bot's configuration: validated models, lookups, and a loader naming file and line."""

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
from bot.config.settings import ClosureDay, Council, Limits, RulesFiles, StoreSettings, TimeSettings
from bot.config.yamlsource import Problem, ProblemsError

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
