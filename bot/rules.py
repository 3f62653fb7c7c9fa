"""Everything a council may edit (config, procedure, classification, commands, templates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path

from bot.classify import ClassificationRules, load_classification
from bot.commands import CommandPolicy, load_command_policy
from bot.config import Config, load_config
from bot.letters.render import Renderer
from bot.procedure.deadlines import Times
from bot.procedure.engine import Engine
from bot.procedure.loader import load_procedure
from bot.procedure.model import Procedure
from bot.procedure.workdays import WorkCalendar


@dataclass
class Rules:
    """Everything a council may edit, loaded and checked together."""

    config: Config
    procedure: Procedure
    classification: ClassificationRules
    policy: CommandPolicy
    renderer: Renderer

    @classmethod
    def load(cls, config_path: Path) -> Rules:
        config = load_config(config_path)
        renderer = Renderer(config.templates)
        procedure = load_procedure(config.rules.procedure, renderer.names())
        classification = load_classification(
            config.rules.classification, stages=set(procedure.stages)
        )
        policy = load_command_policy(config.rules.commands)
        return cls(config, procedure, classification, policy, renderer)

    def engine(self) -> Engine:
        config = self.config
        calendar = WorkCalendar(config.closure_days_map(), config.close_of_business_time())
        reminders = time.fromisoformat(self.procedure.settings.internal_reminder_time)
        return Engine(self.procedure, calendar, Times(config.letters_time(), reminders))
