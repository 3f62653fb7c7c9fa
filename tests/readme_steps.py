"""README's "Running it for real" commands, read from the README and run as written, with the
server's paths moved under a test folder (no root, no systemctl, no ccbot account here)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
_SCHEDULE = re.compile(r"^(\S+\s+){5}")  # a crontab line's five time fields
_ENV = re.compile(r"^([A-Z_]+)=(.*)$")


def commands(marker: str, readme: Path = README) -> list[str]:
    """The lines of the code block that follows `<!-- marker -->` in the README."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == f"<!-- {marker} -->")
    block: list[str] = []
    for line in lines[start + 1 :]:
        if not line.strip():
            if block:
                break
            continue
        if not line.startswith("       "):
            break
        block.append(line.strip())
    assert block, f"no commands after <!-- {marker} --> in {readme}"
    return block


@dataclass
class Server:
    """Where the README's paths go, and the python that plays /opt/.../venv/bin/python."""

    root: Path
    python: str
    env: dict[str, str]
    public_key: str = ""
    secret_key: str = ""

    def translate(self, line: str) -> str:
        for old, new in (
            ("/opt/contract-concerns/venv/bin/python", self.python),
            ("/opt/contract-concerns/venv/bin/pip", f"{self.python} -m pip"),
            ("/etc/contract-concerns", str(self.root / "etc/contract-concerns")),
            ("/var/lib/contract-concerns", str(self.root / "var/lib/contract-concerns")),
            ("/var/backups/contract-concerns", str(self.root / "var/backups/contract-concerns")),
            ("-o ccbot -g ccbot ", ""),  # no such account here: the test's user owns it
            ("sudo -u ccbot ", ""),
            ("age1...", self.public_key),
            ("AGE-SECRET-KEY-1...", self.secret_key),
            ("store-2027-01-31", f"store-{date.today():%Y-%m-%d}"),  # tonight's backup
        ):
            line = line.replace(old, new)
        return line

    def sh(self, line: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
        result = subprocess.run(
            ["bash", "-c", self.translate(line)], env={**self.env, **(env or {})},
            capture_output=True, text=True, timeout=600, check=False, cwd=cwd or self.root,
        )
        assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        return result.stdout

    def keys(self) -> None:
        """`backup-key`, as step 7 says to run once."""
        made = self.sh("/opt/contract-concerns/venv/bin/python -m bot backup-key").split()
        self.public_key = next(word for word in made if word.startswith("age1"))
        self.secret_key = next(word for word in made if word.startswith("AGE-SECRET-KEY-1"))

    def back_up(self) -> list[str]:
        """Step 7's commands; the crontab's lines run now, with the crontab's variables."""
        ran: list[str] = []
        lines = iter(commands("backup-commands"))
        for line in lines:
            if not line.startswith("crontab "):
                ran.append(self.sh(line))
                continue
            env: dict[str, str] = {}
            for entry in lines:
                if entry == "EOF":
                    break
                variable = _ENV.match(entry)
                if variable:
                    env[variable[1]] = self.translate(variable[2])
                    continue
                job = _SCHEDULE.match(entry)
                assert job, f"not a crontab line: {entry}"
                ran.append(self.sh(entry[job.end() :], env))
        return ran

    def restore(self) -> list[str]:
        """Step 7's restore; systemctl left out."""
        return [
            self.sh(line)
            for line in commands("restore-commands")
            if not line.startswith("systemctl ")
        ]


    def upgrade(self, wheels: Path) -> list[str]:
        """Step 8, in the folder holding the new wheel; systemctl left out."""
        return [
            self.sh(line, cwd=wheels)
            for line in commands("upgrade-commands")
            if not line.startswith("systemctl ")
        ]


def server(root: Path, python: str, pythonpath: str | None = None) -> Server:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CCBOT_BACKUP_KEY")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return Server(root, python, env)
