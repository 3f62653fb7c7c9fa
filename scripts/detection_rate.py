"""Measure the automated-mail detector over folders of .eml files: rates, kinds, misses."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.intake.automated import detect_automated
from bot.intake.parse import MailParseError, parse_mail

OWN_DOMAINS = ("council.example",)
OWN_ADDRESSES = ("contract-concerns@council.example",)


@dataclass
class Tally:
    """What the detector made of one folder."""

    folder: Path
    files: int = 0
    automated: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    bounces: int = 0
    with_recipients: int = 0
    with_message_id: int = 0
    missed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    expected: int = 0  # files with a NAME.json expectation beside them (the golden samples)
    disagree: list[str] = field(default_factory=list)

    def add(self, path: Path) -> None:
        self.files += 1
        raw = path.read_bytes()
        try:
            mail = parse_mail(raw)
        except MailParseError as exc:
            self.unreadable.append(f"{path.name} ({exc.reason})")
            self.missed.append(path.name)
            return
        verdict = detect_automated(mail, raw, OWN_DOMAINS, own_addresses=OWN_ADDRESSES)
        self._compare(path, (verdict.automated, verdict.kind))
        if not verdict.automated:
            self.missed.append(path.name)
            return
        self.automated += 1
        label = verdict.kind
        if verdict.extra.get("action"):
            label += f" ({verdict.extra['action']})"
        self.kinds[label] += 1
        if verdict.kind == "bounce":
            self.bounces += 1
            self.with_recipients += bool(verdict.failed_recipients)
            self.with_message_id += bool(verdict.original_message_id)

    def _compare(self, path: Path, got: tuple[bool, str]) -> None:
        sidecar = path.with_suffix(".json")
        if not sidecar.exists():
            return
        want = json.loads(sidecar.read_text(encoding="utf-8")).get("automated", {})
        self.expected += 1
        if (want.get("automated"), want.get("kind")) != got:
            self.disagree.append(f"{path.name} (expected {want.get('kind') or 'human'})")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def report(tally: Tally) -> str:
    """The table for one folder, as printed."""
    rows = [
        ("files", str(tally.files), ""),
        ("detected automated", str(tally.automated), _pct(tally.automated, tally.files)),
    ]
    rows += [(f"  kind {kind}", str(n), "") for kind, n in sorted(tally.kinds.items())]
    rows += [
        (
            "bounces with failed recipients",
            str(tally.with_recipients),
            _pct(tally.with_recipients, tally.bounces),
        ),
        (
            "bounces with original Message-ID",
            str(tally.with_message_id),
            _pct(tally.with_message_id, tally.bounces),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"== {tally.folder}"]
    lines += [f"{name:<{width}}  {count:>5}  {pct}".rstrip() for name, count, pct in rows]
    lines.append(f"not detected ({len(tally.missed)}):")
    lines += [f"  {name}" for name in tally.missed] or ["  (none)"]
    if tally.expected:
        agree = tally.expected - len(tally.disagree)
        lines.append(f"agrees with the expected reading: {agree} of {tally.expected}")
        lines += [f"  disagrees: {name}" for name in tally.disagree]
    if tally.unreadable:
        lines.append("unreadable: " + ", ".join(tally.unreadable))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    for folder in args.folders:
        if not folder.is_dir():
            print(f"not a folder: {folder}", file=sys.stderr)
            return 2
        tally = Tally(folder)
        for path in sorted(folder.glob("*.eml")):
            tally.add(path)
        print(report(tally))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
