"""The daemon: APScheduler polls the mailbox and runs the deadline tick until stopped."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from bot.app import build_app
from bot.clock import LONDON, SystemClock

log = logging.getLogger(__name__)


def run_daemon(config_path: Path) -> int:
    app = build_app(config_path, SystemClock(LONDON))
    scheduler = BlockingScheduler(timezone=LONDON)

    def cycle() -> None:
        try:
            poll, tick = app.once()
            log.info(
                "poll: %d handled, %d quarantined; tick: %d cases moved; %d sent",
                len(poll.handled),
                len(poll.quarantined),
                len(tick.cases_changed),
                poll.delivered + tick.delivered,
            )
        except Exception:  # the next cycle retries; nothing was marked processed
            log.exception("poll cycle failed")

    # One cycle at a time: a slow poll is never overlapped by the next one.
    scheduler.add_job(
        cycle,
        "interval",
        seconds=app.config.poll_interval_seconds,
        id="cycle",
        max_instances=1,
        coalesce=True,
        next_run_time=None,
    )
    scheduler.add_job(cycle, id="first")

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        scheduler.shutdown(wait=False)

    # Both, explicitly: a daemon started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"polling {app.config.mailbox.address} every {app.config.poll_interval_seconds}s; "
        "Ctrl-C stops",
        flush=True,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        app.store.close()
    print("stopped", flush=True)
    return 0
