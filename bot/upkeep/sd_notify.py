"""systemd's notify protocol, written by hand: READY, STOPPING and the WatchdogSec heartbeat."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


def notify(state: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send one datagram like "WATCHDOG=1" to $NOTIFY_SOCKET; False when not under systemd.

    It never raises and never blocks for long: a heartbeat that cannot be delivered must not
    become the thing that hangs the daemon.
    """
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return False  # unset, or a vsock address this small client does not speak
    # "@name" is a socket in the abstract namespace: a leading NUL byte on Linux.
    target = "\0" + address[1:] if address[0] == "@" else address
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(1.0)
            sock.connect(target)
            sock.sendall(state.encode("utf-8"))
    except OSError as err:
        log.warning("could not tell systemd %r: %s", state.split("=", 1)[0], err)
        return False
    return True


def watchdog_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """systemd's WatchdogSec for this process, from $WATCHDOG_USEC; None when it is off."""
    env = os.environ if environ is None else environ
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (we were started by a wrapper)
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None
