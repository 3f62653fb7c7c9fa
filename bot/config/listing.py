"""What `cases` needs of the rules, in plain types kept with the rules cache: no models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Listing:
    """The store's folder, the providers' names, each stage's step and title, and the close of
    business overdue-ness is judged at. Checked rules make it (`Rules.listing`); the list of
    cases reads it from the cache without importing pydantic or the models (a third of the
    time a person waited for `cases`)."""

    store: Path
    providers: dict[str, str]
    stages: dict[str, tuple[str, str]]
    close_of_business: time

    @classmethod
    def of(cls, config: Any, procedure: Any) -> Listing:
        """From a checked Config and Procedure."""
        return cls(
            store=Path(config.store.directory),
            providers={p.id: p.name for p in config.providers},
            stages={name: (s.step, s.title) for name, s in procedure.stages.items()},
            close_of_business=config.close_of_business_time(),
        )
