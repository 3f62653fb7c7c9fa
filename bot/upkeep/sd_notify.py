"""systemd's notify protocol: READY, WATCHDOG and STOPPING, each one datagram to a socket.

Written here rather than taken from a library: the protocol is a line of text sent to the
AF_UNIX datagram socket named in $NOTIFY_SOCKET (sd_notify(3)), a dozen lines of code, and
the bot must not fail to start for want of a package. Outside systemd nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Tells systemd how the service is; every call is a no-op when not run by systemd."""

    def __init__(self, environ: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        env = os.environ if environ is None else environ
        self.pid = os.getpid() if pid is None else pid
        path = env.get("NOTIFY_SOCKET", "")
        # A name starting "@" is in the abstract namespace, written with a leading NUL.
        self.address = "\0" + path[1:] if path.startswith("@") else path
        self._watchdog_usec = env.get("WATCHDOG_USEC", "")
        self._watchdog_pid = env.get("WATCHDOG_PID", "")

    @property
    def enabled(self) -> bool:
        return bool(self.address) and hasattr(socket, "AF_UNIX")

    def watchdog_seconds(self) -> float | None:
        """systemd's WatchdogSec for this process, or None when it has none (or it is meant
        for another process, as WATCHDOG_PID says)."""
        if self._watchdog_pid and self._watchdog_pid != str(self.pid):
            return None
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        return usec / 1_000_000 if usec > 0 else None

    def notify(self, state: str) -> bool:
        """Send one state line ("READY=1", "WATCHDOG=1", ...); False when nothing was sent."""
        if not self.enabled:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Never wait: a systemd too busy to read must not stall the watchdog thread.
                sock.setblocking(False)
                sock.sendto(state.encode("utf-8"), self.address)
        except BlockingIOError:
            log.debug("systemd's notify socket is full; %s dropped", state)
            return False
        except OSError as err:  # systemd gone (shutting down); never fatal to the bot
            log.warning("could not notify systemd (%s): %s", state, err)
            return False
        return True
