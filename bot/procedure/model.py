"""The procedure definition (rules/procedure.yaml) as validated models, checked when loaded."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.procedure.workdays import Rule

# Who a letter can be addressed to; the composition root turns these into addresses.
ROLES = frozenset(
    {
        "referrer",
        "referrer_manager",
        "provider",
        "officer",
        "spo",
        "head_of_procurement",
        "service_manager",
        "inhouse_service_manager",
        "operational_teams",
        "team",
        "sender",
    }
)
ATTACHMENTS = frozenset({"concern", "mail"})


class _Strict(BaseModel):
    # defer_build: checked rules kept between runs are used without building validators.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class RuleSpec(_Strict):
    """A timescale: exactly one of working_days or days."""

    working_days: int | None = Field(default=None, ge=0)
    days: int | None = Field(default=None, ge=0)
    shift: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> RuleSpec:
        if (self.working_days is None) == (self.days is None):
            raise ValueError("give exactly one of working_days or days")
        return self

    def to_rule(self) -> Rule:
        if self.working_days is not None:
            return Rule("working_days", self.working_days)
        return Rule("calendar_days", self.days or 0, self.shift)

    def describe(self) -> str:
        if self.working_days is not None:
            return (
                "same working day"
                if self.working_days == 0
                else f"{self.working_days} working days"
            )
        return f"{self.days} calendar days"


class DeadlineSpec(_Strict):
    name: str
    step: str
    title: str
    rule: RuleSpec
    anchors: tuple[str, ...] = Field(alias="from")
    remind: str | None = None
    event: str | None = None
    scope: Literal["stage", "case"] = "stage"
    when: str | None = None

    @field_validator("anchors", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _remind_or_event(self) -> DeadlineSpec:
        if (self.remind is None) == (self.event is None):
            raise ValueError(
                "a deadline either reminds a person (remind) or raises an event (event)"
            )
        for anchor in self.anchors:
            if anchor not in ("received", "event") and not anchor.startswith(
                ("deadline:", "data:")
            ):
                raise ValueError(
                    f"unknown anchor {anchor!r}: use received, event, deadline:<x> or data:<x>"
                )
        return self


class SendSpec(_Strict):
    template: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    attach: str | None = None
    deadline: str | None = None
    step: str | None = None  # when the letter is a step of its own within the transition
    draft: str | None = None  # the letter to the provider whose draft this carries, for approval


class RecordSpec(_Strict):
    step: str
    text: str


class DiariseSpec(_Strict):
    deadline: str


class ReportSpec(_Strict):
    template: str
    step: str | None = None


class ActionSpec(_Strict):
    """One action; exactly one field is set."""

    send: SendSpec | None = None
    record: RecordSpec | None = None
    diarise: DiariseSpec | None = None
    save_report: ReportSpec | None = None
    cancel: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ActionSpec:
        if sum(v is not None for v in self.__dict__.values()) != 1:
            raise ValueError(
                "an action has exactly one of send, record, diarise, save_report, cancel"
            )
        return self


class TransitionSpec(_Strict):
    to: str | None = None  # None: stay in the stage, run the actions
    step: str | None = None
    when: str | None = None
    require: tuple[str, ...] = ()
    set: dict[str, Any] = Field(default_factory=dict)
    deadlines: tuple[DeadlineSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()


class StageSpec(_Strict):
    step: str
    title: str
    actor: str
    final: bool = False
    deadlines: tuple[DeadlineSpec, ...] = ()
    events: dict[str, tuple[TransitionSpec, ...]] = Field(default_factory=dict)


class StepSpec(_Strict):
    title: str
    actor: str
    timescale: str


class RecordEffect(_Strict):
    set: dict[str, Any] = Field(default_factory=dict)
    append: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Settings(_Strict):
    internal_reminder_time: str = "14:00"
    # Defaults made when used, not at import: making one builds the model's validator.
    outcome_dispute_window: RuleSpec = Field(default_factory=lambda: RuleSpec(days=14))


class Procedure(_Strict):
    version: int
    start: str
    opening: TransitionSpec = Field(default_factory=TransitionSpec)
    settings: Settings = Field(default_factory=Settings)
    steps: dict[str, StepSpec]
    stages: dict[str, StageSpec]
    records: dict[str, RecordEffect] = Field(default_factory=dict)
    any: dict[str, tuple[TransitionSpec, ...]] = Field(default_factory=dict)

    def transitions(self, stage: str, event: str) -> tuple[TransitionSpec, ...]:
        spec = self.stages[stage]
        if spec.final:
            return ()
        return spec.events.get(event) or self.any.get(event, ())

    def deadline_spec(self, name: str) -> DeadlineSpec | None:
        """The first declaration of a deadline name, stage-level or on a transition."""
        for stage in self.stages.values():
            for spec in stage.deadlines:
                if spec.name == name:
                    return spec
            for transitions in stage.events.values():
                for transition in transitions:
                    for spec in transition.deadlines:
                        if spec.name == name:
                            return spec
        return None

    def event_names(self) -> set[str]:
        names = set(self.records) | set(self.any)
        for stage in self.stages.values():
            names |= set(stage.events)
        return names
