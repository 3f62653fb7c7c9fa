"""The decisions the dashboard offers, written as the command lines an officer would email."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.commands import CommandPolicy
from bot.procedure.model import Procedure
from bot.store.spool import one_line


@dataclass(frozen=True)
class Decision:
    name: str  # the command, as in rules/commands.yaml
    label: str  # what the radio button says
    line: str  # the command line; "{reason}" is replaced by the reason when it takes one

    @property
    def takes_reason(self) -> bool:
        return "{reason}" in self.line


DECISIONS: tuple[Decision, ...] = (
    Decision("screen.eligible", "Eligible: start the procedure", "screen: eligible"),
    Decision(
        "screen.investigation_pending",
        "An investigation is not concluded: park the case",
        "screen: investigation pending",
    ),
    Decision(
        "screen.operational", "Low-level: return to manage operationally", "screen: operational"
    ),
    Decision("screen.isolated", "Isolated and already addressed: return it", "screen: isolated"),
    Decision("screen.in_house", "About an in-house service: forward it", "screen: in-house"),
    Decision("screen.too_old", "Six months old or more: return it", "screen: too old"),
    Decision(
        "investigation.concluded", "The investigation has concluded", "investigation concluded"
    ),
    Decision("provider.accepts", "The provider accepts the concern", "provider accepts"),
    Decision("provider.disputes", "The provider disputes the concern", "provider disputes"),
    Decision("review.concluded", "Review complete: refer to the SPO", "refer to SPO"),
    Decision("decision.agreed", "Agree the recommendation", "decision: agreed"),
    Decision(
        "decision.more_info",
        "Further information is needed",
        "decision: further information needed - {reason}",
    ),
    Decision("decision.alternative", "An alternative outcome", "decision: alternative - {reason}"),
    Decision("default_notice.yes", "Issue a default notice", "default notice: yes"),
    Decision("default_notice.no", "No default notice", "default notice: no"),
    Decision(
        "default_notice.issued", "The default notice has been issued", "default notice issued"
    ),
    Decision(
        "follow_up.unsatisfactory",
        "The follow-up is not satisfactory",
        "follow-up not satisfactory: {reason}",
    ),
    Decision("dispute.upheld", "Uphold the provider's dispute", "dispute upheld: {reason}"),
    Decision("dispute.rejected", "Reject the provider's dispute", "dispute rejected: {reason}"),
    Decision("close", "Close the case", "close: {reason}"),
)
BY_NAME = {decision.name: decision for decision in DECISIONS}


def offered(
    procedure: Procedure, policy: CommandPolicy, stage: str, roles: Iterable[str]
) -> list[Decision]:
    """The decisions this stage accepts that someone with `roles` may give."""
    spec = procedure.stages.get(stage)
    if spec is None or spec.final:
        return []
    events = set(spec.events) | set(procedure.any) | set(procedure.records)
    held = set(roles)
    return [d for d in DECISIONS if d.name in events and policy.allowed(d.name, held)]


def command_line(decision: Decision, reason: str) -> str:
    """The line for the command engine; the reason made one line, so it can start nothing."""
    return decision.line.replace("{reason}", one_line(reason))
