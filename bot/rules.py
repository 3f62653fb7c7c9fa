"""Everything a council may edit (config, procedure, classification, commands, templates)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config.listing import Listing
from bot.config.rules_cache import cached_rules, keep_rules, rules_of

if TYPE_CHECKING:  # imported where used: `cases` and `status` need neither letters nor commands
    from bot.classify import ClassificationRules
    from bot.commands import CommandPolicy
    from bot.config import Config
    from bot.letters.render import Renderer
    from bot.procedure.engine import Engine
    from bot.procedure.model import Procedure

Part = Any  # a checked part, or a function that gives it when first asked for


class Rules:
    """Everything a council may edit, loaded and checked together.

    The classification rules, the command policy and the templates are opened when first
    used: the read-only views never use them, and start faster without them.
    """

    def __init__(
        self,
        config: Config,
        procedure: Procedure,
        classification: ClassificationRules | Callable[[], ClassificationRules],
        policy: CommandPolicy | Callable[[], CommandPolicy],
        renderer: Renderer | None = None,
    ) -> None:
        self.config = config
        self.procedure = procedure
        self._parts: dict[str, Part] = {"classification": classification, "policy": policy}
        self._renderer = renderer
        self.kept = False  # whether these rules are kept for the next start

    def _part(self, name: str) -> Any:
        value = self._parts[name]
        if callable(value):
            value = self._parts[name] = value()
        return value

    @property
    def classification(self) -> ClassificationRules:
        rules: ClassificationRules = self._part("classification")
        return rules

    @property
    def policy(self) -> CommandPolicy:
        policy: CommandPolicy = self._part("policy")
        return policy

    @property
    def renderer(self) -> Renderer:
        """The letter templates, opened when first needed."""
        if self._renderer is None:
            from bot.letters.render import Renderer

            self._renderer = Renderer(self.config.templates)
        return self._renderer

    @classmethod
    def load(cls, config_path: Path, parts: tuple[bytes, ...] | None = None) -> Rules:
        """The rules as checked last time when no file they come from (nor the code that reads
        them) has changed since (see `keep`); else read and checked now. `parts`: the cache
        as the caller already found it valid (`cached_parts`), not looked for again."""
        cached = rules_of(parts) if parts is not None else cached_rules(config_path)
        if cached is not None:
            rules = cls(*cached)
            rules.kept = True
            return rules
        return cls.check(config_path)

    def keep(self, config_path: Path) -> None:
        """Keep these rules, once checked, in the store's folder for the next start. Only the
        bot itself does this: the read-only commands write nothing."""
        if not self.kept:
            parts = (self.config, self.procedure, self.classification, self.policy, self.listing)
            keep_rules(config_path, self.config, parts)
            self.kept = True

    @classmethod
    def check(cls, config_path: Path) -> Rules:
        """Read every file and check it: a mistake names the file, the line and the fix."""
        from bot.classify import load_classification
        from bot.commands import load_command_policy
        from bot.config import load_config
        from bot.letters.render import Renderer
        from bot.procedure.loader import load_procedure

        config = load_config(config_path)
        renderer = Renderer(config.templates)
        procedure = load_procedure(config.rules.procedure, renderer.names())
        classification = load_classification(
            config.rules.classification, stages=set(procedure.stages)
        )
        policy = load_command_policy(config.rules.commands)
        return cls(config, procedure, classification, policy, renderer)

    @property
    def listing(self) -> Listing:
        """What `cases` shows of these rules, as plain data (kept with them by `keep`)."""
        return Listing.of(self.config, self.procedure)

    def engine(self) -> Engine:
        from bot.procedure.deadlines import Times
        from bot.procedure.engine import Engine
        from bot.procedure.workdays import WorkCalendar

        config = self.config
        calendar = WorkCalendar(config.closure_days_map(), config.close_of_business_time())
        reminders = time.fromisoformat(self.procedure.settings.internal_reminder_time)
        return Engine(self.procedure, calendar, Times(config.letters_time(), reminders))
