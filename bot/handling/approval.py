"""The case officer's approval of what goes to a provider, as commands (email or dashboard)."""

from __future__ import annotations

from typing import Any

from bot.actions.concern import concern_copy
from bot.config import Config
from bot.procedure.case import Case
from bot.procedure.model import Procedure

APPROVE = "letter.approve"
EDIT = "letter.edit"


def waits_for_approval(case: Case, procedure: Procedure) -> bool:
    """Whether the case's stage is one where a draft letter waits for its officer."""
    stage = procedure.stages.get(case.stage)
    return stage is not None and APPROVE in stage.events


def meant(
    case: Case, name: str, args: dict[str, Any], sender: str, config: Config, procedure: Procedure
) -> tuple[str, dict[str, Any]]:
    """The command as meant on this case, with what approving needs in its arguments.

    A bare "approve" reads as the SPO's decision (step 10); while a draft letter waits for
    approval it can only mean the letter, so it is taken as that.
    """
    if name == "decision.agreed" and waits_for_approval(case, procedure):
        name = APPROVE
    if name == APPROVE:
        # The copy as it stands is what was shown and approved; it stays the case's copy.
        return name, {**args, "copy": concern_copy(case, config), "by": sender}
    if name == EDIT:
        return name, {**args, "by": sender}
    return name, args


def refusal(case: Case, name: str, args: dict[str, Any], sender: str, config: Config) -> str:
    """Why this approval may not be given by `sender`, or "" when it may."""
    if name not in (APPROVE, EDIT):
        return ""
    officer = config.person(case.officer_id) if case.officer_id else None
    if officer is None:
        return "not done: the case has no officer yet to approve it: allocate it first"
    if officer.email != sender.lower():
        return (
            f"not done: only the case's officer, {officer.name}, may approve what goes to the "
            "provider"
        )
    if name == EDIT and not str(args.get("text", "")).strip():
        return "not done: the copy between the marker lines is empty; the copy was not changed"
    return ""
