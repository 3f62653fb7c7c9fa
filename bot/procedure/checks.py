"""Load-time checks of a procedure: one start, all stages reachable, no dead ends, known names."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from bot.config.yamlsource import Problem, YamlDoc
from bot.procedure.model import ATTACHMENTS, ROLES, DeadlineSpec, Procedure, TransitionSpec

# The seed procedure's numbered steps; every one must be carried by the rules.
SEED_STEPS = (
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "11",
    "12",
    "13",
    "13.1",
    "13.2",
    "14",
    "15",
    "16",
    "16.1",
    "16.2",
)
REMIND_ROLES = frozenset({"officer", "spo", "head_of_procurement"})

Loc = tuple[str | int, ...]


def _transitions(proc: Procedure) -> Iterator[tuple[Loc, str | None, TransitionSpec]]:
    """Every transition with its location in the file and the stage it leaves (None: any stage)."""
    for stage_name, stage in proc.stages.items():
        for event, transitions in stage.events.items():
            for i, transition in enumerate(transitions):
                yield ("stages", stage_name, "events", event, i), stage_name, transition
    for event, transitions in proc.any.items():
        for i, transition in enumerate(transitions):
            yield ("any", event, i), None, transition
    yield ("opening",), proc.start, proc.opening


def _deadlines(proc: Procedure) -> Iterator[tuple[Loc, DeadlineSpec]]:
    for stage_name, stage in proc.stages.items():
        for i, spec in enumerate(stage.deadlines):
            yield ("stages", stage_name, "deadlines", i), spec
    for loc, _, transition in _transitions(proc):
        for i, spec in enumerate(transition.deadlines):
            yield (*loc, "deadlines", i), spec


def _edges(proc: Procedure) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in proc.stages}
    for _, source, transition in _transitions(proc):
        if transition.to is None:
            continue
        sources = [source] if source else [n for n, s in proc.stages.items() if not s.final]
        for name in sources:
            edges[name].add(transition.to)
    return edges


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def check_procedure(
    proc: Procedure, doc: YamlDoc, template_names: set[str] | None = None
) -> list[Problem]:
    """Every problem in the definition, each with the file, line and what to do."""
    problems: list[Problem] = []
    file = str(doc.path)

    def problem(loc: Loc, message: str, fix: str) -> None:
        key = ".".join(str(part) for part in loc)
        problems.append(Problem(file, doc.line_for(loc), key, message, fix))

    stage_names = sorted(proc.stages)
    if proc.start not in proc.stages:
        problem(
            ("start",), f"start stage {proc.start!r} is not defined", f"use one of {stage_names}"
        )
        return problems
    if proc.stages[proc.start].final:
        problem(("start",), "the start stage is final", "start at a stage that has events")

    for step in SEED_STEPS:
        if step not in proc.steps:
            problem(
                ("steps",), f"step {step} of the seed procedure is missing", f"add step {step!r}"
            )
    used_steps: set[str] = set()

    deadline_names = {spec.name for _, spec in _deadlines(proc)}
    for loc, spec in _deadlines(proc):
        used_steps.add(spec.step)
        if spec.remind is not None and spec.remind not in REMIND_ROLES:
            problem(
                (*loc, "remind"),
                f"cannot remind {spec.remind!r}",
                f"use one of {sorted(REMIND_ROLES)}",
            )
        for anchor in spec.anchors:
            if anchor.startswith("deadline:") and anchor.split(":", 1)[1] not in deadline_names:
                problem(
                    (*loc, "from"),
                    f"anchor {anchor!r} names no deadline",
                    "name a declared deadline",
                )

    for name, stage in proc.stages.items():
        used_steps.add(stage.step)
        if stage.final and stage.events:
            problem(
                ("stages", name, "events"),
                "a final stage cannot have events",
                "remove them or drop final",
            )
        for spec in stage.deadlines:
            if spec.event and not proc.transitions(name, spec.event):
                problem(
                    ("stages", name, "deadlines"),
                    f"deadline {spec.name!r} raises {spec.event!r}, which stage {name!r} lacks",
                    f"add {spec.event!r} under events of {name!r}",
                )

    for loc, _, transition in _transitions(proc):
        if transition.step:
            used_steps.add(transition.step)
        if transition.to is not None and transition.to not in proc.stages:
            problem((*loc, "to"), f"unknown stage {transition.to!r}", f"use one of {stage_names}")
        for need in transition.require:
            if need not in ("provider", "officer") and not need.startswith("data."):
                problem(
                    (*loc, "require"),
                    f"cannot require {need!r}",
                    "use provider, officer or data.<field>",
                )
        for i, action in enumerate(transition.actions):
            aloc = (*loc, "actions", i)
            for own in (action.record, action.send, action.save_report):
                if own is not None and own.step:
                    used_steps.add(own.step)
            if action.send:
                send = action.send
                for role in (*send.to, *send.cc):
                    if role not in ROLES:
                        problem(aloc, f"unknown recipient {role!r}", f"use one of {sorted(ROLES)}")
                if send.attach and send.attach not in ATTACHMENTS:
                    problem(
                        aloc, f"cannot attach {send.attach!r}", f"use one of {sorted(ATTACHMENTS)}"
                    )
                if send.deadline and send.deadline not in deadline_names:
                    problem(
                        aloc, f"deadline {send.deadline!r} is not declared", "declare it on a stage"
                    )
            templates = [a.send.template for a in [action] if a.send]
            templates += [a.send.draft for a in [action] if a.send and a.send.draft]
            templates += [a.save_report.template for a in [action] if a.save_report]
            for template in templates:
                if template_names is not None and template not in template_names:
                    problem(
                        aloc,
                        f"template {template!r} does not exist",
                        f"add templates/{template}.txt.j2",
                    )
            named = [action.diarise.deadline] if action.diarise else list(action.cancel or ())
            for deadline in named:
                if deadline not in deadline_names:
                    problem(aloc, f"deadline {deadline!r} is not declared", "declare it on a stage")

    for step in sorted(set(SEED_STEPS) - used_steps, key=SEED_STEPS.index):
        problem(
            ("steps", step), f"step {step} is carried by no stage, transition or deadline", "use it"
        )
    for step in sorted(used_steps - set(proc.steps)):
        problem(("steps",), f"step {step!r} is used but not listed", f"add {step!r} under steps")

    edges = _edges(proc)
    reachable = _reachable(edges, proc.start)
    for name in stage_names:
        if name not in reachable:
            problem(
                ("stages", name),
                f"stage {name!r} cannot be reached from {proc.start!r}",
                "add a transition to it or remove it",
            )
    finals = {name for name, stage in proc.stages.items() if stage.final}
    if not finals:
        problem(("stages",), "no stage is final", "mark the closed stage final: true")
    for name in stage_names:
        if name in finals or name not in reachable:
            continue
        if not _reachable(edges, name) & finals:
            problem(
                ("stages", name),
                f"stage {name!r} is a dead end: no way to a final stage",
                "add a transition that leads towards closure",
            )
    return problems
