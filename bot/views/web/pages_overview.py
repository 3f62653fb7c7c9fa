"""Workload, the procedure drawn, and the bot's health."""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.views.web.procedure_svg import actor_name, moves, procedure_svg
from bot.views.web.site import Site
from bot.views.web.summary import Judge


def workload(site: Site) -> dict[str, Any]:
    """Open cases, overdue and due this week, per officer and per stage."""
    judge = Judge(site.rules, site.clock.now())
    per_officer: dict[str, Counter[str]] = {}
    per_stage: dict[str, Counter[str]] = {}
    for summary in site.data.open_summaries():
        standing = judge.standing(summary)
        for table, key in ((per_officer, summary.officer_id), (per_stage, summary.stage)):
            counts = table.setdefault(key, Counter())
            counts["open"] += 1
            counts["overdue"] += standing.overdue
            counts["week"] += standing.due_this_week
    config = site.rules.config
    officers = [(p.id, p.name) for p in config.people_with_role("cmo")]
    officers += [(k, k) for k in per_officer if k and k not in dict(officers)]
    officer_rows = [(name, per_officer.get(pid, Counter())) for pid, name in officers]
    if "" in per_officer:
        officer_rows.append(("Not allocated", per_officer[""]))
    stages = site.rules.procedure.stages
    stage_rows = [
        (f"Step {spec.step}: {spec.title}", per_stage[name])
        for name, spec in stages.items()
        if name in per_stage
    ]
    return {"officers": officer_rows, "stages": stage_rows}


def routes(site: Site) -> list[Route]:
    def show_workload(request: Request) -> Response:
        return site.pages.render(request, "workload.html", section="workload", **workload(site))

    def show_procedure(request: Request) -> Response:
        procedure = site.rules.procedure
        rows = []
        for name, stage in procedure.stages.items():
            step = procedure.steps.get(stage.step)
            leaving = [m for m in moves(procedure) if m.source == name]
            rows.append(
                {
                    "stage": stage,
                    "owner": actor_name(stage.actor),
                    "timescale": step.timescale if step and not stage.final else "",
                    "deadlines": stage.deadlines,
                    "moves": [(m.event, procedure.stages[m.target].title, m.step) for m in leaving],
                }
            )
        anywhere = [(event, [t.to for t in ts if t.to]) for event, ts in procedure.any.items()]
        return site.pages.render(
            request, "procedure.html", section="procedure", rows=rows, anywhere=anywhere
        )

    def svg(request: Request) -> Response:
        current = request.query_params.get("current")
        stage = current if current in site.rules.procedure.stages else None
        body = procedure_svg(site.rules.procedure, stage)
        return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})

    def health(request: Request) -> Response:
        status = site.data.status(site.clock.now(), site.backlog())
        return site.pages.render(request, "health.html", section="health", status=status)

    def healthz(request: Request) -> Response:
        # For monitoring, without sign-in: no personal data, and cheap (no case is read).
        status = site.data.status(site.clock.now(), site.backlog(), cases=False)
        return JSONResponse(
            status.health_json(),
            status_code=200 if status.healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/workload", show_workload, methods=["GET"]),
        Route("/procedure", show_procedure, methods=["GET"]),
        Route("/procedure.svg", svg, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
