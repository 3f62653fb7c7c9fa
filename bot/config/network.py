"""Which hosts are this machine: plain (unencrypted) links are allowed only to those."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether `host` can only mean this machine, so a plain (unencrypted) link never leaves it."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
