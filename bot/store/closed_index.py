"""The archive's index of closed cases' briefs: a report reads this one file, not thousands.

It is a cache of what the archive files hold (in `cache/`, left out of backups like the
rules' cache): made again from them by the bot's first start without it. One line per
archive write: `REF<TAB>closed day<TAB>received day<TAB>brief`, the days the
calendar days of the case's own closing time and its received day (ISO, or ten dashes when it
has none), the brief as JSON text (bot.store.brief), which never holds a raw tab or newline.
The latest line of a case wins (a case reopened and closed again); a line a crash cut short
has no newline and is left out, so its case's file is read instead.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from bot.store.brief import brief_text
from bot.store.errors import StoreError

INDEX_FILE = Path("cache") / "closed-briefs.tsv"  # in the store folder
NO_DAY = "-" * 10
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TAB = 9  # the byte


def index_line(case: dict[str, Any]) -> bytes:
    days = (_day_of(case.get("closed_at")), _day_of(case.get("received_day")))
    line = "\t".join((str(case["reference"]), *days, brief_text(case) or ""))
    return (line + "\n").encode("utf-8")


def _day_of(value: Any) -> str:
    text = str(value or "")[:10]
    return text if _ISO_DAY.fullmatch(text) else NO_DAY


def read_index(
    path: Path, closed_since: date | None = None, received_by: date | None = None
) -> dict[str, bytes | None]:
    """Each indexed case's brief (JSON text, empty when none could be made), or None for a
    case the index shows closed before `closed_since` or received after `received_by`.

    Days are compared as ISO text, with the fields at fixed places: this runs over every case
    ever closed, at each report."""
    since = closed_since.isoformat().encode() if closed_since else b""  # b"": none before it
    by = received_by.isoformat().encode() if received_by else b"\xff"  # none after it
    none = NO_DAY.encode()
    found: dict[str, bytes | None] = {}
    try:
        # A line at a time: the index of 50,000 cases is 50 MB, and read whole, then split,
        # it took twice that again in memory at the moment of a report.
        with path.open("rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a line a crash cut short: the case's file is read
                tab = line.find(b"\t")
                if tab < 0 or len(line) < tab + 24:
                    continue  # not a line of this layout: the case's file is read
                if line[tab + 11] != _TAB or line[tab + 22] != _TAB:
                    continue
                closed, received = line[tab + 1 : tab + 11], line[tab + 12 : tab + 22]
                early = closed < since and closed != none
                skipped = early or (received > by and received != none)
                found[line[:tab].decode("ascii", "replace")] = (
                    None if skipped else line[tab + 23 : -1]
                )
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StoreError(f"could not read {path}: {exc.strerror or exc}") from exc
    return found
