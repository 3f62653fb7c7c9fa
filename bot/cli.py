"""Command line: demo, run, once, cases, status, inspect, lint, web, report, backup, restore."""

from __future__ import annotations

import argparse
import gc
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from bot.clock import LONDON, Clock, FixedClock, SystemClock


def _parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date-time like 2026-12-01T09:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-04-01") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config.yaml"),
        help="the configuration file (default: ./config.yaml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (--log-level INFO)")
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="text for people (default), json for a log system: one object a line",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="the least severe records to log (default WARNING)",
    )
    # The same options after the command (`once --config x.yaml`); given there, they win.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, help="the configuration file"
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    class Sub:
        @staticmethod
        def add_parser(name: str, **kwargs: Any) -> argparse.ArgumentParser:
            found: argparse.ArgumentParser = commands.add_parser(name, parents=[common], **kwargs)
            return found

    sub = Sub()
    demo = sub.add_parser("demo", help="play every path of the procedure on a simulated clock")
    demo.add_argument("--workspace", type=Path, help="keep the demo workspace here")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    sub.add_parser("run", help="the daemon: poll and tick until Ctrl-C")
    once = sub.add_parser("once", help="one poll and one deadline tick, then exit")
    once.add_argument(
        "--now", type=_parse_now, help="the clock, e.g. 2026-12-01T09:00 (Europe/London)"
    )
    cases = sub.add_parser("cases", help="open cases; 'cases show REF' for one case")
    cases.add_argument("action", nargs="?", choices=["show"])
    cases.add_argument("reference", nargs="?")
    cases.add_argument("--now", type=_parse_now, help="judge overdue at this time")
    status = sub.add_parser(
        "status", help="the bot's health; exit 1 when something needs an administrator"
    )
    status.add_argument("--json", action="store_true", help="print it as JSON")
    status.add_argument("--now", type=_parse_now, help="judge at this time (Europe/London)")
    inspect = sub.add_parser("inspect", help="how the bot reads an email (changes nothing)")
    inspect.add_argument("file", type=Path)
    sub.add_parser("lint", help="check config, rules and templates")
    web = sub.add_parser("web", help="the dashboard in the browser, beside the daemon")
    web.add_argument("--host", help="address to listen on (default: dashboard.bind_host)")
    web.add_argument("--port", type=int, help="port to listen on (default: dashboard.port)")
    web.add_argument("--now", type=_parse_now, help="show the cases as at this time (a demo)")
    web.add_argument(
        "--as",
        dest="person",
        metavar="ID",
        help="without sign-in: act as this member of staff from the directory",
    )
    doctor = sub.add_parser(
        "doctor", help="check everything is ready before the first real email; says what to fix"
    )
    doctor.add_argument("--now", type=_parse_now, help="judge at this time (Europe/London)")
    doctor.add_argument(
        "--probe",
        action="append",
        metavar="ADDRESS",
        help="a mailbox the bot must NOT be able to read (repeatable; default: the team "
        "address and the first member of staff)",
    )
    service = sub.add_parser(
        "install-service", help="write the systemd units for the bot and its dashboard"
    )
    service.add_argument("--user", default="ccbot", help="the account it runs as (default ccbot)")
    service.add_argument("--group", help="its group (default: the same name as --user)")
    service.add_argument(
        "--unit-dir",
        type=Path,
        default=Path("/etc/systemd/system"),
        help="where the unit files go (default /etc/systemd/system)",
    )
    service.add_argument(
        "--environment",
        type=Path,
        default=Path("/etc/contract-concerns/environment"),
        help="the root-only file of secrets, NAME=value a line",
    )
    service.add_argument(
        "--no-dashboard", action="store_true", help="the bot's unit only, not the dashboard's"
    )
    backup = sub.add_parser(
        "backup", help="write a consistent archive of the store, beside the running bot"
    )
    backup.add_argument("file", type=Path, help="the archive to write, e.g. store-2027-01-31.tgz")
    restore = sub.add_parser(
        "restore", help="restore a backup into an empty or missing store folder"
    )
    restore.add_argument("file", type=Path, help="the archive `backup` wrote")
    restore.add_argument(
        "--into", type=Path, help="the folder to restore into (default: store.directory)"
    )
    sub.add_parser("backup-key", help="make a key pair for encrypting backups (age)")
    report = sub.add_parser("report", help="timescale compliance figures for a period")
    report.add_argument(
        "--from", dest="start", type=_parse_day, required=True, help="first day, e.g. 2026-04-01"
    )
    report.add_argument(
        "--to", dest="end", type=_parse_day, required=True, help="last day, e.g. 2027-03-31"
    )
    report.add_argument(
        "--format",
        choices=["xlsx", "csv", "html"],
        default="xlsx",
        help="xlsx (a sheet per view, with charts), csv (a zip of one file "
        "per view) or html (one page, charts beside tables)",
    )
    report.add_argument(
        "--out",
        type=Path,
        help="the file to write (default: timescales-<period>.<xlsx|zip|html> here)",
    )
    report.add_argument("--now", type=_parse_now, help="judge overdue at this time")
    return parser


# The commands a person types and waits for; they hold no lock, write nothing and start no
# thread, so their process may end without the interpreter's teardown (`console`).
READ_ONLY = ("inspect", "cases", "status")


def main(argv: list[str] | None = None) -> int:
    return _run(_parser().parse_args(argv))


def console() -> NoReturn:
    """`python -m bot` and the installed command. A read-only command's process ends as soon
    as its output is flushed: the interpreter's own teardown of the modules it imported
    (pydantic's among them) took 50 ms of the 0.3 s a person waits for `cases`."""
    args = _parser().parse_args()
    if args.command in READ_ONLY:
        # A short life that leaves little cyclic garbage: the collector's passes over the
        # objects of the modules being imported were another tenth of `cases`.
        gc.disable()
    status = _run(args)
    if args.command in READ_ONLY:
        _end_now(status)
    raise SystemExit(status)


def _end_now(status: int) -> NoReturn:
    import logging
    import os

    logging.shutdown()  # flushes and closes the log's handlers, as the normal exit does
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (`| head`): the normal exit fails the same way
        os._exit(status or 120)
    os._exit(status)


def _run(args: argparse.Namespace) -> int:
    from bot.upkeep.logs import configure_logging

    level = args.log_level or ("INFO" if args.verbose else "WARNING")
    configure_logging(args.log_format, level)
    if args.command in ("run", "once", "demo", "web"):  # the commands that hold mail
        from bot.upkeep.memory import release_large_buffers

        release_large_buffers()  # a large email's memory goes back when it has been handled
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        # Imported here: a command that starts from checked rules never loads the checks.
        from bot.config.yamlsource import ProblemsError

        if not isinstance(err, ProblemsError):
            raise
        print("The bot cannot start; fix these first:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    from bot.mailbox.base import MailboxError
    from bot.store import StoreError

    try:
        if args.command == "demo":
            from bot.demo import run_demo

            return run_demo(workspace=args.workspace, quiet=args.quiet)
        if args.command == "lint":
            from bot.views.lint import lint

            return lint(args.config)
        if args.command == "doctor":
            from bot.app import open_mailbox_to_check
            from bot.operations.doctor import report
            from bot.operations.doctor_run import diagnose

            clock = FixedClock(args.now) if args.now else SystemClock()
            findings = diagnose(args.config, clock, open_mailbox_to_check, args.probe)
            text, status = report(findings)
            print(text)
            return status
        if args.command == "install-service":
            return _install_service(args)
        if args.command in ("backup", "restore", "backup-key"):
            return _backup(args)
        if args.command in READ_ONLY:
            return _read(args)
        if args.command == "web":
            return _web(args)
        if args.command == "report":
            return _report(args)
        if args.command == "once":
            from bot.app import build_app

            clock = FixedClock(args.now) if args.now else SystemClock()
            app = build_app(args.config, clock)
            try:
                poll, tick = app.once()
            finally:
                app.store.close()
            print(
                f"poll: {poll.fetched} fetched, {len(poll.handled)} handled, "
                f"{poll.duplicates} duplicates, {len(poll.quarantined)} quarantined; "
                f"tick: {len(tick.cases_changed)} cases moved, {tick.digests} digests; "
                f"sent {poll.delivered + tick.delivered}"
            )
            return 0
        if args.command == "run":
            from bot.app import build_app, second_mailbox
            from bot.upkeep.daemon import run_daemon

            app = build_app(args.config, SystemClock(LONDON))
            return run_daemon(app, alert_mailbox=second_mailbox(app.config, app.clock))
    except (StoreError, MailboxError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    raise AssertionError(args.command)


def _install_service(args: argparse.Namespace) -> int:
    from bot.config import load_config
    from bot.operations.service import ServiceSettings, install_units, next_steps

    config = load_config(args.config)
    settings = ServiceSettings(user=args.user, group=args.group, environment=args.environment)
    written = install_units(
        config, args.config, args.unit_dir, settings, dashboard=not args.no_dashboard
    )
    print(next_steps(written, config, settings))
    return 0


def _backup(args: argparse.Namespace) -> int:
    from bot.operations.backup import backup, new_key_text, restore

    if args.command == "backup-key":
        print(new_key_text())
        return 0
    if args.command == "restore" and args.into is not None:
        print(restore(args.file, args.into))
        return 0
    from bot.config import load_config

    directory = load_config(args.config).store.directory
    if args.command == "restore":
        print(restore(args.file, directory))
    else:
        print(backup(directory, args.file, SystemClock(LONDON).now()))
    return 0


def _read(args: argparse.Namespace) -> int:
    """The read-only commands: they open the store read-only, beside a running daemon."""
    from bot.views.reader import open_reader  # not bot.app: no mailbox backend is imported

    clock: Clock = FixedClock(args.now) if getattr(args, "now", None) else SystemClock()
    reader = open_reader(args.config)
    try:
        if args.command == "inspect":
            from bot.views.inspect import inspect_file

            return inspect_file(reader, args.file)
        if args.command == "status":
            from bot.app import inbox_backlog
            from bot.views.status import show_status

            backlog = inbox_backlog(reader.rules.config, clock)
            return show_status(reader, clock, backlog, as_json=args.json)
        from bot.views.cases import show_case, show_cases

        if args.action == "show":
            if not args.reference:
                print("usage: cases show REF", file=sys.stderr)
                return 2
            return show_case(reader, args.reference, clock)
        return show_cases(reader, clock)
    finally:
        reader.close()


def _web(args: argparse.Namespace) -> int:
    """The dashboard: its own process, reading the store read-only beside the daemon."""
    from bot.app import inbox_backlog
    from bot.config import load_config
    from bot.views.web.serve import serve

    clock: Clock = FixedClock(args.now) if args.now else SystemClock(LONDON)
    config = load_config(args.config)
    return serve(
        args.config,
        clock,
        host=args.host,
        port=args.port,
        local_person=args.person,
        backlog=lambda: inbox_backlog(config, clock),
    )


def _report(args: argparse.Namespace) -> int:
    from bot.app import open_reader
    from bot.views.reports.command import run_report
    from bot.views.reports.period import Period

    if args.end < args.start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    clock: Clock = FixedClock(args.now) if args.now else SystemClock()
    reader = open_reader(args.config, index=False)
    try:
        return run_report(reader, Period(args.start, args.end), args.format, args.out, clock.now())
    finally:
        reader.close()
