"""Large buffers go back to the system as soon as freed (glibc's malloc tuned); a long-lived
heap kept out of the garbage collector's full sweeps."""

from __future__ import annotations

import ctypes
import gc
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt(3) parameter number in glibc's malloc.h
THRESHOLD = 1024 * 1024


def release_large_buffers() -> bool:
    """Make glibc give every buffer of 1 MB or more its own mapping, returned when freed.

    By default glibc raises that threshold each time a large buffer is freed, up to 32 MB,
    so after the first large email the next ones (up to 32 MB each) come from the heap, which
    stays the process's long after they are freed: a 25 MB email then cost its size twice
    over in resident memory. Elsewhere (musl, macOS, Windows) nothing is changed.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols, libc's among them: find_library would run ldconfig.
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    if not done:
        log.debug("mallopt(M_MMAP_THRESHOLD) was refused; large buffers stay in the heap")
    return done


def settle_heap(*, thorough: bool = False) -> None:
    """After a cycle: collect its garbage, then move what is left, which lives on (the rules,
    the store's tables, the case index), out of the collector's sight (`gc.freeze`).

    The collector's full sweep walks every object it tracks: at 10,000 open cases that is
    180,000 objects and about 90 ms, paid wherever the sweep happened to fall (the digest, the
    middle of a morning's tick). Frozen objects are still freed as usual when nothing refers
    to them; only a reference cycle among them would wait, so once a day (`thorough`) they
    are thawed and swept too.
    """
    if thorough:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
