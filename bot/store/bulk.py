"""Reading in bulk: no cycle collection while tens of thousands of small objects are made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection inside: when nearly every object made is kept (a checkpoint's
    tables, a report's facts), the collector would walk them again and again, for nothing.
    Reference counting still frees whatever is dropped."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
