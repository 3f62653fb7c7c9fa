"""The daemon's side of dashboard instructions: each carried out once, as an emailed command is."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.actions.outbox import Outbox
from bot.commands import parse_commands
from bot.handling.handle import Handler
from bot.handling.origin import Origin
from bot.intake.threading import normalise
from bot.store import Store, StoreError
from bot.store.case_index import CaseIndex
from bot.store.spool import Instruction, Spool, SpoolError

log = logging.getLogger(__name__)


@dataclass
class InstructionReport:
    carried_out: list[str] = field(default_factory=list)  # instruction ids
    set_aside: list[str] = field(default_factory=list)


def take_instructions(
    now: datetime,
    *,
    spool: Spool,
    handler: Handler,
    store: Store,
    cases: CaseIndex,
    outbox: Outbox,
) -> InstructionReport:
    """Carry out every waiting instruction, oldest first, each in a commit of its own.

    An instruction is marked seen in the commit that holds its effects, and leaves the spool
    only after that commit: a crash in between finds it seen and just files its result. One
    that fails is set aside with why and never stops the others; a store that cannot be
    written stops them all, leaving them waiting for the next poll.
    """
    report = InstructionReport()
    for path in spool.files():
        try:
            instruction = spool.read(path)
        except SpoolError as err:
            spool.reject(path, str(err))
            report.set_aside.append(path.stem)
            continue
        key = f"dashboard:{instruction.id}"
        if store.seen(key):
            spool.finish(instruction, {"outcome": "done", "done": [], "refused": []})
            continue
        try:
            result = carry_out(instruction, handler, now)
        except Exception as err:  # one bad instruction never stops the others
            store.rollback()
            cases.reload()
            outbox.discard()
            spool.reject(path, f"could not be carried out ({type(err).__name__})")
            report.set_aside.append(instruction.id)
            continue
        outbox.stage()
        store.mark_seen(key)
        store.audit(
            {
                "at": now.isoformat(),
                "event": "dashboard",
                "id": instruction.id,
                "reference": result.get("reference"),
                "by": instruction.by_id,
                "detail": f"{len(result['done'])} done, {len(result['refused'])} not done",
            }
        )
        try:
            store.commit()
        except (StoreError, OSError):
            store.rollback()
            cases.reload()
            raise
        spool.finish(instruction, result)
        report.carried_out.append(instruction.id)
    spool.prune(now)
    return report


def carry_out(instruction: Instruction, handler: Handler, now: datetime) -> dict[str, Any]:
    """Run an instruction's lines through the command engine for the person who gave it,
    with that person's roles from the directory; staged, not committed."""
    config = handler.config
    person = config.person_by_email(instruction.by_address) if instruction.by_address else None
    roles: set[str]
    if person is not None:
        roles = set(person.roles)
        name = person.name
    elif instruction.local and not instruction.by_address:
        # The operator of this machine, without sign-in: they could type any command into
        # the daemon's shell, so the dashboard gives them every role the commands name.
        roles = {role for rule in handler.policy.rules.values() for role in rule.roles}
        name = instruction.by_name or "Local operator"
    else:
        roles, name = set(), instruction.by_name
    at = min(instruction.submitted_at, now)
    origin = Origin(instruction.by_address, name, at, f"dashboard:{instruction.id}", "dashboard")
    local_day = at.astimezone(handler.engine.calendar.zone).date()
    parsed = parse_commands("\n".join(instruction.lines), local_day)
    case = None
    if instruction.reference is not None:
        found = handler.cases.get(normalise(instruction.reference))
        case = found.model_copy(deep=True) if found is not None else None
    if instruction.reference is not None and case is None:
        missing = f"there is no case {instruction.reference}"
        refused = [f"{line}: {missing}" for line in instruction.lines]
        return {
            "outcome": "done",
            "reference": instruction.reference,
            "done": [],
            "refused": refused,
        }
    if case is not None and instruction.reason:
        reason = f"Reason given by {origin.who}: {instruction.reason}"
        case.note(at, "note", reason, ref=origin.ref)
    case, done, refused = handler.apply_commands(case, parsed, roles, origin, now)
    handler.command_receipt(
        case, origin, done, refused, parsed.ignored, key=f"receipt.{instruction.id[-16:]}", now=now
    )
    if case is not None:
        handler.cases.put(case)
    return {
        "outcome": "done",
        "reference": case.reference if case is not None else instruction.reference,
        "done": done,
        "refused": refused,
        "at": now.isoformat(),
    }
