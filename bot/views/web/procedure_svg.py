"""The procedure drawn from rules/procedure.yaml as SVG: stages, who owns each, its timescale,
and the events that move a case between them. Generated on every change of the rules."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from bot.procedure.model import Procedure

ACTORS = {
    "cmo": "Contract Management Officer",
    "spo": "Senior Procurement Officer",
    "cmo_and_spo": "Contract Management Officer and Senior Procurement Officer",
    "head_of_procurement": "Head of Procurement",
}
_BOX_W = 460
_LINE = 18
_GAP = 30
_LANE = 11
_TOP = 16


@dataclass(frozen=True)
class Move:
    """One way a case leaves a stage: the event, and where it goes."""

    source: str
    event: str
    target: str
    step: str


@dataclass(frozen=True)
class Box:
    stage: str
    lines: tuple[str, ...]
    y: int
    height: int

    @property
    def middle(self) -> int:
        return self.y + self.height // 2


def actor_name(actor: str) -> str:
    return ACTORS.get(actor, actor.replace("_", " "))


def moves(procedure: Procedure) -> list[Move]:
    """Every transition to another stage, in the order the file declares them."""
    found: list[Move] = []
    for name, stage in procedure.stages.items():
        for event, transitions in stage.events.items():
            for transition in transitions:
                if transition.to and transition.to != name:
                    found.append(Move(name, event, transition.to, transition.step or ""))
    return found


def stage_lines(procedure: Procedure, name: str) -> tuple[str, ...]:
    stage = procedure.stages[name]
    step = procedure.steps.get(stage.step)
    lines = textwrap.wrap(f"Step {stage.step}: {stage.title}", 52)
    lines += textwrap.wrap(f"Owner: {actor_name(stage.actor)}", 62)
    if step is not None and not stage.final:
        lines += textwrap.wrap(f"Timescale: {step.timescale}", 62)
    return tuple(lines)


def _lanes(spans: list[tuple[int, int]]) -> list[int]:
    """A lane for each vertical span so that spans sharing a lane never overlap."""
    ends: list[int] = []
    lanes: list[int] = []
    for top, bottom in spans:
        lane = next((i for i, end in enumerate(ends) if end < top), len(ends))
        if lane == len(ends):
            ends.append(bottom)
        else:
            ends[lane] = bottom
        lanes.append(lane)
    return lanes


def procedure_svg(procedure: Procedure, current: str | None = None) -> str:
    """The whole procedure as an SVG document; `current` (a stage name) is marked."""
    edges = moves(procedure)
    y = _TOP
    boxes: dict[str, Box] = {}
    for name in procedure.stages:
        lines = stage_lines(procedure, name) + (("Current stage",) if name == current else ())
        height = 14 + _LINE * len(lines)
        boxes[name] = Box(name, lines, y, height)
        y += height + _GAP
    down = [e for e in edges if boxes[e.target].y > boxes[e.source].y]
    up = [e for e in edges if boxes[e.target].y < boxes[e.source].y]
    ports = _ports(down, boxes) | _ports(up, boxes)

    def span(edge: Move) -> tuple[int, int]:
        start, end = ports[(id(edge), "source")], ports[(id(edge), "target")]
        return min(start, end), max(start, end)

    down.sort(key=span)
    up.sort(key=span)
    down_lanes = _lanes([span(e) for e in down])
    up_lanes = _lanes([span(e) for e in up])
    left = 20 + _LANE * (max(up_lanes, default=-1) + 1)
    right = left + _BOX_W
    width = right + 20 + _LANE * (max(down_lanes, default=-1) + 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" '
        f'width="{width}" height="{y}" role="img" aria-labelledby="procedure-title">',
        '<title id="procedure-title">The contract concerns procedure: each stage, who owns '
        "it, its timescale, and the ways a case moves on</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#505a5f"/></marker></defs>',
    ]
    for edge, lane in zip(down, down_lanes, strict=True):
        out.append(_arc(edge, ports, right, right + 12 + _LANE * lane))
    for edge, lane in zip(up, up_lanes, strict=True):
        out.append(_arc(edge, ports, left, left - 12 - _LANE * lane))
    for box in boxes.values():
        out.append(_box(box, left, box.stage == current))
    out.append("</svg>")
    return "\n".join(out)


def _ports(edges: list[Move], boxes: dict[str, Box]) -> dict[tuple[int, str], int]:
    """Where each edge meets its boxes: spread along the box's side, ordered by where the
    other end lies, so that lines leaving and arriving at one box never share a point."""
    touching: dict[str, list[tuple[int, int, str]]] = {}
    for edge in edges:
        for end, other in (("source", edge.target), ("target", edge.source)):
            owner = edge.source if end == "source" else edge.target
            touching.setdefault(owner, []).append((boxes[other].middle, id(edge), end))
    ports: dict[tuple[int, str], int] = {}
    for name, ends in touching.items():
        where = boxes[name]
        ends.sort()
        for number, (_, edge_id, end) in enumerate(ends, start=1):
            ports[(edge_id, end)] = where.y + round(number * where.height / (len(ends) + 1))
    return ports


def _arc(edge: Move, ports: dict[tuple[int, str], int], side: int, lane_x: int) -> str:
    start, end = ports[(id(edge), "source")], ports[(id(edge), "target")]
    title = escape(f"{edge.source} to {edge.target} on {edge.event}")
    return (
        f'<path d="M{side},{start} H{lane_x} V{end} H{side}" fill="none" stroke="#505a5f" '
        f'stroke-width="1.5" marker-end="url(#arrow)"><title>{title}</title></path>'
    )


def _box(box: Box, left: int, current: bool) -> str:
    fill, stroke, width = ("#d2e2f1", "#1d70b8", 4) if current else ("#f3f2f1", "#0b0c0c", 1.5)
    parts = [
        f"<g id={quoteattr('stage-' + box.stage)}>",
        f'<rect x="{left}" y="{box.y}" width="{_BOX_W}" height="{box.height}" rx="2" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>',
    ]
    for number, line in enumerate(box.lines):
        weight = ' font-weight="bold"' if number == 0 or line == "Current stage" else ""
        parts.append(
            f'<text x="{left + 10}" y="{box.y + 22 + _LINE * number}" font-size="14" '
            f'font-family="Arial, Helvetica, sans-serif" fill="#0b0c0c"{weight}>'
            f"{escape(line)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)
