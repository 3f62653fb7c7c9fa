"""Crash test: SIGKILL `python -m bot once` at random moments, then check all happened once."""

from __future__ import annotations

import argparse
import email.policy
import hashlib
import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file from a checkout, not installed
    sys.path.insert(0, str(ROOT))

from bot.clock import LONDON, FixedClock  # noqa: E402
from bot.config import Config, load_config  # noqa: E402
from bot.demo.harness import DAILY_RUNS, project_files  # noqa: E402
from bot.mailbox.factory import local_mailbox  # noqa: E402
from bot.mailbox.maildir import LocalMailbox  # noqa: E402
from bot.store import Store  # noqa: E402

RUN_TIMEOUT = 120.0  # seconds; a run that takes longer is reported as hung
# Named crash points in the order a run reaches them: kill before or after the call, the
# callable, what the kill leaves behind, and the path a run that reaches it writes (so the
# reference run tells which points each run reaches). "--mode points" tries each in turn.
POINTS = [
    ("after", "bot.store.store:Store.keep_raw", "raw mail kept, nothing committed", "/raw/"),
    ("before", "bot.store.core:StoreCore.commit", "before the store commit", "changes-"),
    ("before", "bot.store.core:StoreCore._finish_commit", "commit appended, history not",
     "changes-"),
    ("after", "bot.store.journal:append_bytes", "one history file appended", ".jsonl"),
    ("before", "bot.store.storage:ChangesStorage.compact", "committed, no new checkpoint yet",
     "open.json"),
    ("after", "bot.store.raw_spill:RawSpill.write_out", "mail in the changes file written out, "
     "no new checkpoint yet", "/raw/"),
    ("after", "bot.store.storage:write_checkpoint", "new checkpoint, old changes file left",
     "open.json"),
    ("before", "bot.mailbox.maildir:LocalMailbox.mark_processed", "committed, mail in inbox",
     "/processed/"),
    ("before", "bot.mailbox.maildir:LocalMailbox.quarantine", "committed, bad mail in inbox",
     "/quarantine/"),
    ("before", "bot.mailbox.maildir:LocalMailbox.send", "letter committed, not sent",
     "/sent/"),
    ("after", "bot.mailbox.maildir:LocalMailbox.send", "letter sent, not recorded", "/sent/"),
    ("before", "bot.app:App.tick", "poll done, deadlines not looked at", "changes-"),
    ("after", "bot.upkeep.tick:send_digests", "deadlines and digests staged, not committed",
     "changes-"),
]
# Checkpoints after this many bytes of changes, not 4 MB: every few runs, so kills land in them.
COMPACT_AT = 8192
# What every run of the bot writes to its store even when there is nothing to do.
_ROUTINE = re.compile(r"var/store/(open\.json|changes-\d+\.jsonl)$")
# Runs the bot as `python -m bot` would, with small checkpoints, and with one callable of POINTS
# made to SIGKILL the process when CRASH_TEST_AT names it.
INJECT = """
import importlib, os, runpy, signal, sys
import bot.store.storage
bot.store.storage.COMPACT_AT_LEAST = int(os.environ.pop("CRASH_TEST_COMPACT_AT"))
point = os.environ.pop("CRASH_TEST_AT", "")
if point:
    when, target = point.split(" ")
    module, _, dotted = target.partition(":")
    owner = importlib.import_module(module)
    *path, name = dotted.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    original = getattr(owner, name, None)
    if original is None:
        sys.exit(f"crash point {target} is not in the bot any more; update POINTS")
    def crash(*args, **kwargs):
        if when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(owner, name, crash)
sys.argv[0] = "bot"
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""
# What the council's own server (security.trusted_authserv_ids) stamps on staff mail.
AUTH = "{server}; spf=pass smtp.mailfrom={d}; dkim=pass header.d={d}; dmarc=pass header.from={d}"


@dataclass
class Mail:
    at: datetime
    label: str
    raw: bytes | None  # None: the bounce, written in the reference run from what the bot sent


@dataclass
class Plan:
    mails: list[Mail]
    times: list[datetime]
    referrals: dict[str, str]  # Message-ID of each referral -> the reference it should open


def _message(sender: str, to: str, subject: str, body: str, at: datetime, mid: str,
             headers: dict[str, str]) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"], message["Message-ID"] = format_datetime(at), f"<{mid}>"
    for key, value in headers.items():
        message[key] = value
    message.set_content(body)
    return message.as_bytes(policy=email.policy.SMTP)


def _working_days(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def build_plan(config: Config, seed: int, emails: int, days: int) -> Plan:
    """The emails (from the seed, in Europe/London time) and the `once --now` times."""
    rng = random.Random(seed)
    own = config.mailbox.address
    domain = own.split("@", 1)[1]
    server = next(iter(config.security.trusted_authserv_ids), "mx.council.example")
    staff = {"Authentication-Results": AUTH.format(server=server, d=domain)}
    referrers = [p.email for p in config.people_with_role("referrer")]
    cmos = {p.id: p.email for p in config.people_with_role("cmo")}
    providers = [p for p in config.providers if p.contacts and p.aliases]
    work = _working_days(config.start_date, 1)
    first = work[0]
    end = datetime.combine(first + timedelta(days=max(days, 1) - 1), clock_time(23), LONDON)
    work = [day for day in _working_days(first, 3) if day <= end.date()]

    def moment(day: date, lo: int = 9, hi: int = 16) -> datetime:
        return datetime.combine(day, clock_time(rng.randint(lo, hi), rng.randint(0, 59)), LONDON)

    def mid(label: str, sender: str) -> str:
        return f"{label}.{seed}@{sender.split('@', 1)[1]}"

    cases: list[list[Mail]] = []
    extras: list[Mail] = []
    refs: dict[str, str] = {}
    starts = sorted(moment(rng.choice(work[:3])) for _ in range(max(1, emails // 3)))
    for number, opened in enumerate(starts, start=1):
        reference = f"CC-{opened.year}-{number:04d}"
        provider, referrer = rng.choice(providers), rng.choice(referrers)
        cmo = cmos.get(provider.allocated_officer or "", next(iter(cmos.values())))
        contact, alias = provider.contacts[0], provider.aliases[0]
        ask = rng.choice(["Residents missed medication.", "Visits were cut short.",
                          "Care plans were not followed.", "Staff were not trained."])
        body = (f"Dear Contract Management Team,\n\nI am raising a contract concern about {alias}. "
                f"{ask}\n\nThe safeguarding enquiry has concluded and found the concern "
                "substantiated.\n\nRegards")
        screened = opened + timedelta(minutes=rng.randint(20, 150))
        outcome = rng.choice(["eligible"] * 4 + ["operational", "isolated"])
        # An eligible concern's letter waits for its officer's approval: give it in the reply.
        command = f"screen: {outcome}" + ("\napprove" if outcome == "eligible" else "")
        later = min(screened.date() + timedelta(days=rng.randint(2, 8)), end.date())
        replied = max(moment(later), screened + timedelta(hours=1))
        answer = rng.choice(["We accept the findings and have started an audit.",
                             "We dispute the allegations: our records show every visit."])
        tag = f"[{reference}]"
        refs[mid(f"ref{number}", referrer)] = reference
        cases.append([
            Mail(opened, f"referral {reference}",
                 _message(referrer, own, f"Concern: {alias}", body, opened,
                          mid(f"ref{number}", referrer), {})),
            Mail(screened, f"screen {reference}",
                 _message(cmo, own, f"RE: {tag} Contract concern", command,
                          screened, mid(f"cmd{number}", cmo), staff)),
            Mail(replied, f"response {reference}",
                 _message(contact, own, f"RE: {tag} Contract concern", answer, replied,
                          mid(f"resp{number}", contact), {})),
        ])
        if number == 1:
            away = screened + timedelta(minutes=5)
            extras.append(Mail(away, f"auto-reply {reference}", _message(
                contact, own, f"Automatic reply: {tag} Contract concern",
                "I am out of the office until Monday.", away, mid("ooo", contact),
                {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"})))
    stranger_at = moment(rng.choice(work[:3]))
    extras.insert(0, Mail(stranger_at, "stranger", _message(
        "pat.quinn@example.org", own, "Question about your services",
        "Hello, can you tell me how to find a care home near me?", stranger_at,
        mid("stranger", "pat.quinn@example.org"), {})))
    bounce_at = datetime.combine(work[min(2, len(work) - 1)], clock_time(16, 45), LONDON)
    extras += [Mail(bounce_at, "bounce", None),
               Mail(bounce_at + timedelta(minutes=3), "broken (empty file)", b"")]
    # A command with a staff From but no authentication from the council's server: refused,
    # quarantined and reported to the officers.
    forged_at, forger = starts[0] + timedelta(hours=3), next(iter(cmos.values()))
    extras.append(Mail(forged_at, "forged command", _message(
        forger, own, f"RE: [CC-{starts[0].year}-0001] Contract concern", "close",
        forged_at, mid("forged", "x@mail.example.net"), {})))
    # Most important first, so a small --emails still has a case, a command and the oddities.
    ordered = [*cases[0][:2], *extras[:2], *cases[0][2:], *extras[2:]]
    ordered += [mail for case in cases[1:] for mail in case]
    chosen = sorted((m for m in ordered[:emails] if m.at < end), key=lambda mail: mail.at)
    times = sorted({mail.at + timedelta(minutes=1) for mail in chosen} | {
        datetime.combine(first + timedelta(days=n), t, LONDON)
        for n in range(max(days, 1)) for t in DAILY_RUNS
    })
    labels = {mail.label for mail in chosen}
    kept = {key: ref for key, ref in refs.items() if f"referral {ref}" in labels}
    # Runs before the first email would only find an empty inbox and no cases.
    return Plan(chosen, [t for t in times if chosen[0].at < t <= end], kept)


def bounce_of(mailbox: LocalMailbox, at: datetime, domain: str) -> bytes:
    """A DSN for the first letter the bot sent outside the council (else any letter)."""
    headers = [BytesParser(policy=email.policy.default).parsebytes(raw, headersonly=True)
               for _, raw in mailbox.sent_messages()]
    outside = [h for h in headers if domain not in str(h["To"])] or headers
    if not outside:
        return b"Subject: nothing was sent to bounce\n\n"
    letter = outside[0]
    failed = str(letter["To"]).split(",")[0].strip()
    host = failed.rsplit("@", 1)[-1].rstrip(">")
    boundary = "=_bounce_boundary"
    return (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.{host}>\r\nTo: {mailbox.address}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {format_datetime(at)}\r\n"
        f"Message-ID: <bounce.{host}@mx.{host}>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;"
        f' boundary="{boundary}"\r\n\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\n'
        f"Your message could not be delivered to {failed}.\r\n\r\n--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {letter['Message-ID']}\r\nTo: {failed}\r\nSubject: "
        f"{' '.join(str(letter['Subject']).split())}\r\n\r\n--{boundary}--\r\n"
    ).encode()


@dataclass
class Workspace:
    """A copy of the example config whose bot only ever runs as a `once` subprocess."""

    root: Path
    config: Config
    mailbox: LocalMailbox
    code: Path  # the folder holding the copy of `bot` that runs
    delivered: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def make(cls, root: Path, code: Path) -> Workspace:
        source = project_files()
        root.mkdir(mode=0o700, parents=True)
        for folder in ("rules", "templates", "assets"):
            shutil.copytree(source / folder, root / folder)
        text = (source / "config.yaml").read_text(encoding="utf-8")
        # As a live council would: commands are obeyed only from authenticated staff mail.
        text = text.replace(
            "require_authenticated_commands: false", "require_authenticated_commands: true"
        )
        (root / "config.yaml").write_text(text, encoding="utf-8")
        config = load_config(root / "config.yaml")
        start = datetime.combine(config.start_date, clock_time(0), LONDON)
        return cls(root, config, local_mailbox(config, FixedClock(start)), code)

    def deliver_due(self, plan: Plan, upto: datetime, bounces: dict[int, bytes]) -> None:
        """Mail arrives whether or not the bot is running: delivery is never killed."""
        domain = self.config.mailbox.address.split("@", 1)[1]
        for index, mail in enumerate(plan.mails):
            if index in self.delivered or mail.at >= upto:
                continue
            raw = mail.raw
            if raw is None:  # written once, in the reference run, then replayed byte for byte
                raw = bounces.setdefault(index, bounce_of(self.mailbox, mail.at, domain))
            self.mailbox.deliver(raw, mail.at)
            self.delivered[index] = raw

    def footprint(self) -> frozenset[tuple[str, int, int]]:
        found = set()
        for path in (self.root / "var").rglob("*"):
            if path.is_file() and path.name != "bot.lock":
                info = path.stat()
                found.add((str(path.relative_to(self.root)), info.st_size, info.st_mtime_ns))
        return frozenset(found)

    def once(self, when: datetime, kill: Kill | None) -> Attempt:
        """One `python -m bot once --now T`, SIGKILLed as `kill` says (None: left to finish)."""
        args = ["--config", str(self.root / "config.yaml"), "once", "--now", when.isoformat()]
        env = {**_env(self.code), "CRASH_TEST_COMPACT_AT": str(COMPACT_AT)}
        command = [sys.executable, "-c", INJECT, *args]
        if kill and kill.point:
            env["CRASH_TEST_AT"] = " ".join(kill.point[:2])
        kill_at = kill.delay if kill and not kill.point else None
        lock = Path(self.config.store.directory) / "bot.lock"
        mark = _mtime(lock)
        started, locked = time.monotonic(), None
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(command, cwd=self.root, env=env,
                                    stdout=subprocess.DEVNULL, stderr=err)
            while proc.poll() is None:
                now = time.monotonic()
                if locked is None and _mtime(lock) != mark:
                    locked = now  # the store writes its pid into the lock when it opens
                since = locked if kill and kill.aim else started
                due = kill_at is not None and since is not None and now - since >= kill_at
                if due or now - started > RUN_TIMEOUT:
                    os.kill(proc.pid, signal.SIGKILL)  # not yet reaped: the pid is still ours
                    proc.wait()
                    break
                time.sleep(0.001)
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines() or ["no output"]
        if proc.returncode == -signal.SIGKILL and kill is None:
            lines.append(f"hung: killed after {RUN_TIMEOUT:.0f} s")
        ended = time.monotonic()
        locked = ended if locked is None else locked
        if proc.returncode == -signal.SIGKILL and kill is not None:
            return Attempt("killed", ended - started, ended - locked)
        if proc.returncode != 0:
            return Attempt("failed", ended - started, ended - locked,
                           f"exit {proc.returncode}: {lines[-1]}")
        return Attempt("done", ended - started, ended - locked)


@dataclass(frozen=True)
class Kill:
    delay: float = 0.0  # seconds after the start, or with `aim` after the store's opening
    aim: bool = False
    point: tuple[str, str, str, str] | None = None  # one of POINTS instead of a delay


@dataclass(frozen=True)
class Attempt:
    outcome: str  # done, killed, failed
    seconds: float
    after_lock: float  # seconds from the store's lock being taken to the end
    detail: str = ""


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _env(code: Path) -> dict[str, str]:
    """The environment for a run: our copy of the bot first on the path."""
    paths = [str(code), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _area(path: str) -> str:
    parts = set(Path(path).parts)
    if "store" in parts:
        return "store"
    if parts & {"sent", "review", "calendar", "shared-drive"}:
        return "letters"
    filed = {"inbox", "processed", "quarantine", "quarantine-reasons"}
    return "mail filed" if parts & filed else "other"


@dataclass
class Played:
    seconds: float = 0.0
    runs: int = 0
    kills: int = 0
    interrupted: Counter[str] = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)
    after_lock: list[float] = field(default_factory=list)
    points: Counter[str] = field(default_factory=Counter)
    busy: list[int] = field(default_factory=list)
    reached: dict[int, list[int]] = field(default_factory=dict)  # busy run -> POINTS it reaches
    error: str = ""


def play(ws: Workspace, plan: Plan, bounces: dict[int, bytes], *, kills: int = 0,
         rng: random.Random | None = None, reference: Played | None = None,
         mode: str = "start") -> Played:
    """Run the sequence; with a reference, SIGKILL the runs that did work there, `kills` at
    most. Modes: "start", a delay in [0, that run's reference duration] from the start;
    "store", from the store's opening, in [0, the rest of that run]; "points", at each of
    POINTS in turn (a run that never reaches its point completes, and the sequence goes on)."""
    played, started = Played(), time.monotonic()
    busy = reference.busy if reference and reference.busy else list(range(len(plan.times)))
    # Timed kills are spread evenly over the busy runs; a run that outlives its delay defers
    # its share to the next ones.
    owed = {step: round(kills * (n + 1) / len(busy)) for n, step in enumerate(busy)}

    def next_kill(step: int, tries: int) -> Kill | None:
        if reference is None or rng is None or played.kills >= kills or step not in owed:
            return None
        if mode == "points":
            todo = reference.reached[step]
            return Kill(point=POINTS[todo[tries]]) if tries < len(todo) else None
        if played.kills >= owed[step]:
            return None
        spans = reference.after_lock if mode == "store" else reference.durations
        return Kill(delay=rng.uniform(0.0, spans[step]), aim=mode == "store")

    for step, when in enumerate(plan.times):
        ws.deliver_due(plan, when, bounces)
        for tries in itertools.count():
            kill = next_kill(step, tries)
            before = ws.footprint()
            attempt = ws.once(when, kill)
            played.runs += 1
            if attempt.outcome == "killed":
                played.kills += 1
                if kill and kill.point:
                    played.points[kill.point[2]] += 1
                left = {_area(path) for path, _, _ in before ^ ws.footprint()}
                played.interrupted.update(sorted(left) or ["nothing"])
                continue
            if attempt.outcome == "failed":
                played.error = f"run at {when.isoformat()} failed: {attempt.detail}"
                break
            played.durations.append(attempt.seconds)
            played.after_lock.append(attempt.after_lock)
            touched = {path for path, _, _ in before ^ ws.footprint()}
            # Every run commits (last poll, last tick), now and then with a checkpoint;
            # anything more is work.
            if any(not _ROUTINE.search(path) for path in touched):
                played.busy.append(step)
                played.reached[step] = [
                    n for n, point in enumerate(POINTS) if any(point[3] in p for p in touched)
                ]
            break
        if played.error:
            break
    played.seconds = time.monotonic() - started
    return played


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _canonical(raw: bytes) -> bytes:
    """The message with its MIME boundaries (random by design) replaced by a fixed token."""
    parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
    for part in parsed.walk():
        boundary = part.get_boundary()
        if boundary:
            raw = raw.replace(boundary.encode(), b"BOUNDARY")
    return raw


@dataclass
class Final:
    """What a workspace ended with, read from its mailbox folders and its store."""

    inbox: int = 0
    filed: Counter[str] = field(default_factory=Counter)  # sha256 of each file
    placed: set[tuple[str, str]] = field(default_factory=set)  # (folder, sha256)
    mail_entries: Counter[str] = field(default_factory=Counter)  # dedupe key
    quarantines: Counter[str] = field(default_factory=Counter)  # mailbox id
    triaged: Counter[str] = field(default_factory=Counter)  # sha256 of quarantined mail
    sent: dict[str, bytes] = field(default_factory=dict)
    sent_ids: Counter[str] = field(default_factory=Counter)
    pending: int = 0
    stages: dict[str, str] = field(default_factory=dict)
    opened_by: dict[str, str] = field(default_factory=dict)  # referral Message-ID -> case
    store_error: str = ""


def collect(ws: Workspace) -> Final:
    final, box = Final(), ws.mailbox
    final.inbox = len(box.sent_messages("inbox"))
    for folder in ("processed", "quarantine"):
        shas = [_sha(raw) for _, raw in box.sent_messages(folder)]
        final.filed.update(shas)
        final.placed.update((folder, sha) for sha in shas)
    parser = BytesParser(policy=email.policy.default)
    for folder in ("sent", "review"):
        for _, raw in box.sent_messages(folder):
            message_id = str(parser.parsebytes(raw, headersonly=True)["Message-ID"]).strip()
            final.sent_ids[message_id] += 1
            final.sent[message_id] = raw
    try:  # "opens cleanly": open it as the bot would, read everything, close it
        with Store(ws.config.store.directory) as store:
            for entry in store.audit_entries():
                if entry.get("event") == "mail":
                    reading = entry.get("reading") or {}
                    final.mail_entries[str(reading.get("dedupe_key"))] += 1
                    if entry.get("reference"):
                        final.opened_by.setdefault(
                            str(reading.get("message_id")).strip("<>"), entry["reference"])
                elif entry.get("event") == "quarantine":
                    final.quarantines[str(entry.get("backend_id"))] += 1
            cases = store.open_cases() + [
                store.get_case(ref) or {} for ref in store.closed_references()]
            final.stages = {c["reference"]: f"{c['status']} {c['stage']}" for c in cases}
            final.pending = len(store.outbox_pending())
            final.triaged.update(item.get("sha", "") for item in store.triage_items()
                                 if item.get("kind") == "quarantined")
    except Exception as err:  # any failure to open or read is the finding itself
        final.store_error = f"{type(err).__name__}: {err}"
    return final


def _twice(counts: Counter[str]) -> list[str]:
    return sorted(key for key, n in counts.items() if n > 1)


Row = tuple[str, str, str, bool]  # what is checked, crash run, reference, whether it holds


def checks(delivered: Iterable[bytes], crash: Final, ref: Final) -> list[Row]:
    """(what, crash run, reference, holds) for every property the crash test promises."""
    emails = Counter(_sha(raw) for raw in delivered)
    keys_ok = not _twice(crash.mail_entries) and set(crash.mail_entries) == set(ref.mail_entries)
    ids, ref_ids = set(crash.sent_ids), set(ref.sent_ids)
    changed = sorted(
        m for m in ids & ref_ids if _canonical(crash.sent[m]) != _canonical(ref.sent[m])
    )
    differs = sorted(r for r in ref.stages if crash.stages.get(r) != ref.stages[r])
    return [
        ("inbox empty", f"{crash.inbox} left", f"{ref.inbox} left", crash.inbox == 0),
        ("every email filed once (processed/, quarantine/)",
         f"{sum(crash.filed.values())} files, {len(emails)} emails",
         f"{sum(ref.filed.values())} files", crash.filed == emails),
        ("each email in the same folder as in the reference",
         f"{len(crash.placed - ref.placed)} elsewhere: "
         f"{sorted(f for f, _ in crash.placed - ref.placed) or 'none'}", "",
         crash.placed == ref.placed),
        ("one 'mail' audit entry per dedupe key",
         f"{len(crash.mail_entries)} keys; twice: {_twice(crash.mail_entries) or 'none'}",
         f"{len(ref.mail_entries)} keys", keys_ok),
        ("each quarantined email recorded once (audit, triage)",
         f"{sum(crash.quarantines.values())} audit, {sum(crash.triaged.values())} triage; "
         f"twice: {_twice(crash.quarantines) or 'none'}",
         f"{sum(ref.quarantines.values())} audit, {sum(ref.triaged.values())} triage",
         crash.quarantines.total() == ref.quarantines.total() and not _twice(crash.quarantines)
         and crash.triaged.total() == ref.triaged.total() and not _twice(crash.triaged)),
        ("sent Message-IDs equal the reference set",
         f"{len(ids)}; missing: {sorted(ref_ids - ids) or 'none'}; "
         f"extra: {sorted(ids - ref_ids) or 'none'}", f"{len(ref_ids)}", ids == ref_ids),
        ("no Message-ID twice in sent/", f"twice: {_twice(crash.sent_ids) or 'none'}",
         f"twice: {_twice(ref.sent_ids) or 'none'}", not _twice(crash.sent_ids)),
        ("each letter identical to the reference (but for MIME boundaries)",
         f"differ: {changed or 'none'}", "", not changed),
        ("outbox empty", f"{crash.pending} pending", f"{ref.pending} pending",
         crash.pending == ref.pending == 0),
        ("same final stage per case", f"{len(crash.stages)} cases; differ: {differs or 'none'}",
         f"{len(ref.stages)} cases", not differs and set(crash.stages) == set(ref.stages)),
        ("store opens cleanly", crash.store_error or "yes", ref.store_error or "yes",
         not crash.store_error),
    ]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, required=True, help="SIGKILLs to deliver in all")
    parser.add_argument("--seed", type=int, required=True, help="seeds the emails and the kills")
    parser.add_argument("--emails", type=int, default=20, help="emails in the workload")
    parser.add_argument("--days", type=int, default=17, help="days of simulated time")
    parser.add_argument("--workdir", type=Path, help="keep both workspaces here (a new folder)")
    parser.add_argument("--mode", choices=["start", "store", "points"], default="start",
                        help="random delays from the start (default) or from the store's "
                        "opening, or kills at named points in the bot's code")
    return parser.parse_args(argv)


def _cell(text: str, width: int = 44) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(rows: list[Row]) -> None:
    lines = [("check", "crash run", "reference", "")] + [
        (name, _cell(crash), _cell(ref), "ok" if ok else "FAILED") for name, crash, ref, ok in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    for name, crash, ref, mark in lines:
        print(f"{name:<{widths[0]}}  {crash:<{widths[1]}}  {ref:<{widths[2]}}  {mark}".rstrip())
    for name, crash, ref, ok in rows:
        if not ok and (crash != _cell(crash) or ref != _cell(ref)):
            print(f"{name}: crash run {crash}; reference {ref}")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crash-test-"))
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Both runs use one copy of the bot, so edits to the checkout meanwhile change neither.
    code = workdir / "code"
    shutil.copytree(ROOT / "bot", code / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    reference = Workspace.make(workdir / "reference", code)
    crash = Workspace.make(workdir / "crash", code)
    plan = build_plan(reference.config, args.seed, args.emails, args.days)
    # Compile the bot's bytecode first, so the first measured run is not a slow outlier.
    subprocess.run([sys.executable, "-c", "import bot.cli, bot.app"], cwd=code, env=_env(code),
                   check=True)
    bounces: dict[int, bytes] = {}
    print(f"{len(plan.mails)} emails, {len(plan.times)} runs of `once --now T`, seed {args.seed}")
    ref_play = play(reference, plan, bounces)
    ref_final = collect(reference)
    unplanned = {m: r for m, r in plan.referrals.items() if ref_final.opened_by.get(m) != r}
    if ref_play.error or unplanned or not ref_final.sent:
        problem = ref_play.error or unplanned or "nothing was sent"
        print(f"the reference run did not go as planned: {problem}; kept in {workdir}")
        return 1
    rng = random.Random(f"kills-{args.seed}")
    crash_play = play(crash, plan, bounces, kills=args.kills, rng=rng, reference=ref_play,
                      mode=args.mode)
    rows = checks(crash.delivered.values(), collect(crash), ref_final)
    if crash_play.error:
        rows.insert(0, ("every run completes after its kills", crash_play.error, "", False))
    _table(rows)
    partial = crash_play.kills - crash_play.interrupted["nothing"]
    areas = ", ".join(f"{area} {n}" for area, n in sorted(crash_play.interrupted.items()))
    print(f"kills: {crash_play.kills} of at most {args.kills}, mode {args.mode} ({partial} after "
          f"the bot had written something; what each kill left changed: {areas or 'none'})")
    for point in POINTS:
        if crash_play.points[point[2]]:
            print(f"  at {point[0]} {point[1]} ({point[2]}): {crash_play.points[point[2]]}")
    print(f"runs: {crash_play.runs} in the crash run (reference {ref_play.runs}; "
          f"{len(ref_play.busy)} did work and were the ones killed)")
    print(f"seconds: reference {ref_play.seconds:.1f}, crash run {crash_play.seconds:.1f}; "
          f"letters {len(ref_final.sent)}, cases {len(ref_final.stages)}")
    failed = [name for name, _, _, ok in rows if not ok]
    if failed:
        print(f"FAILED: {'; '.join(failed)}. Workspaces kept in {workdir}")
        return 1
    if args.workdir is None:
        shutil.rmtree(workdir)
    print("crash test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
