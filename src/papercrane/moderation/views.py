"""Trust and safety on the web: the community rules, reporting, what a member reads about
decisions that affect them (and appeals), the moderators' queue, cases, appeals and audit log,
and the public transparency report.

Thin, like the API beside it: parse the form, call the same services and queries, render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from papercrane import ratelimit
from papercrane.accounts.http import MemberRequest
from papercrane.api.pagination import paginate
from papercrane.api.problems import Problem
from papercrane.engagement import queries as engagement_queries
from papercrane.ids import parse_id
from papercrane.language import detection
from papercrane.language import queries as language_queries
from papercrane.language import services as language_services
from papercrane.live import queries as live_queries
from papercrane.moderation import queries, services, standing, targets
from papercrane.moderation.models import (
    Action,
    Appeal,
    AppealStatus,
    AutomatedDecision,
    Case,
    CaseStatus,
    Category,
    ContentState,
    Decision,
    SourceType,
    TargetType,
)
from papercrane.moderation.services import Conflict, DecisionRequest
from papercrane.moderation.targets import Target
from papercrane.notes import queries as note_queries

PAGE_SIZE = 20
# What a moderator can choose (holding is automation's own action).
BULK_ACTIONS = [Action.DISMISS, Action.LABEL, Action.LIMIT, Action.REMOVE, Action.SUSPEND]
Errors = dict[str, list[str]]
PERIOD = re.compile(r"^\d{4}-Q[1-4]$")
QUARTERS_OFFERED = 8
CONTENT_TYPES = {
    "CONTENT_TYPE_TEXT": gettext_lazy("Text"),
    "CONTENT_TYPE_IMAGE": gettext_lazy("Images"),
    "CONTENT_TYPE_VIDEO": gettext_lazy("Video"),
    "CONTENT_TYPE_AUDIO": gettext_lazy("Audio"),
    "CONTENT_TYPE_OTHER": gettext_lazy("Other"),
}


# --- Helpers ----------------------------------------------------------------------------------


def _errors_of(error: ValidationError) -> Errors:
    """A service's ValidationError({field: [...]}) as messages per field ("form": the rest)."""
    if not hasattr(error, "error_dict"):
        return {"form": [str(message) for message in error.messages]}
    return {
        ("form" if name == "__all__" else name): [str(message) for message in messages_]
        for name, messages_ in error.message_dict.items()
    }


def _page(
    request: HttpRequest, queryset: Any, ordering: tuple[str, ...]
) -> tuple[list[Any], str | None]:
    """One page of ``queryset`` after the ``?cursor=`` (a keyset, as in the API)."""
    try:
        return paginate(
            queryset, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE, ordering=ordering
        )
    except Problem as error:
        raise StaleCursor from error


class StaleCursor(Exception):
    """An unreadable query string (a forged or stale cursor)."""


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "moderation/bad_request.html", {"message": message}, status=400)


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/forbidden.html", status=403)


def _is_moderator(request: HttpRequest) -> bool:
    return standing.is_moderator(request.user)


def _suspension_days(raw: str, errors: Errors) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    days = parse_id(raw)
    if days is None:
        errors.setdefault("suspension_days", []).append(_("Enter a whole number of days."))
    return days


def _decision_request(post: Any, errors: Errors) -> DecisionRequest:
    """A moderator's posted decision form as the services' request."""
    action = post.get("action", "")
    if action not in BULK_ACTIONS:
        errors.setdefault("action", []).append(_("Choose an action."))
    return DecisionRequest(
        action=action,
        rule=queries.rule(post.get("rule_id") or None),
        explanation=post.get("explanation", "")[:10_000],
        suspension_days=_suspension_days(post.get("suspension_days", ""), errors),
    )


def _actions_for(target_type: str) -> list[tuple[str, str]]:
    """The actions a moderator may take on this kind of item, in a fixed order."""
    allowed = services.ACTIONS_BY_TARGET.get(target_type, set())  # type: ignore[call-overload]
    return [(value, str(label)) for value, label in Action.choices if value in allowed]


def _target_link(viewer: Any, target_type: str, target_id: int) -> str:
    """Where ``viewer`` can see the item, or "" when they cannot (any more)."""
    if target_type == TargetType.NOTE:
        if note_queries.visible_note(viewer, target_id) is not None:
            return reverse("notes:detail", args=[target_id])
    elif target_type == TargetType.COMMENT:
        comment = engagement_queries.visible_comment(viewer, target_id)
        if comment is not None:
            return reverse("notes:detail", args=[comment.note_id]) + f"#comment-{comment.pk}"
    elif target_type == TargetType.MEMBER:
        target = targets.load(TargetType.MEMBER, target_id)
        if target is not None:
            return reverse("web:profile", args=[target.item.username])
    elif target_type == TargetType.LIVE_MESSAGE:
        message = live_queries.visible_message(viewer, target_id)
        if message is not None:
            return reverse("live:room", args=[message.room_id]) + f"#message-{message.pk}"
    return ""


def _target_label(target: Target | None) -> str:
    """A short name of the item: a note's title, a comment's excerpt, a member's name."""
    if target is None:
        return ""
    if target.type == TargetType.NOTE:
        return str(target.item.title) or queries.excerpt(target)
    if target.type == TargetType.MEMBER:
        return f"{target.item.name} (@{target.item.username})"
    return queries.excerpt(target)


# --- Rules ------------------------------------------------------------------------------------


@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/rules.html", {"rules": list(queries.rules())})


# --- Reporting --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report(request: MemberRequest, target_type: str, target_id: str) -> HttpResponse:
    target = queries.reportable(request.user, target_type, target_id)
    if target is None:
        raise Http404
    errors: Errors = {}
    values = {"reason": "", "details": ""}
    if request.method == "POST":
        values = {
            "reason": request.POST.get("reason", "")[:40],
            "details": request.POST.get("details", "")[:5000],
        }
        try:
            filed = services.file_report(
                reporter=request.user,
                target=target,
                rule=queries.rule_by_code(values["reason"]) if values["reason"] else None,
                details=values["details"],
            )
        except ratelimit.RateLimited as error:
            return ratelimit.refusal_page(request, error)
        except ValidationError as error:
            errors = _errors_of(error)
        except Conflict as error:
            errors = {"form": [error.message]}
        else:
            context = {"target": target, "merged": not filed.created, "report": filed.report}
            return render(request, "moderation/report_filed.html", context)
    context = {
        "target": target,
        "label": _target_label(target),
        "back": _target_link(request.user, target.type, target.id),
        "rules": list(queries.rules()),
        "values": values,
        "errors": errors,
        "form_errors": [
            message
            for name, found in errors.items()
            if name not in {"reason", "details"}
            for message in found
        ],
        "details_max": services.DETAILS_MAX_CHARS,
    }
    return render(request, "moderation/report.html", context, status=422 if errors else 200)


@dataclass
class ReportRow:
    report: Any
    target_type: str
    label: str
    link: str


@login_required
@require_GET
def my_reports(request: MemberRequest) -> HttpResponse:
    try:
        reports, next_cursor = _page(request, queries.reports_by(request.user), ("-pk",))
    except StaleCursor:
        return _bad_request(request, _("This page link is no longer valid."))
    rows = []
    for found in reports:
        kind, pk = found.case.target_type, found.case.target_id
        link = _target_link(request.user, kind, pk)
        rows.append(
            ReportRow(found, kind, _target_label(targets.load(kind, pk)) if link else "", link)
        )
    return render(request, "moderation/my_reports.html", {"rows": rows, "older": next_cursor})


# --- Decisions about me and appeals -----------------------------------------------------------


@dataclass
class Statement:
    """A decision as the member it affects reads it."""

    decision: Decision
    label: str  # what was restricted
    link: str
    appeal: Appeal | None
    can_appeal: bool
    permanent: bool
    translation: str = ""
    translation_error: str = ""
    can_translate: bool = False
    errors: list[str] = field(default_factory=list)
    text: str = ""


def _statement(member: Any, decision: Decision, language: str) -> Statement:
    if decision.target_type == TargetType.MEMBER:
        label, link = "", ""
    else:
        link = _target_link(member, decision.target_type, decision.target_id)
        target = targets.load(decision.target_type, decision.target_id)
        label = _target_label(target) if target is not None else ""
    until = decision.end_date_account_restriction
    facts_language = detection.detect(decision.decision_facts)
    return Statement(
        decision=decision,
        label=label,
        link=link,
        appeal=queries.appeal_for(decision),
        can_appeal=queries.can_appeal(decision),
        permanent=until is not None and until.year >= targets.PERMANENT.year,
        can_translate=bool(facts_language)
        and not detection.same_language(facts_language, language),
    )


def _translate(request: MemberRequest, statement: Statement, language: str) -> None:
    facts = statement.decision.decision_facts
    try:
        result = language_services.translate_for(str(request.user.pk), [facts], language)
    except ratelimit.RateLimited as limited:
        statement.translation_error = limited.message
    except language_services.TranslationUnavailable as error:
        statement.translation_error = language_services.unavailable_message(error)
    else:
        statement.translation = result.texts[0] if result.texts[0] != facts else ""


def _decisions_page(
    request: MemberRequest,
    *,
    failed: int | None = None,
    errors: list[str] | None = None,
    text: str = "",
) -> HttpResponse:
    try:
        decisions, next_cursor = _page(request, queries.decisions_about(request.user), ("-pk",))
    except StaleCursor:
        return _bad_request(request, _("This page link is no longer valid."))
    language = language_queries.reader_language(request.user)
    wanted = parse_id(request.GET.get("translate", ""))
    statements = []
    for decision in decisions:
        statement = _statement(request.user, decision, language)
        if statement.can_translate and decision.pk == wanted:
            _translate(request, statement, language)
        if decision.pk == failed:
            statement.errors, statement.text = errors or [], text
        statements.append(statement)
    context = {
        "statements": statements,
        "older": next_cursor,
        "appeal_max": services.APPEAL_MAX_CHARS,
        "suspended_until": request.user.suspended_until
        if standing.is_suspended(request.user)
        else None,
    }
    return render(request, "moderation/my_decisions.html", context, status=422 if failed else 200)


@login_required
@require_GET
def my_decisions(request: MemberRequest) -> HttpResponse:
    return _decisions_page(request)


@login_required
@require_POST
def appeal(request: MemberRequest, decision_id: int) -> HttpResponse:
    decision = queries.decision_for(request.user, decision_id)
    if decision is None:
        raise Http404
    text = request.POST.get("text", "")[:10_000]
    anchor = reverse("moderation:my_decisions") + f"#decision-{decision.pk}"
    try:
        services.appeal(member=request.user, decision=decision, text=text)
    except ratelimit.RateLimited as error:
        return ratelimit.refusal_page(request, error)
    except ValidationError as error:
        found = [message for group in _errors_of(error).values() for message in group]
        return _decisions_page(request, failed=decision.pk, errors=found, text=text)
    except Conflict as error:
        messages.error(request, error.message)
        return redirect(anchor)
    messages.success(request, _("Your appeal is sent. Another moderator will review it."))
    return redirect(anchor)


# --- The moderators' queue --------------------------------------------------------------------


@dataclass
class QueueRow:
    case: Case
    target: Target | None
    excerpt: str
    reasons: list[str]


def _queue_page(
    request: MemberRequest, errors: Errors | None = None, values: dict[str, Any] | None = None
) -> HttpResponse:
    try:
        cases, next_cursor = _page(request, queries.queue(), ("-priority", "opened_at", "pk"))
    except StaleCursor:
        return _bad_request(request, _("This page link is no longer valid."))
    rows = [
        QueueRow(case, target, queries.excerpt(target), reasons)
        for case, target, reasons in queries.queue_rows(cases)
    ]
    errors = errors or {}
    context = {
        "rows": rows,
        "older": next_cursor,
        "actions": [(action.value, action.label) for action in BULK_ACTIONS],
        "rules": list(queries.rules()),
        "errors": errors,
        "values": values or {},
        "checked": {parse_id(i) for i in (values or {}).get("case_ids", [])},
        "explanation_min": services.EXPLANATION_MIN_CHARS,
        "explanation_max": services.EXPLANATION_MAX_CHARS,
        "max_days": services.MAX_SUSPENSION_DAYS,
    }
    return render(request, "moderation/queue.html", context, status=422 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def queue(request: MemberRequest) -> HttpResponse:
    if not _is_moderator(request):
        return _forbidden(request)
    if request.method != "POST":
        return _queue_page(request)
    errors: Errors = {}
    posted = request.POST.getlist("case_ids")[: services.MAX_BULK + 1]
    case_ids = [pk for pk in (parse_id(i) for i in posted) if pk]
    decision_request = _decision_request(request.POST, errors)
    values = {**request.POST.dict(), "case_ids": posted}
    if not errors:
        try:
            decided = services.decide_cases(
                moderator=request.user, case_ids=case_ids, request=decision_request
            )
        except ValidationError as error:
            errors = _errors_of(error)
        else:
            count = len(decided)
            messages.success(
                request,
                ngettext("%(count)s case decided.", "%(count)s cases decided.", count)
                % {"count": count},
            )
            return redirect("moderation:queue")
    return _queue_page(request, errors, values)


# --- A case -----------------------------------------------------------------------------------


def _case_page(
    request: MemberRequest, case: Case, errors: Errors | None = None, values: Any = None
) -> HttpResponse:
    context = queries.case_context(case)
    target = context.target
    states = dict(ContentState.choices)
    if target is None:
        state = _("Deleted")
    elif target.type == TargetType.MEMBER:
        state = _("Suspended") if target.state == targets.SUSPENDED else _("Active")
    else:
        state = str(states.get(target.state, target.state))
    errors = errors or {}
    if values is None and context.rule_counts:  # preselect the rule most reports cite
        cited = queries.rule_by_code(max(context.rule_counts, key=context.rule_counts.__getitem__))
        values = {"rule_id": str(cited.pk)} if cited is not None else None
    page = {
        "case": case,
        "context": context,
        "target": target,
        "label": _target_label(target),
        "link": ""
        if target is None or target.is_hidden
        else _target_link(request.user, target.type, target.id),
        "state": state,
        "is_open": case.status == CaseStatus.OPEN and target is not None,
        "actions": _actions_for(case.target_type),
        "rules": list(queries.rules()),
        "errors": errors,
        "values": values or {},
        "explanation_min": services.EXPLANATION_MIN_CHARS,
        "explanation_max": services.EXPLANATION_MAX_CHARS,
        "max_days": services.MAX_SUSPENSION_DAYS,
    }
    return render(request, "moderation/case.html", page, status=422 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def case(request: MemberRequest, case_id: int) -> HttpResponse:
    if not _is_moderator(request):
        return _forbidden(request)
    found = queries.case(case_id)
    if found is None:
        raise Http404
    if request.method != "POST":
        return _case_page(request, found)
    target = targets.load(found.target_type, found.target_id)
    if target is None:
        raise Http404
    errors: Errors = {}
    decision_request = _decision_request(request.POST, errors)
    if not errors:
        try:
            services.decide(moderator=request.user, target=target, request=decision_request)
        except ValidationError as error:
            errors = _errors_of(error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("moderation:case", case_id=found.pk)
        else:
            messages.success(
                request, _("Decision recorded. The member can read why, and appeal, right away.")
            )
            return redirect("moderation:queue")
    return _case_page(request, found, errors, request.POST.dict())


# --- Appeals ----------------------------------------------------------------------------------


@dataclass
class AppealRow:
    appeal: Appeal
    label: str
    own: bool  # the moderator reading made the original decision (or is the member)
    errors: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


def _appeals_page(
    request: MemberRequest,
    failed: int | None = None,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
) -> HttpResponse:
    try:
        appeals, next_cursor = _page(request, queries.pending_appeals(), ("created_at", "pk"))
    except StaleCursor:
        return _bad_request(request, _("This page link is no longer valid."))
    rows = []
    for pending in appeals:
        decision = pending.decision
        target = targets.load(decision.target_type, decision.target_id)
        row = AppealRow(
            pending,
            _target_label(target),
            request.user.pk in {decision.moderator_id, pending.member_id},
        )
        if pending.pk == failed:
            row.errors, row.values = errors or [], values or {}
        rows.append(row)
    context = {
        "rows": rows,
        "older": next_cursor,
        "explanation_min": services.EXPLANATION_MIN_CHARS,
        "explanation_max": services.EXPLANATION_MAX_CHARS,
    }
    return render(request, "moderation/appeals.html", context, status=422 if failed else 200)


@login_required
@require_GET
def appeals(request: MemberRequest) -> HttpResponse:
    if not _is_moderator(request):
        return _forbidden(request)
    return _appeals_page(request)


@login_required
@require_POST
def decide_appeal(request: MemberRequest, appeal_id: int) -> HttpResponse:
    if not _is_moderator(request):
        return _forbidden(request)
    pending = queries.pending_appeal(appeal_id)
    if pending is None:
        raise Http404
    outcome = request.POST.get("outcome", "")
    explanation = request.POST.get("explanation", "")[:10_000]
    if outcome not in {"uphold", "reverse"}:
        found = [_("Choose whether to uphold or reverse the decision.")]
        values = {"outcome": outcome, "explanation": explanation}
        return _appeals_page(request, pending.pk, found, values)
    try:
        decided = services.decide_appeal(
            moderator=request.user,
            appeal=pending,
            reverse=outcome == "reverse",
            explanation=explanation,
        )
    except ValidationError as error:
        found = [message for group in _errors_of(error).values() for message in group]
        values = {"outcome": outcome, "explanation": explanation}
        return _appeals_page(request, pending.pk, found, values)
    except (PermissionDenied, Conflict) as error:
        messages.error(request, error.message if isinstance(error, Conflict) else str(error))
        return redirect("moderation:appeals")
    if decided.status == AppealStatus.REVERSED:
        messages.success(request, _("The decision is reversed and the item restored."))
    else:
        messages.success(request, _("The decision is upheld."))
    return redirect("moderation:appeals")


# --- The audit log ----------------------------------------------------------------------------


@login_required
@require_GET
def audit(request: MemberRequest) -> HttpResponse:
    if not _is_moderator(request):
        return _forbidden(request)
    try:
        entries, next_cursor = _page(request, queries.audit_log(), ("-pk",))
    except StaleCursor:
        return _bad_request(request, _("This page link is no longer valid."))
    return render(request, "moderation/audit.html", {"entries": entries, "older": next_cursor})


# --- Transparency -----------------------------------------------------------------------------


def _labelled(counts: dict[str, int], labels: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(labels.get(value, value)), count) for value, count in counts.items()]


def _quarters(period: str) -> list[str]:
    """The quarters offered in the picker: the current one and those before it."""
    year, number = (int(part) for part in queries.period_of(timezone.now()).split("-Q"))
    offered = []
    for _step in range(QUARTERS_OFFERED):
        offered.append(f"{year}-Q{number}")
        year, number = (year, number - 1) if number > 1 else (year - 1, 4)
    return offered if period in offered else [period, *offered]


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "").strip() or queries.period_of(timezone.now())
    figures: dict[str, Any] | None = None
    if PERIOD.match(period):
        try:
            figures = queries.transparency(period)
        except ValueError:
            figures = None
    if figures is None:
        context = {
            "period": period[:20],
            "quarters": _quarters(queries.period_of(timezone.now())),
            "error": True,
        }
        return render(request, "moderation/transparency.html", context, status=400)
    decisions = figures["decisions"]
    categories = dict(Category.choices)
    tables = {
        "reports_by_category": _labelled(figures["reports"]["by_category"], categories),
        "decisions_by_category": _labelled(decisions["by_category"], categories),
        "decisions_by_action": _labelled(decisions["by_action"], dict(Action.choices)),
        "by_automated_decision": _labelled(
            decisions["by_automated_decision"], dict(AutomatedDecision.choices)
        ),
        "by_source": _labelled(decisions["by_source"], dict(SourceType.choices)),
        "by_content_type": _labelled(decisions["by_content_type"], CONTENT_TYPES),
        "appeals_by_outcome": _labelled(
            figures["appeals"]["by_outcome"], dict(AppealStatus.choices)
        ),
    }
    context = {
        "period": period,
        "quarters": _quarters(period),
        "figures": figures,
        "tables": tables,
    }
    return render(request, "moderation/transparency.html", context)
