"""A stored timeline's entries of one kind, found in its JSON without reading the rest."""

from __future__ import annotations

import json

# Every quote inside a JSON string is escaped, so these bytes, with their bare quotes, only
# ever occur as the array's own structure.
_ENTRY = b'{"at":'  # how an entry begins, as the case model writes one
_BETWEEN = b'},{"at":'  # the bytes between two entries


def entries_of_kind(entries: bytes, kind: str) -> bytes:
    """The entries of one kind in a timeline's JSON array, as a JSON array of their own."""
    found: list[bytes] = []
    marker = b'","kind":' + json.dumps(kind).encode() + b","
    at = entries.find(marker)
    while at >= 0:
        start = entries.rfind(_ENTRY, 0, at)
        end = entries.find(_BETWEEN, at)
        end = len(entries) - 1 if end < 0 else end + 1
        found.append(entries[start:end])
        at = entries.find(marker, end)
    return b"[" + b",".join(found) + b"]"
