"""What staff do from the dashboard: each form becomes an instruction for the daemon.

The dashboard never changes a case itself. A form is checked, written as the command lines an
officer would email, and dropped in the instructions folder; the daemon carries it out at its
next poll through the same command engine, with the same role limits and receipts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.actions.concern import concern_copy
from bot.commands.parser import COPY_END, COPY_START
from bot.handling.approval import waits_for_approval
from bot.store.spool import Instruction, new_id, one_line
from bot.views.web.decisions import BY_NAME, command_line, offered
from bot.views.web.pages_case import case_page, find_case
from bot.views.web.pages_triage import triage_page
from bot.views.web.render import flash
from bot.views.web.site import Site, user_of

_REFERENCE = re.compile(r"^CC-\d{4}-\d{4,6}$")
MAX_REASON = 1000

# A line the command parser would take for a marker (=== words ===), never kept in an edit.
_MARKER_LINE = re.compile(r"^\s*={2,}.*={2,}\s*$")

def _field(form: Mapping[str, object], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def submit(
    site: Site, request: Request, reference: str | None, lines: list[str], reason: str = ""
) -> None:
    me = user_of(request)
    site.data.spool.submit(
        Instruction(
            id=new_id(site.clock.now()),
            submitted_at=site.clock.now(),
            by_id=me.id,
            by_name=me.name,
            by_address=me.address,
            reference=reference,
            lines=tuple(lines),
            reason=one_line(reason),
            local=me.local,
        )
    )
    flash(
        request,
        "Sent to the bot. It carries this out at its next poll (within "
        f"{site.rules.config.poll_interval_seconds} seconds while it runs), and the timeline "
        "then shows it.",
    )


def routes(site: Site) -> list[Route]:
    async def allocate(request: Request) -> Response:
        case = find_case(site, request)
        if case is None:
            return site.not_found(request, "case")
        form = await request.form()
        officer = _field(form, "officer")
        if site.rules.config.person(officer) is None:
            errors = {"officer": "Choose an officer from the list"}
            return case_page(site, request, case, errors=errors, status_code=400)
        submit(site, request, case.reference, [f"allocate to {officer}"])
        return RedirectResponse(f"/cases/{case.reference}", 303)

    async def decide(request: Request) -> Response:
        case = find_case(site, request)
        if case is None:
            return site.not_found(request, "case")
        form = await request.form()
        values = {"decision": _field(form, "decision"), "reason": _field(form, "reason")}
        allowed = offered(
            site.rules.procedure, site.rules.policy, case.stage, user_of(request).roles
        )
        decision = BY_NAME.get(values["decision"])
        errors: dict[str, str] = {}
        if decision is None or decision not in allowed:
            errors["decision"] = "Choose the decision to record"
        if not values["reason"]:
            errors["reason"] = "Give the reason for the decision"
        elif len(values["reason"]) > MAX_REASON:
            errors["reason"] = f"The reason must be {MAX_REASON} characters or fewer"
        if errors or decision is None:
            return case_page(site, request, case, errors=errors, values=values, status_code=400)
        line = command_line(decision, values["reason"])
        reason = "" if decision.takes_reason else values["reason"]
        submit(site, request, case.reference, [line], reason)
        return RedirectResponse(f"/cases/{case.reference}", 303)

    async def file_item(request: Request) -> Response:
        item_id = str(request.path_params["item"])
        form = await request.form()
        reference = _field(form, "reference").upper()
        found = site.data.case(reference) if _REFERENCE.match(reference) else None
        if found is None or found.status != "open":
            errors = {"reference": "Enter the reference of an open case, like CC-2026-0042"}
            values = {"reference": reference}
            return triage_page(site, request, item_id, errors=errors, values=values)
        submit(site, request, None, [f"attach {item_id} to {found.reference}"])
        return RedirectResponse("/triage", 303)

    async def dismiss_item(request: Request) -> Response:
        item_id = str(request.path_params["item"])
        form = await request.form()
        reason = _field(form, "why")
        if not reason or len(reason) > MAX_REASON:
            errors = {"why": "Say why this email is not a concern"}
            return triage_page(site, request, item_id, errors=errors, values={"why": reason})
        submit(site, request, None, [f"dismiss {item_id}: not a concern - {one_line(reason)}"])
        return RedirectResponse("/triage", 303)

    async def drafts(request: Request) -> Response:
        """The draft letter to the provider: approve it, or send it with an edited copy."""
        case = find_case(site, request)
        if case is None:
            return site.not_found(request, "case")
        config, procedure = site.rules.config, site.rules.procedure
        waiting = case.status == "open" and waits_for_approval(case, procedure)
        errors: dict[str, str] = {}
        values: dict[str, str] = {}
        if request.method == "POST" and waiting:
            form = await request.form()
            action, text = _field(form, "action"), _field(form, "copy")
            if action == "approve":
                submit(site, request, case.reference, ["approve the letter"])
                return RedirectResponse(f"/cases/{case.reference}", 303)
            # The marker lines are the edit's frame: any inside the text are dropped, so an
            # edit can never end early and turn the rest into instructions.
            kept = [line for line in text.splitlines() if not _MARKER_LINE.match(line)]
            if action == "edit" and "".join(kept).strip():
                submit(site, request, case.reference, [COPY_START, *kept, COPY_END])
                return RedirectResponse(f"/cases/{case.reference}", 303)
            errors["copy"] = "Enter the copy of the concern the provider will read"
            values["copy"] = text
        officer = config.person(case.officer_id) if case.officer_id else None
        return site.pages.render(
            request,
            "drafts.html",
            400 if errors else 200,
            section="cases",
            case=case,
            waiting_for_approval=waiting,
            officer_name=officer.name if officer else "not allocated yet",
            copy=concern_copy(case, config) if waiting else "",
            errors=errors,
            values=values,
        )

    item = "/triage/{item:str}"
    return [
        Route("/cases/{reference}/allocate", allocate, methods=["POST"]),
        Route("/cases/{reference}/decision", decide, methods=["POST"]),
        Route("/cases/{reference}/drafts", drafts, methods=["GET", "POST"]),
        Route(item + "/file", file_item, methods=["POST"]),
        Route(item + "/dismiss", dismiss_item, methods=["POST"]),
    ]
