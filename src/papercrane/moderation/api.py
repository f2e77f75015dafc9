"""Trust and safety API: rules, reports, the moderators' queue and decisions, statements of
reasons and appeals for the member affected, the audit log and transparency figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from papercrane.accounts.api import AuthorOut
from papercrane.api.auth import AuthedRequest, member_auth
from papercrane.api.pagination import paginate
from papercrane.api.problems import Problem, not_found
from papercrane.ids import parse_id
from papercrane.moderation import queries, services, standing, targets
from papercrane.moderation.models import Action, Appeal, AuditEntry, Case, Decision, Report
from papercrane.moderation.services import Conflict

router = Router(tags=["moderation"])

Limit = Query(20, ge=1, le=100)
TargetKind = Literal["note", "comment", "member", "live_message"]


def _conflict(error: Conflict) -> Problem:
    return Problem(409, "conflict", error.message)


def _moderator(request: AuthedRequest) -> None:
    if not standing.is_moderator(request.auth):
        raise PermissionDenied(_("Only moderators can do this."))


# --- Rules and reports ------------------------------------------------------------------------


class RuleOut(Schema):
    id: str
    code: str
    title: str
    body: str
    category: str
    severity: int

    @staticmethod
    def resolve_id(rule: Any) -> str:
        return str(rule.pk)

    @staticmethod
    def resolve_title(rule: Any) -> str:
        return queries.rule_title(rule, get_language())

    @staticmethod
    def resolve_body(rule: Any) -> str:
        return queries.rule_body(rule, get_language())


@router.get("/rules", response=list[RuleOut], summary="The community rules, in your language")
def list_rules(request: HttpRequest) -> list[Any]:
    return list(queries.rules())


class ReportIn(Schema):
    target_type: TargetKind
    target_id: str = Field(..., max_length=30)
    reason: str = Field(..., max_length=40, description="the code of a community rule")
    details: str = Field("", max_length=5000, description="up to 1,000 characters")


class ReportOut(Schema):
    id: str
    target_type: str
    target_id: str
    reason: str
    category: str
    details: str
    status: str = Field(description="pending, actioned or dismissed")
    merged: bool = Field(description="true when you had reported this item already")
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_id(report: Report) -> str:
        return str(report.pk)

    @staticmethod
    def resolve_target_type(report: Report) -> str:
        return report.case.target_type

    @staticmethod
    def resolve_target_id(report: Report) -> str:
        return str(report.case.target_id)

    @staticmethod
    def resolve_reason(report: Report) -> str:
        return report.rule.code

    @staticmethod
    def resolve_status(report: Report) -> str:
        return report.outcome

    @staticmethod
    def resolve_merged(report: Report) -> bool:
        return bool(getattr(report, "merged", False))


@router.post(
    "/reports",
    response={201: ReportOut},
    auth=member_auth,
    summary="Report a note, comment or member under a community rule",
)
def file_report(request: AuthedRequest, payload: ReportIn) -> Status[Report]:
    target = queries.reportable(request.auth, payload.target_type, payload.target_id)
    if target is None:
        raise not_found()
    try:
        filed = services.file_report(
            reporter=request.auth,
            target=target,
            rule=queries.rule_by_code(payload.reason),
            details=payload.details,
        )
    except Conflict as error:
        raise _conflict(error) from error
    filed.report.merged = not filed.created  # type: ignore[attr-defined]
    return Status(201, filed.report)


class ReportPage(Schema):
    items: list[ReportOut]
    next_cursor: str | None


@router.get("/accounts/me/reports", response=ReportPage, auth=member_auth)
def my_reports(request: AuthedRequest, limit: int = Limit, cursor: str | None = None) -> Any:
    rows, next_cursor = paginate(queries.reports_by(request.auth), cursor=cursor, limit=limit)
    return {"items": rows, "next_cursor": next_cursor}


# --- Statements of reasons and appeals ----------------------------------------------------------


class AppealOut(Schema):
    id: str
    decision_id: str
    text: str
    status: str
    created_at: datetime
    decided_at: datetime | None
    explanation: str

    @staticmethod
    def resolve_id(appeal: Appeal) -> str:
        return str(appeal.pk)

    @staticmethod
    def resolve_decision_id(appeal: Appeal) -> str:
        return str(appeal.decision_id)


class StatementOut(Schema):
    """A decision as the member it affects reads it, in their language."""

    id: str
    target_type: str
    target_id: str
    action: str
    action_label: str
    rule: RuleOut
    explanation: str = Field(description="the moderator's facts and circumstances")
    category: str
    decision_visibility: str
    decision_account: str
    decision_ground: str
    automated_detection: bool
    automated_decision: str
    source_type: str
    content_date: date
    application_date: date
    end_date_account_restriction: datetime | None
    territorial_scope: list[str]
    created_at: datetime
    reversed: bool
    can_appeal: bool
    appeal: AppealOut | None

    @staticmethod
    def resolve_id(decision: Decision) -> str:
        return str(decision.pk)

    @staticmethod
    def resolve_target_id(decision: Decision) -> str:
        return str(decision.target_id)

    @staticmethod
    def resolve_action_label(decision: Decision) -> str:
        return str(Action(decision.action).label)

    @staticmethod
    def resolve_explanation(decision: Decision) -> str:
        return decision.decision_facts

    @staticmethod
    def resolve_reversed(decision: Decision) -> bool:
        return decision.reversed_at is not None

    @staticmethod
    def resolve_can_appeal(decision: Decision) -> bool:
        return queries.can_appeal(decision)

    @staticmethod
    def resolve_appeal(decision: Decision) -> Appeal | None:
        return queries.appeal_for(decision)


class StatementPage(Schema):
    items: list[StatementOut]
    next_cursor: str | None


@router.get(
    "/accounts/me/decisions",
    response=StatementPage,
    auth=member_auth,
    summary="Every moderation decision that restricts you or your posts",
)
def my_decisions(request: AuthedRequest, limit: int = Limit, cursor: str | None = None) -> Any:
    rows, next_cursor = paginate(
        queries.decisions_about(request.auth), cursor=cursor, limit=limit, ordering=("-pk",)
    )
    return {"items": rows, "next_cursor": next_cursor}


class AppealIn(Schema):
    text: str = Field(..., max_length=10_000, description="why the decision is wrong")


@router.post(
    "/decisions/{decision_id}/appeal",
    response={201: AppealOut},
    auth=member_auth,
    summary="Appeal a decision about you (another moderator decides)",
)
def appeal(request: AuthedRequest, decision_id: str, payload: AppealIn) -> Status[Appeal]:
    decision = queries.decision_for(request.auth, decision_id)
    if decision is None:
        raise not_found()
    try:
        made = services.appeal(member=request.auth, decision=decision, text=payload.text)
    except Conflict as error:
        raise _conflict(error) from error
    return Status(201, made)


# --- The moderators' queue ----------------------------------------------------------------------


class CaseOut(Schema):
    id: str
    target_type: str
    target_id: str
    subject: AuthorOut
    excerpt: str
    reasons: list[str] = Field(description="codes of the rules it was reported under")
    priority: float
    severity: int
    report_count: int
    flag_count: int
    held: bool
    status: str
    opened_at: datetime

    @staticmethod
    def resolve_id(case: Case) -> str:
        return str(case.pk)

    @staticmethod
    def resolve_target_id(case: Case) -> str:
        return str(case.target_id)

    @staticmethod
    def resolve_excerpt(case: Case) -> str:
        return getattr(case, "excerpt", "")

    @staticmethod
    def resolve_reasons(case: Case) -> list[str]:
        return getattr(case, "reasons", [])


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None


@router.get(
    "/moderation/reports",
    response=CasePage,
    auth=member_auth,
    summary="The queue: open cases, most urgent first (moderators)",
)
def moderation_queue(request: AuthedRequest, limit: int = Limit, cursor: str | None = None) -> Any:
    _moderator(request)
    cases, next_cursor = paginate(
        queries.queue(), cursor=cursor, limit=limit, ordering=("-priority", "opened_at", "pk")
    )
    for case, target, reasons in queries.queue_rows(cases):
        case.excerpt = queries.excerpt(target)  # type: ignore[attr-defined]
        case.reasons = reasons  # type: ignore[attr-defined]
    return {"items": cases, "next_cursor": next_cursor}


class FlagOut(Schema):
    source: str
    label: str
    score: float
    high_confidence: bool
    detail: str


class CaseReportOut(Schema):
    reason: str
    details: str
    language: str
    created_at: datetime

    @staticmethod
    def resolve_reason(report: Report) -> str:
        return report.rule.code


class PriorDecisionOut(Schema):
    id: str
    action: str
    rule: str
    created_at: datetime
    reversed: bool

    @staticmethod
    def resolve_id(decision: Decision) -> str:
        return str(decision.pk)

    @staticmethod
    def resolve_rule(decision: Decision) -> str:
        return decision.rule.code

    @staticmethod
    def resolve_reversed(decision: Decision) -> bool:
        return decision.reversed_at is not None


class CaseDetailOut(CaseOut):
    """A case with its context (``queries.case_context``, attached as ``context``)."""

    text: str
    language: str
    state: str = Field(description='the item\'s moderation state; "deleted" when it is gone')
    reports: list[CaseReportOut]
    flags: list[FlagOut]
    prior_decisions: list[PriorDecisionOut]
    subject_notes: int
    subject_comments: int
    subject_joined: datetime

    @staticmethod
    def resolve_text(case: Case) -> str:
        target = case.context.target  # type: ignore[attr-defined]
        return target.text if target else ""

    @staticmethod
    def resolve_language(case: Case) -> str:
        target = case.context.target  # type: ignore[attr-defined]
        return target.language if target else ""

    @staticmethod
    def resolve_state(case: Case) -> str:
        target = case.context.target  # type: ignore[attr-defined]
        return target.state if target else "deleted"

    @staticmethod
    def resolve_reports(case: Case) -> list[Report]:
        return case.context.reports  # type: ignore[attr-defined]

    @staticmethod
    def resolve_flags(case: Case) -> list[Any]:
        return case.context.flags  # type: ignore[attr-defined]

    @staticmethod
    def resolve_prior_decisions(case: Case) -> list[Decision]:
        return case.context.prior_decisions  # type: ignore[attr-defined]

    @staticmethod
    def resolve_subject_notes(case: Case) -> int:
        return case.context.subject_notes  # type: ignore[attr-defined]

    @staticmethod
    def resolve_subject_comments(case: Case) -> int:
        return case.context.subject_comments  # type: ignore[attr-defined]

    @staticmethod
    def resolve_subject_joined(case: Case) -> datetime:
        return case.subject.date_joined


@router.get("/moderation/cases/{case_id}", response=CaseDetailOut, auth=member_auth)
def moderation_case(request: AuthedRequest, case_id: str) -> Case:
    _moderator(request)
    case = queries.case(case_id)
    if case is None:
        raise not_found()
    context = queries.case_context(case)
    case.context = context  # type: ignore[attr-defined]
    case.excerpt = queries.excerpt(context.target)  # type: ignore[attr-defined]
    case.reasons = sorted(context.rule_counts)  # type: ignore[attr-defined]
    return case


class DecisionIn(Schema):
    target_type: TargetKind
    target_id: str = Field(..., max_length=30)
    action: Literal["dismiss", "label", "limit", "remove", "suspend"]
    rule_id: str = Field(..., max_length=30)
    explanation: str = Field(..., max_length=10_000)
    suspension_days: int | None = Field(
        None, description="for suspend: days (1 to 3650); absent means permanently"
    )


class BulkDecisionIn(Schema):
    case_ids: list[str] = Field(..., max_length=200)
    action: Literal["dismiss", "label", "limit", "remove", "suspend"]
    rule_id: str = Field(..., max_length=30)
    explanation: str = Field(..., max_length=10_000)
    suspension_days: int | None = None


class DecisionOut(Schema):
    id: str
    target_type: str
    target_id: str
    action: str
    rule_id: str
    explanation: str
    statement: dict[str, Any] = Field(description="the DSA statement of reasons, no personal data")
    created_at: datetime

    @staticmethod
    def resolve_id(decision: Decision) -> str:
        return str(decision.pk)

    @staticmethod
    def resolve_target_id(decision: Decision) -> str:
        return str(decision.target_id)

    @staticmethod
    def resolve_rule_id(decision: Decision) -> str:
        return str(decision.rule_id)

    @staticmethod
    def resolve_explanation(decision: Decision) -> str:
        return decision.decision_facts

    @staticmethod
    def resolve_statement(decision: Decision) -> dict[str, Any]:
        return queries.dsa_statement(decision)


def _request(payload: DecisionIn | BulkDecisionIn) -> services.DecisionRequest:
    return services.DecisionRequest(
        action=payload.action,
        rule=queries.rule(payload.rule_id),
        explanation=payload.explanation,
        suspension_days=payload.suspension_days,
    )


@router.post(
    "/moderation/decisions",
    response={201: DecisionOut},
    auth=member_auth,
    summary="Decide on an item: dismiss, label, limit, remove or suspend (moderators)",
)
def decide(request: AuthedRequest, payload: DecisionIn) -> Status[Decision]:
    _moderator(request)
    target = targets.load(payload.target_type, payload.target_id)
    if target is None:
        raise not_found()
    try:
        decision = services.decide(moderator=request.auth, target=target, request=_request(payload))
    except Conflict as error:
        raise _conflict(error) from error
    return Status(201, decision)


class BulkOut(Schema):
    decided: list[DecisionOut]


@router.post(
    "/moderation/decisions/bulk",
    response=BulkOut,
    auth=member_auth,
    summary="The same decision on many open cases (a spam wave)",
)
def decide_bulk(request: AuthedRequest, payload: BulkDecisionIn) -> Any:
    _moderator(request)
    ids = [case_id for case_id in (parse_id(i) for i in payload.case_ids) if case_id]
    decided = services.decide_cases(moderator=request.auth, case_ids=ids, request=_request(payload))
    return {"decided": decided}


class PendingAppealOut(AppealOut):
    decision: PriorDecisionOut
    decided_by_you: bool

    @staticmethod
    def resolve_decided_by_you(appeal: Appeal) -> bool:
        return bool(getattr(appeal, "decided_by_you", False))


class AppealPage(Schema):
    items: list[PendingAppealOut]
    next_cursor: str | None


@router.get("/moderation/appeals", response=AppealPage, auth=member_auth)
def pending_appeals(request: AuthedRequest, limit: int = Limit, cursor: str | None = None) -> Any:
    _moderator(request)
    rows, next_cursor = paginate(
        queries.pending_appeals(), cursor=cursor, limit=limit, ordering=("created_at", "pk")
    )
    for row in rows:
        row.decided_by_you = row.decision.moderator_id == request.auth.pk  # type: ignore[attr-defined]
    return {"items": rows, "next_cursor": next_cursor}


class AppealDecisionIn(Schema):
    outcome: Literal["uphold", "reverse"]
    explanation: str = Field(..., max_length=10_000)


@router.post(
    "/moderation/appeals/{appeal_id}/decision",
    response=AppealOut,
    auth=member_auth,
    summary="Uphold or reverse an appealed decision (not your own)",
)
def decide_appeal(request: AuthedRequest, appeal_id: str, payload: AppealDecisionIn) -> Appeal:
    _moderator(request)
    pending = queries.pending_appeal(appeal_id)
    if pending is None:
        raise not_found()
    try:
        return services.decide_appeal(
            moderator=request.auth,
            appeal=pending,
            reverse=payload.outcome == "reverse",
            explanation=payload.explanation,
        )
    except Conflict as error:
        raise _conflict(error) from error


class AuditOut(Schema):
    id: str
    actor: str | None = Field(description="the moderator's username; null for automation")
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any]
    after: dict[str, Any]
    created_at: datetime

    @staticmethod
    def resolve_id(entry: AuditEntry) -> str:
        return str(entry.pk)

    @staticmethod
    def resolve_actor(entry: AuditEntry) -> str | None:
        return entry.actor.username if entry.actor else None

    @staticmethod
    def resolve_target_id(entry: AuditEntry) -> str:
        return str(entry.target_id)


class AuditPage(Schema):
    items: list[AuditOut]
    next_cursor: str | None


@router.get("/moderation/audit-log", response=AuditPage, auth=member_auth)
def audit_log(request: AuthedRequest, limit: int = Limit, cursor: str | None = None) -> Any:
    _moderator(request)
    rows, next_cursor = paginate(queries.audit_log(), cursor=cursor, limit=limit)
    return {"items": rows, "next_cursor": next_cursor}


# --- Transparency -------------------------------------------------------------------------------

Period = Query(..., pattern=r"^\d{4}-Q[1-4]$", description="a quarter, e.g. 2026-Q4")


@router.get("/transparency", summary="Aggregate moderation figures for a quarter (public)")
def transparency(request: HttpRequest, period: str = Period) -> dict[str, Any]:
    return queries.transparency(period)


@router.get(
    "/moderation/statements",
    auth=member_auth,
    summary="Statements of reasons of a quarter in the DSA database's format (moderators)",
)
def statements(request: AuthedRequest, period: str = Period) -> dict[str, Any]:
    _moderator(request)
    start, end = queries.quarter(period)
    return {"period": period, "statements": queries.dsa_statements(start, end)}
