"""A case's page, its kept emails and letters, and their downloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.handling.approval import waits_for_approval
from bot.intake.threading import normalise
from bot.procedure.case import Case
from bot.views.web import case_view
from bot.views.web.decisions import offered
from bot.views.web.downloads import download
from bot.views.web.mailview import read_mail
from bot.views.web.site import Site, user_of
from bot.views.web.summary import Judge


def case_page(
    site: Site,
    request: Request,
    case: Case,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rules = site.rules
    me = user_of(request)
    judge = Judge(rules, site.clock.now())
    mail, letters = case_view.documents(case)
    policy = rules.policy
    return site.pages.render(
        request,
        "case.html",
        status_code,
        section="cases",
        case=case,
        stage=rules.procedure.stages.get(case.stage),
        track=case_view.track(case, rules),
        deadlines=case_view.deadlines(case, judge),
        timeline=case_view.timeline(case),
        parties=case_view.parties(case, rules),
        mail=mail,
        letters=letters,
        decisions=offered(rules.procedure, policy, case.stage, me.roles)
        if case.status == "open"
        else [],
        may_allocate=case.status == "open" and policy.allowed("allocate", me.roles),
        officers=rules.config.people_with_role("cmo"),
        waiting=site.data.spool.waiting(case.reference),
        draft_waiting=case.status == "open" and waits_for_approval(case, rules.procedure),
        results=site.data.spool.results(case.reference)[:5],
        errors=dict(errors or {}),
        values=dict(values or {}),
    )


def find_case(site: Site, request: Request) -> Case | None:
    reference = normalise(str(request.path_params.get("reference", "")))
    return site.data.case(reference) if reference.startswith("CC-") else None


def routes(site: Site) -> list[Route]:
    def document(request: Request) -> tuple[Case | None, dict[str, str] | None, bytes | None]:
        case = find_case(site, request)
        number = int(request.path_params["number"])
        if case is None or not 1 <= number <= len(case.documents):
            return case, None, None
        doc = case.documents[number - 1]
        sha = doc.get("sha", "")
        raw = site.data.raw_mail(sha) if sha and not doc.get("purged") else None
        return case, doc, raw

    def show_case(request: Request) -> Response:
        case = find_case(site, request)
        return site.not_found(request, "case") if case is None else case_page(site, request, case)

    def show_document(request: Request) -> Response:
        case, doc, raw = document(request)
        if case is None or doc is None:
            return site.not_found(request, "document")
        where = f"/cases/{case.reference}/documents/{request.path_params['number']}"
        context: dict[str, Any] = {"case": case, "doc": doc, "where": where, "section": "cases"}
        if raw is None:
            return site.pages.render(request, "document.html", mail=None, **context)
        return site.pages.render(request, "document.html", mail=read_mail(raw), **context)

    def original(request: Request) -> Response:
        case, doc, raw = document(request)
        if case is None or doc is None or raw is None:
            return site.not_found(request, "document")
        name = f"{case.reference}-{request.path_params['number']}.eml"
        return download(raw, name, "message/rfc822")

    def attachment(request: Request) -> Response:
        case, _, raw = document(request)
        index = int(request.path_params["index"])
        parts = read_mail(raw).attachments if raw is not None else ()
        if case is None or not 1 <= index <= len(parts):
            return site.not_found(request, "attachment")
        return download(parts[index - 1].data, parts[index - 1].filename)

    prefix = "/cases/{reference}"
    return [
        Route(prefix, show_case, methods=["GET"]),
        Route(prefix + "/documents/{number:int}", show_document, methods=["GET"]),
        Route(prefix + "/documents/{number:int}/original", original, methods=["GET"]),
        Route(prefix + "/documents/{number:int}/attachments/{index:int}", attachment),
    ]
