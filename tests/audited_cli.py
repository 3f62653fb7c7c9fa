"""`python audited_cli.py LOG ARGS...`: the bot's command line, with every file it opens,
renames, removes or changes recorded in LOG (JSON), through Python's audit hooks."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# Events that change the file system, each with the positions of its path arguments.
CHANGES = {
    "os.rename": (0, 1),
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.symlink": (0, 1),
    "os.link": (0, 1),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "os.truncate": (0,),
    "os.mkfifo": (0,),
    "os.mknod": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (0, 1),
    "shutil.move": (0, 1),
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _path(value: Any) -> str | None:
    if isinstance(value, int) or value is None:
        return None  # a file descriptor: opened (and recorded) before
    return os.path.abspath(os.fsdecode(value))


def main() -> int:
    log_path, args = sys.argv[1], sys.argv[2:]
    reads: set[str] = set()
    writes: set[str] = set()

    def hook(event: str, arguments: tuple[Any, ...]) -> None:
        if event == "open":
            path = _path(arguments[0])
            mode, flags = arguments[1], arguments[2]
            if path is None:
                return
            writing = bool(flags & WRITE_FLAGS) or any(c in str(mode or "") for c in "wax+")
            (writes if writing else reads).add(path)
        elif event in CHANGES:
            for position in CHANGES[event]:
                found = _path(arguments[position]) if position < len(arguments) else None
                if found is not None:
                    writes.add(found)

    sys.addaudithook(hook)
    from bot.cli import main as cli

    try:
        return cli(args)
    finally:
        with open(log_path, "w", encoding="utf-8") as log:
            json.dump({"reads": sorted(reads), "writes": sorted(writes)}, log)


if __name__ == "__main__":
    raise SystemExit(main())
