"""`python -m bench [--quick] [--repeat N] [--seed S] [--out FILE]`: run, print, write JSON."""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.compare import run_before
from bench.compare import table as compared
from bench.economy import economy
from bench.intake import intake
from bench.latency import latency
from bench.machine import machine
from bench.memory import memory
from bench.opening import cases_command, opening
from bench.plan import FULL, QUICK, TINY, Plan
from bench.report import table
from bench.scale import grid
from bench.site import Seeds
from bench.targets import judge


def run(plan: Plan, repeat: int, seed: int, work: Path, command: str) -> dict[str, Any]:
    started = time.perf_counter()
    seeds = Seeds(work / "seeds", seed)
    seeds.root.mkdir(parents=True)
    open_cases, closed_cases = plan.intake_cases
    rows = [intake(seeds, work, n, open_cases, closed_cases, repeat, seed) for n in plan.backlogs]
    rows.append(
        intake(seeds, work, plan.graph_backlog, open_cases, closed_cases, repeat, seed, graph=True)
    )
    results: dict[str, Any] = {
        "command": command,
        "machine": machine(work),
        "plan": plan.name,
        "repeat": repeat,
        "seed": seed,
        "intake": rows,
        "store_cost": grid(seeds, work, list(plan.grid), plan.batch, repeat, seed),
        "memory": memory(seeds, work, list(plan.grid), repeat, seed),
        "graph_economy": economy(
            seeds,
            work / "economy",
            plan.economy_emails,
            *plan.economy_cases,
            seed,
            poll_interval=60,
        ),
        "latency": latency(seeds, work / "latency", open_cases, closed_cases, repeat, seed),
        "opening": opening(seeds, work / "opening", list(plan.opening), repeat),
        "cases_command": cases_command(work / "cases-command"),
    }
    results["targets"] = judge(results)
    results["seeding_seconds"] = seeds.seconds
    results["elapsed_seconds"] = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a small subset of the sizes")
    size.add_argument("--tiny", action="store_true", help="a few emails and cases (the test)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median, min, max)")
    parser.add_argument("--seed", type=int, default=2026, help="the workload's random seed")
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and say where")
    parser.add_argument(
        "--before",
        type=Path,
        help="an older checkout: the same plan runs on its bot first, and both are printed",
    )
    args = parser.parse_args(argv)
    plan = TINY if args.tiny else QUICK if args.quick else FULL
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "bench", *given])
    before = None
    if args.before is not None:
        plain = [a for a in given if a != "--keep"]
        plain = _without(_without(plain, "--before"), "--out")
        before_out = args.out.with_name(args.out.stem + "-before" + args.out.suffix)
        before = run_before(args.before, plain, before_out)
        before["checkout"] = str(args.before)
    folder = Path(tempfile.mkdtemp(prefix="ccbot-bench-"))
    try:
        results = run(plan, max(args.repeat, 1), args.seed, folder, command)
    finally:
        if args.keep:
            print(f"workspaces kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(table(results))
    if before is not None:
        results["before"] = before
        print()
        print(compared(before, results))
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out} in {results['elapsed_seconds']:.0f} s")
    return 0


def _without(args: list[str], option: str) -> list[str]:
    """`args` without `option` and its value (given as two words or as option=value)."""
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            out.append(arg)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
