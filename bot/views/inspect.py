"""`inspect`: how the bot reads one email file, as JSON; changes nothing."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from bot.classify.reading import read_mail
from bot.procedure.case import Case
from bot.views.reader import Reader


def _no_case(reference: str) -> Case | None:
    return None


def inspect_file(reader: Reader, file: Path) -> int:
    """Print, as JSON, how the bot reads the email in `file`; changes nothing."""
    rules = reader.rules
    raw = file.read_bytes()
    received = datetime.fromtimestamp(file.stat().st_mtime, rules.engine().calendar.zone)
    reading = read_mail(
        raw,
        received,
        config=rules.config,
        rules=rules.classification,
        get_case=reader.cases.get if reader.cases else _no_case,
        participant_cases=reader.cases.participants if reader.cases else {},
    )
    print(json.dumps(reading.to_json(), indent=2, ensure_ascii=False))
    return 0
