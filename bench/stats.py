"""Medians with min and max over repeated runs, and a monotonic timer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def spread(values: list[float]) -> dict[str, float]:
    """{"median", "min", "max", "runs"} of the values (all zero when there are none)."""
    if not values:
        return {"median": 0.0, "min": 0.0, "max": 0.0, "runs": 0}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def timed(call: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result
