"""Median, 90th percentile and rates, defined so a person can work them out by hand."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[int]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None if empty."""
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[int]) -> int | None:
    """Nearest rank: the value at position ceil(0.9 x n) of the sorted values; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def rate(part: int, whole: int) -> float | None:
    """part / whole as a fraction (0.75 for 75%); None when there is nothing to divide by."""
    return part / whole if whole else None


def step_key(step: str) -> tuple[float, ...]:
    """Order steps as the procedure numbers them: 3 before 13 before 13.1."""
    try:
        return tuple(float(part) for part in step.split("."))
    except ValueError:
        return (math.inf,)
