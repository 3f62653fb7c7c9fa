"""Searches and filters kept on the server under short random tokens, never in an address.

A search for a resident's name or the words of a concern must not end up in browser history,
proxy logs or a Referer header, so the form is posted and the page that shows the result is
addressed by an opaque token that means something only to this process and this person.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from bot.views.web.listing import Filters

MAX_KEPT = 2000  # tokens remembered (oldest forgotten first): a few per member of staff


class QueryMemory:
    """Token -> (who asked, their filters), bounded, shared by the server's threads."""

    def __init__(self, limit: int = MAX_KEPT) -> None:
        self.limit = limit
        self._kept: OrderedDict[str, tuple[str, Filters]] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, owner: str, filters: Filters) -> str:
        token = secrets.token_urlsafe(12)
        with self._lock:
            self._kept[token] = (owner, filters)
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)
        return token

    def find(self, owner: str, token: str) -> Filters | None:
        """The filters behind `token`, only for the person who made it."""
        with self._lock:
            found = self._kept.get(token)
            if found is None or found[0] != owner:
                return None
            self._kept.move_to_end(token)
            return found[1]
