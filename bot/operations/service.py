"""`install-service`: the systemd units for the bot and its dashboard, written for this config."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from bot.config import Config

UNITS = ("contract-concerns-bot.service", "contract-concerns-dashboard.service")


@dataclass(frozen=True)
class ServiceSettings:
    """Who runs the service and where its environment file (the secrets) lives."""

    user: str = "ccbot"
    group: str | None = None
    environment: Path = Path("/etc/contract-concerns/environment")
    python: Path = Path(sys.executable)


def writable_paths(config: Config) -> list[Path]:
    """Every folder the bot writes: the store, the local mailbox, the shared drive (on
    Microsoft 365 closure reports go to a SharePoint library instead: no folder here)."""
    paths = [config.store.directory]
    if config.mailbox.backend != "graph":
        paths.append(config.shared_drive)
    if config.mailbox.backend == "local" and config.mailbox.local is not None:
        paths.append(config.mailbox.local.directory)
    return sorted({path.resolve() for path in paths})


def render_unit(name: str, config: Config, config_path: Path, settings: ServiceSettings) -> str:
    """One unit file's text, with this machine's paths and the config's council."""
    source = resources.files("bot.operations").joinpath("units", name).read_text("utf-8")
    config_path = config_path.resolve()
    return Template(source).substitute(
        council=config.council.name,
        user=settings.user,
        group=settings.group or settings.user,
        workdir=config_path.parent,
        python=settings.python,
        config=config_path,
        environment=settings.environment,
        data=" ".join(str(path) for path in writable_paths(config)),
    )


def install_units(
    config: Config,
    config_path: Path,
    unit_dir: Path,
    settings: ServiceSettings,
    *,
    dashboard: bool = True,
) -> list[Path]:
    """Write the unit files into `unit_dir` (readable by all, as systemd expects); their paths."""
    unit_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in UNITS if dashboard else UNITS[:1]:
        target = unit_dir / name
        target.write_text(render_unit(name, config, config_path, settings), encoding="utf-8")
        target.chmod(0o644)
        written.append(target)
    return written


def next_steps(written: list[Path], config: Config, settings: ServiceSettings) -> str:
    """What the operator runs after the units are written, in order."""
    names = " ".join(path.name for path in written)
    data = " ".join(str(path) for path in writable_paths(config))
    group = settings.group or settings.user
    warnings = [
        f"warning: {path} is under /root or /home, which the unit's ProtectHome=yes hides: "
        "install the bot in a virtual environment under /opt and keep its data under /var/lib"
        for path in (settings.python, *writable_paths(config))
        if path.is_relative_to("/root") or path.is_relative_to("/home")
    ]
    return "\n".join(
        [
            f"wrote {', '.join(str(path) for path in written)}",
            *warnings,
            "next, as root:",
            f"  useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin {settings.user}",
            f"  mkdir -p {data} && chown -R {settings.user}:{group} {data} && chmod 700 {data}",
            f"  install -m 600 -o root -D /dev/null {settings.environment}"
            "   # then put the secrets in it, NAME=value a line",
            "  systemctl daemon-reload",
            f"  systemctl enable --now {names}",
            "  journalctl -u contract-concerns-bot -f   # its logs, one JSON object a line",
        ]
    )
