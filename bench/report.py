"""The plain-text table printed at the end of a run (the same figures go to the JSON file)."""

from __future__ import annotations

from typing import Any


def _s(spread: dict[str, float], scale: float = 1.0, fmt: str = "{:.1f}") -> str:
    med, lo, hi = (fmt.format(spread[k] * scale) for k in ("median", "min", "max"))
    return f"{med} ({lo}-{hi})"


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    m = results["machine"]
    add(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['os']}")
    add(f"temp file system: {m['temp_filesystem']}; command: {results['command']}")
    add(f"plan: {results['plan']}, repeat {results['repeat']}, seed {results['seed']}; "
        "figures are median (min-max)")
    add("")
    add("1. intake (end to end through App.poll, letters included)")
    add(f"  {'backend':8} {'backlog':>7} {'open':>6} {'emails/s':>22} {'w/o letters':>22} "
        f"{'parse-only/s':>22} {'x slower':>16}")
    for row in results["intake"]:
        add(
            f"  {row['backend']:8} {row['backlog']:>7} {row['open_cases']:>6} "
            f"{_s(row['emails_per_second']):>22} "
            f"{_s(row['emails_per_second_without_letters']):>22} "
            f"{_s(row['parse_only_emails_per_second'], fmt='{:.0f}'):>22} "
            f"{_s(row['times_slower_than_parse']):>16}"
        )
    for row in results["intake"]:
        if "pdf_seconds" in row:
            add(
                f"  {row['backend']} {row['backlog']}: {row['pdfs']} PDF letters rendered in "
                f"{_s(row['pdf_seconds'], fmt='{:.2f}')} s; x slower without them "
                f"{_s(row['times_slower_without_pdfs'])}"
            )
        if row.get("checkpoint_seconds"):
            add(
                f"  {row['backend']} {row['backlog']}: then, idle, the store's checkpoint in "
                f"{_s(row['checkpoint_seconds'], fmt='{:.2f}')} s (poll and checkpoint together: "
                f"x slower {_s(row['times_slower_with_checkpoint'])})"
            )
    add("")
    add("2. store cost (ms; per email in polls of "
        f"{results['store_cost'][0]['batch'] if results['store_cost'] else 0})")
    add(f"  {'open':>6} {'closed':>7} {'per email':>22} {'idle tick':>24} {'due tick':>24} "
        f"{'cases due':>8} {'digest tick':>24}")
    for c in results["store_cost"]:
        add(
            f"  {c['open_cases']:>6} {c['closed_cases']:>7} "
            f"{_s(c['seconds_per_email'], 1000):>22} {_s(c['idle_tick_seconds'], 1000):>24} "
            f"{_s(c['due_tick_seconds'], 1000):>24} "
            f"{c['due_tick_cases_changed']['median']:>8.0f} "
            f"{_s(c['digest_tick_seconds'], 1000) if 'digest_tick_seconds' in c else '-':>24}"
        )
    add("")
    add("3. memory (peak RSS, MB, fresh process per size)")
    for r in results["memory"]:
        add(f"  {r['open_cases']:>6} open {r['closed_cases']:>7} closed: peak "
            f"{_s(r['peak_rss_mb'])}, after start {_s(r['after_start_mb'])}, "
            f"before the bot {_s(r['before_bot_mb'])}")
    add("")
    g = results["graph_economy"]
    add("4. Graph economy (fake Graph, requests counted by route; token requests excluded)")
    add(f"  idle poll: {g['idle_poll_requests']:g} requests; idle tick: {g['idle_tick_requests']}")
    add(f"  backlog of {g['emails']} emails, {g['letters']} letters: "
        f"{g['mailbox_requests_per_email']:.2f} mailbox requests per email, "
        f"{g['requests_per_letter']:.2f} requests per letter")
    add(f"  per 10 min: idle {g['idle_requests_per_10_min']:.0f} at a "
        f"{g['poll_interval_seconds']} s poll; busiest window {g['busiest_10_min_requests']:.0f}; "
        f"limit {g['limit_per_10_min']}")
    add(f"  a 10,000-email backlog: {g['unpaced_requests_for_10000_emails']:.0f} requests; the "
        f"budget of {g['request_budget_per_10_min']} per 10 min holds the busiest window to "
        f"{g['busiest_10_min_after_10000_emails']:.0f} and clears it in "
        f"{g['minutes_to_clear_10000_emails']:.0f} min")
    add(f"  wall-clock rate at loopback speed {g['wall_rate_per_10_min']:.0f} / 10 min (an upper "
        f"bound); max concurrent {g['max_concurrent_requests']} (limit {g['limit_concurrent']})")
    add("")
    lat = results["latency"]
    add("5. latency, email landing -> acknowledgement leaving")
    add(f"  processing {_s(lat['processing_seconds'], 1000)} ms; poll every "
        f"{lat['poll_interval_seconds']} s: expected median {lat['expected_median_seconds']:.1f} s,"
        f" worst {lat['worst_case_seconds']:.1f} s; acknowledged in the same poll "
        f"{lat['acknowledged_in_same_poll']}/{lat['referrals']}")
    add("")
    add("6. opening the store and the command line (seconds)")
    for r in results.get("opening", []):
        add(f"  {r['open_cases']:>6} open {r['closed_cases']:>7} closed: bot start "
            f"{_s(r['start_seconds'], fmt='{:.3f}')} (first start on the seeded store "
            f"{r['first_start_seconds']:.3f}); snapshot {_s(r['snapshot_seconds'], fmt='{:.3f}')}")
    cases = results.get("cases_command")
    if cases:
        add(f"  python -m bot cases, wall, {cases['runs']} runs: demo store at its end "
            f"{_s(cases['demo_end'], fmt='{:.3f}')}; midway (4 open) "
            f"{_s(cases['demo_midway'], fmt='{:.3f}')}")
    for issue in (5, 12):
        add("")
        add(f"targets (from issue {issue})")
        for t in results["targets"]:
            if t.get("issue", 5) == issue:
                verdict = "PASS" if t["pass"] else "FAIL"
                add(f"  {verdict}  {t['name']}: {t['figure']} (target {t['target']})")
    return "\n".join(lines)
