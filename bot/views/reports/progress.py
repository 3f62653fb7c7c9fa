"""A progress bar on stderr while a large store is read, only when stderr is a terminal."""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30
LARGE = 5000  # fewer cases than this read in a blink: no bar


class ProgressBar:
    """Redraws one line in place: [#####.....] 12,000 of 60,000 cases."""

    def __init__(self, stream: TextIO | None = None, label: str = "cases") -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.shown = False
        self.enabled = self.stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < LARGE:
            return
        filled = WIDTH * done // max(total, 1)
        bar = "#" * filled + "." * (WIDTH - filled)
        self.stream.write(f"\rReading the store [{bar}] {done:,} of {total:,} {self.label}")
        self.stream.flush()
        self.shown = True
        if done >= total:
            self.finish()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False
