"""`python -m bench.backup [--open N] [--closed M]`: a backup beside the bot, timed.

Seeds a store of N open and M closed cases, puts the bot on it as the daemon, and times: how
long commits wait while a backup freezes the store (the commit gate), a whole backup plain and
encrypted (age), their sizes, and a restore. The figures go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.site import NOW, Seeds, site
from bot.operations.backup import restore
from bot.store.backup import age
from bot.store.backup.frozen import Frozen
from bot.store.backup.pack import write_backup


def measure(root: Path, open_cases: int, closed_cases: int, seed: int) -> None:
    seeds = Seeds(root / "seeds", seed)
    seeds.root.mkdir(parents=True)
    with site(seeds, root / "workspace", open_cases, closed_cases) as (ws, _):
        store = ws.app.config.store.directory
        files = sum(1 for p in store.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
        print(f"store: {open_cases} open, {closed_cases} closed cases; {files} files, "
              f"{size / 2**20:.1f} MB; the bot holds it as the daemon")
        frozen = Frozen(store)
        print(f"  commits wait while the store is frozen: {frozen.held_seconds * 1000:8.1f} ms")
        frozen.close()
        secret, public = age.new_key()
        for label, key, name in (("plain", None, "b.tar.gz"), ("age", public, "b.tar.gz.age")):
            started = time.perf_counter()
            write_backup(store, root / name, key=key, now=NOW)
            seconds = time.perf_counter() - started
            print(f"  backup ({label:5}): {seconds:6.2f} s, "
                  f"{(root / name).stat().st_size / 2**20:6.1f} MB")
    os.environ[age.KEY_ENV] = secret
    started = time.perf_counter()
    restore(root / "b.tar.gz.age", root / "restored")
    print(f"  restore (age):  {time.perf_counter() - started:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backup", description=__doc__)
    parser.add_argument("--open", type=int, default=10_000, help="open cases (default 10,000)")
    parser.add_argument("--closed", type=int, default=50_000, help="closed (default 50,000)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ccbot-bench-backup-"))
    try:
        measure(folder, args.open, args.closed, args.seed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
