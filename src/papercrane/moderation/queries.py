"""Read paths of trust and safety: rules, the queue and a case's context, what a member sees
of decisions about them, the audit log, and the transparency report's figures."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from papercrane.accounts.models import Member
from papercrane.engagement import queries as engagement_queries
from papercrane.engagement.models import Comment
from papercrane.ids import parse_id
from papercrane.live import queries as live_queries
from papercrane.moderation import targets
from papercrane.moderation.models import (
    APPEAL_WINDOW,
    Appeal,
    AppealStatus,
    AuditEntry,
    BannedImage,
    Case,
    CaseStatus,
    Decision,
    KeywordPattern,
    Report,
    Rule,
    TargetType,
)
from papercrane.moderation.targets import Target
from papercrane.notes import queries as note_queries
from papercrane.notes.models import Note

HISTORY_SHOWN = 10


def rules() -> QuerySet[Rule]:
    """The community rules in force, in the operator's order."""
    return Rule.objects.filter(is_active=True)


def rule(rule_id: str | int | None) -> Rule | None:
    pk = parse_id(rule_id) if rule_id is not None else None
    return None if pk is None else rules().filter(pk=pk).first()


def rule_by_code(code: str) -> Rule | None:
    return rules().filter(code=code).first()


def rule_title(rule: Rule, language: str | None) -> str:
    """The rule's title in the reader's language (Chinese for any zh variant)."""
    return rule.title_zh if (language or "").lower().startswith("zh") else rule.title_en


def rule_body(rule: Rule, language: str | None) -> str:
    return rule.body_zh if (language or "").lower().startswith("zh") else rule.body_en


def reportable(viewer: Member, target_type: str, target_id: str | int) -> Target | None:
    """The item if ``viewer`` can see it (one can only report what one can see); a member
    can be reported even across a block (people block those they report)."""
    if target_type == TargetType.NOTE:
        found: Any = note_queries.visible_note(viewer, target_id)
    elif target_type == TargetType.COMMENT:
        found = engagement_queries.visible_comment(viewer, target_id)
    elif target_type == TargetType.MEMBER:
        pk = parse_id(target_id)
        found = Member.objects.filter(pk=pk, is_active=True).first() if pk else None
    elif target_type == TargetType.LIVE_MESSAGE:
        found = live_queries.visible_message(viewer, target_id)
    else:
        return None
    target = None if found is None else targets.load(target_type, found.pk)
    return None if target is None or target.is_hidden else target


def can_appeal(decision: Decision) -> bool:
    """Whether the member may still appeal: a restriction, not reversed, not yet appealed,
    within the window."""
    return (
        decision.restricts
        and decision.reversed_at is None
        and appeal_for(decision) is None
        and timezone.now() - decision.created_at <= APPEAL_WINDOW
    )


EXCERPT_CHARS = 140


def excerpt(target: Target | None) -> str:
    if target is None:
        return ""
    text = " ".join(target.text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


# --- The queue --------------------------------------------------------------------------------


def queue() -> QuerySet[Case]:
    """Open cases, most urgent first: severity, then report volume, then age."""
    return (
        Case.objects.filter(status=CaseStatus.OPEN)
        .select_related("subject")
        .order_by("-priority", "opened_at", "pk")
    )


def case(case_id: str | int) -> Case | None:
    pk = parse_id(case_id)
    return None if pk is None else Case.objects.select_related("subject").filter(pk=pk).first()


@dataclass
class CaseContext:
    """Everything a moderator needs to decide a case on one screen."""

    case: Case
    target: Target | None
    reports: list[Report]
    flags: list[Any]
    prior_decisions: list[Decision]
    subject_notes: int
    subject_comments: int
    subject_joined: dt.datetime
    rule_counts: dict[str, int] = field(default_factory=dict)
    photos: list[Any] = field(default_factory=list)  # a note's photos, however it is hidden


def case_context(case: Case) -> CaseContext:
    subject = case.subject
    reports = list(case.reports.select_related("rule", "reporter").order_by("created_at"))
    prior = list(
        Decision.objects.filter(subject=subject)
        .select_related("rule", "moderator")
        .order_by("-created_at")[:HISTORY_SHOWN]
    )
    target = targets.load(case.target_type, case.target_id)
    return CaseContext(
        case=case,
        target=target,
        reports=reports,
        flags=list(case.flags.select_related("rule").order_by("-score")),
        prior_decisions=prior,
        subject_notes=Note.objects.filter(author=subject, status=Note.Status.PUBLISHED).count(),
        subject_comments=Comment.objects.filter(author=subject).count(),
        subject_joined=subject.date_joined,
        rule_counts=dict(Counter(report.rule.code for report in reports)),
        photos=_photos(target) if target is not None else [],
    )


def _photos(target: Target) -> list[Any]:
    """What a moderator must see of a note: its photos too, even while no one else can."""
    if target.type != TargetType.NOTE:
        return []
    return [media for media in note_queries.photos(target.item) if not media.is_text_cover]


def queue_rows(cases: list[Case]) -> list[tuple[Case, Target | None, list[str]]]:
    """A page of the queue with each item and the rules it was reported under, in a fixed
    number of queries."""
    reasons: dict[int, list[str]] = {}
    rows = Report.objects.filter(case__in=cases).values_list("case_id", "rule__code").distinct()
    for case_id, code in rows:
        reasons.setdefault(case_id, []).append(code)
    items = targets.load_many([(case.target_type, case.target_id) for case in cases])
    return [
        (case, items.get((case.target_type, case.target_id)), sorted(reasons.get(case.pk, [])))
        for case in cases
    ]


# --- What a member sees -----------------------------------------------------------------------


def decisions_about(member: Member) -> QuerySet[Decision]:
    """Every restriction on the member or their content (nothing is hidden from them)."""
    return (
        Decision.objects.filter(subject=member)
        .exclude(action="dismiss")
        .select_related("rule", "appeal")
        .order_by("-created_at", "-pk")
    )


def decision_for(member: Member, decision_id: str | int) -> Decision | None:
    pk = parse_id(decision_id)
    return None if pk is None else decisions_about(member).filter(pk=pk).first()


def reports_by(member: Member) -> QuerySet[Report]:
    """What the member reported, with the outcome."""
    return (
        Report.objects.filter(reporter=member)
        .select_related("rule", "case")
        .order_by("-created_at", "-pk")
    )


def appeal_for(decision: Decision) -> Appeal | None:
    """The decision's appeal, if any (read with the decision by ``decisions_about``)."""
    try:
        return decision.appeal
    except Appeal.DoesNotExist:
        return None


# --- Moderators' lists ------------------------------------------------------------------------


def pending_appeals() -> QuerySet[Appeal]:
    return (
        Appeal.objects.filter(status=AppealStatus.PENDING)
        .select_related("decision", "decision__rule", "decision__moderator", "member")
        .order_by("created_at", "pk")
    )


def pending_appeal(appeal_id: str | int) -> Appeal | None:
    pk = parse_id(appeal_id)
    return None if pk is None else pending_appeals().filter(pk=pk).first()


def audit_log() -> QuerySet[AuditEntry]:
    return AuditEntry.objects.select_related("actor").order_by("-created_at", "-pk")


def keyword_patterns() -> QuerySet[KeywordPattern]:
    return KeywordPattern.objects.filter(is_active=True, rule__is_active=True).select_related(
        "rule"
    )


def banned_images() -> QuerySet[BannedImage]:
    return BannedImage.objects.filter(rule__is_active=True).select_related("rule")


# --- Transparency -----------------------------------------------------------------------------


def quarter(period: str) -> tuple[dt.datetime, dt.datetime]:
    """'2026-Q4' as [start, end) in UTC; ValueError for anything else."""
    year_text, _, quarter_text = period.partition("-Q")
    year, number = int(year_text), int(quarter_text)
    if not (1 <= number <= 4 and 2000 <= year <= 9998):
        raise ValueError(f"not a quarter: {period!r}")
    start = dt.datetime(year, 3 * number - 2, 1, tzinfo=dt.UTC)
    end = (
        dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
        if number == 4
        else dt.datetime(year, 3 * number + 1, 1, tzinfo=dt.UTC)
    )
    return start, end


def period_of(moment: dt.datetime) -> str:
    """The quarter a moment falls in, as '2026-Q4'."""
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _counts(rows: QuerySet[Any], column: str) -> dict[str, int]:
    return {
        row[column]: row["n"]
        for row in rows.values(column).annotate(n=Count("pk")).order_by(column)
    }


def transparency(period: str) -> dict[str, Any]:
    """Aggregate figures for a quarter: no one's name, no item's content."""
    start, end = quarter(period)
    decisions = Decision.objects.filter(created_at__gte=start, created_at__lt=end)
    reports = Report.objects.filter(created_at__gte=start, created_at__lt=end)
    appeals = Appeal.objects.filter(created_at__gte=start, created_at__lt=end)
    closed = Case.objects.filter(closed_at__gte=start, closed_at__lt=end)
    hours = [
        (closed_at - opened_at).total_seconds() / 3600
        for opened_at, closed_at in closed.values_list("opened_at", "closed_at")
        if closed_at is not None
    ]
    return {
        "period": period,
        "start": start.date().isoformat(),
        "end": (end - dt.timedelta(days=1)).date().isoformat(),
        "reports": {"total": reports.count(), "by_category": _counts(reports, "category")},
        "decisions": {
            "total": decisions.count(),
            "by_category": _counts(decisions, "category"),
            "by_action": _counts(decisions, "action"),
            "by_automated_decision": _counts(decisions, "automated_decision"),
            "automated_detection": decisions.filter(automated_detection=True).count(),
            "by_source": _counts(decisions, "source_type"),
            "by_content_type": _content_types(decisions),
        },
        "appeals": {"total": appeals.count(), "by_outcome": _counts(appeals, "status")},
        "median_hours_to_decision": round(statistics.median(hours), 2) if hours else None,
    }


def _content_types(decisions: QuerySet[Decision]) -> dict[str, int]:
    counter: Counter[str] = Counter()
    for kinds in decisions.values_list("content_type", flat=True):
        counter.update(kinds)
    return dict(sorted(counter.items()))


# --- DSA Transparency Database export ---------------------------------------------------------

MENTION = re.compile(r"@[A-Za-z0-9_]+")
LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def _without_personal_data(text: str, decision: Decision) -> str:
    """The facts with names, mentions and links taken out (a moderator's free text may
    name people; the export must not)."""
    subject = decision.subject
    for name in {subject.username, subject.display_name} - {""}:
        text = re.sub(re.escape(name), "[member]", text, flags=re.IGNORECASE)
    return LINK.sub("[link]", MENTION.sub("[member]", text))


def _date(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    day = value.date() if isinstance(value, dt.datetime) else value
    return None if day.year >= targets.PERMANENT.year else day.isoformat()


def dsa_statement(decision: Decision) -> dict[str, Any]:
    """A restricting decision in the DSA Transparency Database's statement format, with no
    personal data: no names, no ids of members or items, no content."""
    rule = decision.rule
    return {
        "uuid": str(decision.puid),
        "puid": str(decision.puid),
        "decision_visibility": [decision.decision_visibility]
        if decision.decision_visibility
        else [],
        "decision_account": decision.decision_account or None,
        "decision_monetary": None,
        "decision_provision": None,
        "decision_ground": decision.decision_ground,
        "incompatible_content_ground": f"Community rule '{rule.code}': {rule.title_en}",
        "incompatible_content_explanation": rule.body_en,
        "incompatible_content_illegal": "No",
        "category": decision.category,
        "decision_facts": _without_personal_data(decision.decision_facts, decision),
        "content_type": decision.content_type,
        "automated_detection": "Yes" if decision.automated_detection else "No",
        "automated_decision": decision.automated_decision,
        "source_type": decision.source_type,
        "content_date": _date(decision.content_date),
        "application_date": _date(decision.application_date),
        "end_date_visibility_restriction": _date(decision.end_date_visibility_restriction),
        "end_date_account_restriction": _date(decision.end_date_account_restriction),
        "territorial_scope": decision.territorial_scope,
        "platform_name": settings.OPERATOR_NAME,
    }


def dsa_statements(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    decisions = (
        Decision.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(action="dismiss")
        .select_related("rule", "subject")
        .order_by("created_at", "pk")
    )
    return [dsa_statement(decision) for decision in decisions]
