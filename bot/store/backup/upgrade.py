"""The automatic backup a newer bot makes of an older store before it migrates it."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.store.backup.layout import UPGRADE_FOLDER
from bot.store.backup.pack import pack
from bot.store.files import ensure_dir

log = logging.getLogger(__name__)


def backup_before_upgrade(directory: Path, found: int, to: int, now: datetime) -> Path:
    """Write `<store>/upgrade-backups/schema<found>-<time>.tar.gz` and say where.

    It stays in the store folder, which is the one folder the service may write
    (ProtectSystem=strict), unencrypted like the store beside it; backups leave it out.
    """
    folder = Path(directory) / UPGRADE_FOLDER
    ensure_dir(folder)
    stem = f"schema{found}-{now:%Y%m%dT%H%M%S}"
    target = folder / f"{stem}.tar.gz"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{stem}-{number}.tar.gz"
    pack(Path(directory), target, None, now, timeout=120.0)
    log.warning(
        "store %s: it has schema %d and this bot writes schema %d; backed it up to %s before "
        "upgrading it. To go back to the previous version of the bot, restore that file "
        "into an empty folder (python -m bot restore FILE --into DIR)",
        directory, found, to, target,
    )
    return target
