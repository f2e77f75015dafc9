"""Every write of trust and safety: reports, automated flags, decisions, appeals, the audit log.

Each function does its whole change in one transaction and tells people after commit. The
rules that keep this fair:
- a report or flag joins the item's one open case (reports of the same item merge);
- automation only ever hides an item pending review, with a statement of reasons; a person
  makes every other decision, always under a rule and with an explanation;
- every restriction is visible to the member it affects, who may appeal it, and another
  moderator decides the appeal; a reversal puts the item back exactly as it was;
- every step is written to the append-only audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from papercrane import ratelimit
from papercrane.accounts.models import Member
from papercrane.language import detection
from papercrane.moderation import standing, targets
from papercrane.moderation.classifiers import Signal
from papercrane.moderation.models import (
    APPEAL_WINDOW,
    Action,
    Appeal,
    AppealStatus,
    AuditEntry,
    AutomatedDecision,
    Case,
    CaseStatus,
    ContentState,
    Decision,
    Flag,
    Report,
    ReportOutcome,
    Rule,
    SourceType,
    TargetType,
)
from papercrane.moderation.targets import Target

REPORTS_PER_MEMBER = ratelimit.Rate(limit=20, period_seconds=3600)
APPEALS_PER_MEMBER = ratelimit.Rate(limit=10, period_seconds=3600)
DETAILS_MAX_CHARS = 1000
EXPLANATION_MIN_CHARS = 10
EXPLANATION_MAX_CHARS = 2000
APPEAL_MAX_CHARS = 2000
MAX_SUSPENSION_DAYS = 3650
MAX_BULK = 200
# Queue order: a case's severity counts most, then how many people reported it; automated
# flags count less than a person's report, a flag sure enough to hide the item more.
SEVERITY_WEIGHT = 10.0
REPORT_WEIGHT = 1.0
FLAG_WEIGHT = 0.5
HELD_WEIGHT = 5.0

# What each action does to a note or comment, and how the DSA database names it.
CONTENT_STATE = {
    Action.LABEL: ContentState.LABELLED,
    Action.LIMIT: ContentState.LIMITED,
    Action.HOLD: ContentState.HELD,
    Action.REMOVE: ContentState.REMOVED,
}
DSA_VISIBILITY = {
    Action.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
    Action.LIMIT: "DECISION_VISIBILITY_CONTENT_DEMOTED",
    Action.HOLD: "DECISION_VISIBILITY_CONTENT_DISABLED",
    Action.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
}
ACTIONS_BY_TARGET = {
    TargetType.NOTE: {Action.DISMISS, Action.LABEL, Action.LIMIT, Action.REMOVE, Action.SUSPEND},
    TargetType.COMMENT: {Action.DISMISS, Action.LABEL, Action.REMOVE, Action.SUSPEND},
    TargetType.MEMBER: {Action.DISMISS, Action.SUSPEND},
    TargetType.LIVE_MESSAGE: {Action.DISMISS, Action.REMOVE, Action.SUSPEND},
}


class Conflict(Exception):
    """The request contradicts the item's state (already appealed, already decided…)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _invalid(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _audit(
    actor: Member | None,
    action: str,
    target_type: str,
    target_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before or {},
        after=after or {},
        created_at=timezone.now(),
    )


def record_admin_change(
    *,
    actor: Member,
    action: str,
    target_type: str,
    target_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """The audit log's entry for an operator's change made in the admin (rules, lists)."""
    _audit(actor, action, target_type, target_id, before, after)


def _check_explanation(explanation: str) -> str:
    """A moderator's explanation, stripped; every decision needs one the member can read."""
    explanation = (explanation or "").strip()
    if not EXPLANATION_MIN_CHARS <= len(explanation) <= EXPLANATION_MAX_CHARS:
        raise _invalid(
            "explanation",
            _("Explain the decision in %(low)s to %(high)s characters.")
            % {"low": EXPLANATION_MIN_CHARS, "high": EXPLANATION_MAX_CHARS},
            "length",
        )
    return explanation


def _require_moderator(member: Member) -> None:
    if not standing.is_moderator(member):
        raise PermissionDenied(_("Only moderators can do this."))


# --- Cases ------------------------------------------------------------------------------------


def _priority(case: Case) -> float:
    return (
        SEVERITY_WEIGHT * case.severity
        + REPORT_WEIGHT * case.report_count
        + FLAG_WEIGHT * case.flag_count
        + (HELD_WEIGHT if case.held else 0.0)
    )


def _open_case(target: Target, severity: int) -> Case:
    """The item's open case, locked, created if need be (two first reports at once: one wins,
    the other joins it)."""
    for _attempt in range(2):
        case = (
            Case.objects.select_for_update()
            .filter(target_type=target.type, target_id=target.id, status=CaseStatus.OPEN)
            .first()
        )
        if case is not None:
            if severity > case.severity:
                case.severity = severity
            return case
        try:
            with transaction.atomic():
                return Case.objects.create(
                    target_type=target.type,
                    target_id=target.id,
                    subject_id=target.subject_id,
                    severity=severity,
                    opened_at=timezone.now(),
                )
        except IntegrityError:
            continue
    raise Conflict(_("This item is being reported by many people at once; try again."))


def _save_case(case: Case) -> None:
    case.priority = _priority(case)
    case.save(update_fields=["severity", "report_count", "flag_count", "held", "priority"])


# --- Reports ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filed:
    report: Report
    created: bool  # False: the reporter had reported this item already; it was updated


def file_report(*, reporter: Member, target: Target, rule: Rule | None, details: str = "") -> Filed:
    """Report an item the reporter can see. Reporting the same item again updates the report
    (a flood from one person is one report); reports from many people merge into one case."""
    if rule is None or not rule.is_active:
        raise _invalid("reason", _("Choose one of the community rules."), "unknown_rule")
    details = (details or "").strip()
    if len(details) > DETAILS_MAX_CHARS:
        raise _invalid(
            "details",
            _("Use at most %(count)s characters.") % {"count": DETAILS_MAX_CHARS},
            "too_long",
        )
    if target.subject_id == reporter.pk:
        raise _invalid("target_id", _("You cannot report yourself or your own posts."), "own")
    ratelimit.hit("moderation-report", str(reporter.pk), REPORTS_PER_MEMBER)
    now = timezone.now()
    with transaction.atomic():
        case = _open_case(target, rule.severity)
        report, created = Report.objects.get_or_create(
            case=case,
            reporter=reporter,
            defaults={
                "rule": rule,
                "category": rule.category,
                "details": details,
                "language": detection.detect(details) if details else "",
                "created_at": now,
            },
        )
        if created:
            case.report_count += 1
        else:
            report.rule, report.category, report.details = rule, rule.category, details
            report.language = detection.detect(details) if details else ""
            report.save(update_fields=["rule", "category", "details", "language"])
        _save_case(case)
        _audit(reporter, "report.filed", target.type, target.id, after={"rule": rule.code})
    return Filed(report, created)


# --- Automated signals ------------------------------------------------------------------------


def flag(*, target: Target, signals: Iterable[Signal]) -> Case | None:
    """Queue what automation found. A high-confidence signal also hides the item until a
    moderator decides, with a statement of reasons that says automation did it."""
    signals = list(signals)
    in_force = list(Rule.objects.filter(is_active=True).order_by("-severity", "position", "pk"))
    if not signals or not in_force:
        return None
    rules = {rule.code: rule for rule in in_force}
    fallback = in_force[0]  # a signal that names no rule cites the most severe one
    now = timezone.now()
    with transaction.atomic():
        severity = max(rules.get(s.rule_code, fallback).severity for s in signals)
        case = _open_case(target, severity)
        for signal in signals:
            rule = rules.get(signal.rule_code, fallback)
            created = Flag.objects.get_or_create(
                case=case,
                label=signal.label[:60],
                detail=signal.detail[:300],
                defaults={
                    "source": signal.source,
                    "score": signal.score,
                    "high_confidence": signal.high_confidence,
                    "rule": rule,
                    "created_at": now,
                },
            )[1]
            case.flag_count += int(created)
        sure = [s for s in signals if s.high_confidence]
        if sure and not case.held and target.type != TargetType.MEMBER and not target.state:
            case.held = True
            _decide(
                case=case,
                target=target,
                moderator=None,
                action=Action.HOLD,
                rule=rules.get(sure[0].rule_code, fallback),
                explanation=_automated_facts(sure),
                source_type=SourceType.VOLUNTARY,
            )
        _save_case(case)
        _audit(
            None,
            "flag.raised",
            target.type,
            target.id,
            after={"labels": [s.label for s in signals]},
        )
    return case


def _automated_facts(signals: list[Signal]) -> str:
    """The statement's facts for an automated hold (stored in English, shown translated)."""
    found = "; ".join(f"{s.label}: {s.detail}" if s.detail else s.label for s in signals)
    return f"Automated detection ({found}). Hidden until a moderator reviews it."


# --- Decisions --------------------------------------------------------------------------------


def _decide(
    *,
    case: Case | None,
    target: Target,
    moderator: Member | None,
    action: str,
    rule: Rule,
    explanation: str,
    source_type: str,
    until: dt.datetime | None = None,
) -> Decision:
    """Apply ``action`` to the item and record the decision with its statement of reasons.
    Inside a transaction, with the case locked."""
    now = timezone.now()
    before = targets.describe(target)
    state_before, rule_before = target.state, target.rule_code
    restricting = action != Action.DISMISS
    if action == Action.SUSPEND:
        subject = targets.load(TargetType.MEMBER, target.subject_id)
        if subject is None:
            raise Http404
        state_before, rule_before = subject.state, ""
        state_after = targets.SUSPENDED
        targets.set_state(subject, state_after, rule.code, until)
    elif action == Action.DISMISS:
        state_after = "" if target.state == ContentState.HELD else target.state
        if target.state == ContentState.HELD:  # automation hid it; a person finds no breach
            targets.set_state(target, "", "", None)
    else:
        state_after = CONTENT_STATE[action]  # type: ignore[index]
        targets.set_state(target, state_after, rule.code, None)
    decision = Decision.objects.create(
        case=case,
        target_type=target.type,
        target_id=target.id,
        subject_id=target.subject_id,
        moderator=moderator,
        action=action,
        rule=rule,
        state_before=state_before,
        rule_before=rule_before,
        decision_visibility=DSA_VISIBILITY.get(action, ""),  # type: ignore[call-overload]
        decision_account=_account_decision(action, until),
        category=rule.category,
        decision_facts=explanation,
        content_type=list(target.content_types),
        automated_detection=bool(case and case.flag_count) or moderator is None,
        automated_decision=(
            AutomatedDecision.FULLY if moderator is None else AutomatedDecision.NOT_AUTOMATED
        ),
        source_type=source_type,
        content_date=target.content_date,
        application_date=now.date(),
        end_date_account_restriction=until if action == Action.SUSPEND else None,
        territorial_scope=list(settings.MODERATION_TERRITORIAL_SCOPE),
        created_at=now,
    )
    after = {"state": state_after, "rule": rule.code if state_after else ""}
    _audit(
        moderator,
        f"decision.{action}",
        target.type,
        target.id,
        before,
        {**after, "decision": decision.pk, "rule": rule.code},
    )
    if restricting:
        _tell(target.subject_id, "decision", decision.pk)
    return decision


def _account_decision(action: str, until: dt.datetime | None) -> str:
    if action != Action.SUSPEND:
        return ""
    return (
        "DECISION_ACCOUNT_TERMINATED"
        if until == targets.PERMANENT
        else "DECISION_ACCOUNT_SUSPENDED"
    )


def _tell(member_id: int, verb: str, decision_id: int) -> None:
    from papercrane.notifications import services as notifications

    transaction.on_commit(
        lambda: notifications.notify_member(
            recipient_id=member_id, verb=verb, decision_id=decision_id
        )
    )


@dataclass(frozen=True)
class DecisionRequest:
    """What a moderator asks for: an action on an item, under a rule, explained."""

    action: str
    rule: Rule | None
    explanation: str
    suspension_days: int | None = None  # for "suspend": None is permanent


def _check_request(request: DecisionRequest, target_type: str) -> dt.datetime | None:
    """Validate the request; the end of a suspension, if it is one."""
    if request.action not in ACTIONS_BY_TARGET.get(target_type, set()):  # type: ignore[call-overload]
        raise _invalid("action", _("This action does not apply to this kind of item."), "action")
    if request.rule is None or not request.rule.is_active:
        raise _invalid("rule_id", _("Choose one of the community rules."), "unknown_rule")
    _check_explanation(request.explanation)
    if request.action != Action.SUSPEND:
        return None
    days = request.suspension_days
    if days is None:
        return targets.PERMANENT
    if not 1 <= days <= MAX_SUSPENSION_DAYS:
        raise _invalid(
            "suspension_days",
            _("Suspend for 1 to %(count)s days, or leave empty for permanently.")
            % {"count": MAX_SUSPENSION_DAYS},
            "range",
        )
    return timezone.now() + dt.timedelta(days=days)


def decide(*, moderator: Member, target: Target, request: DecisionRequest) -> Decision:
    """A moderator's decision on an item: closes its case (if any), tells the reporters the
    outcome and the member a statement of reasons."""
    _require_moderator(moderator)
    until = _check_request(request, target.type)
    assert request.rule is not None  # checked above
    if target.state == ContentState.REMOVED and request.action != Action.DISMISS:
        raise Conflict(_("This item has already been removed."))
    with transaction.atomic():
        case = (
            Case.objects.select_for_update()
            .filter(target_type=target.type, target_id=target.id, status=CaseStatus.OPEN)
            .first()
        )
        if case is None and request.action == Action.DISMISS:
            raise Conflict(_("There is no open case on this item to dismiss."))
        fresh = targets.load(target.type, target.id)
        if fresh is None:
            raise Http404
        decision = _decide(
            case=case,
            target=fresh,
            moderator=moderator,
            action=request.action,
            rule=request.rule,
            explanation=request.explanation.strip(),
            source_type=SourceType.NOTICE if case and case.report_count else SourceType.VOLUNTARY,
            until=until,
        )
        if case is not None:
            _close(case, decision)
    return decision


def _close(case: Case, decision: Decision) -> None:
    now = timezone.now()
    outcome = (
        ReportOutcome.DISMISSED if decision.action == Action.DISMISS else ReportOutcome.ACTIONED
    )
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=now, held=False)
    reporters = list(case.reports.values_list("reporter_id", flat=True))
    case.reports.update(outcome=outcome, decided_at=now)
    for reporter_id in reporters:
        _tell(reporter_id, "report_outcome", decision.pk)


def decide_cases(
    *, moderator: Member, case_ids: list[int], request: DecisionRequest
) -> list[Decision]:
    """The same decision on many open cases at once (a spam wave); each item still gets its
    own statement of reasons. Cases already closed are skipped."""
    _require_moderator(moderator)
    if not 1 <= len(case_ids) <= MAX_BULK:
        raise _invalid("case_ids", _("Choose 1 to %(count)s cases.") % {"count": MAX_BULK}, "count")
    decisions = []
    cases = Case.objects.filter(pk__in=case_ids, status=CaseStatus.OPEN).order_by("pk")
    for case in cases:
        target = targets.load(case.target_type, case.target_id)
        if target is None or request.action not in ACTIONS_BY_TARGET[case.target_type]:  # type: ignore[index]
            continue
        try:
            decisions.append(decide(moderator=moderator, target=target, request=request))
        except Conflict:
            continue  # decided by someone else meanwhile
    return decisions


# --- Appeals ----------------------------------------------------------------------------------


def appeal(*, member: Member, decision: Decision, text: str) -> Appeal:
    """The affected member appeals a restricting decision, once, within the window."""
    if decision.subject_id != member.pk:
        raise Http404
    text = (text or "").strip()
    if not 1 <= len(text) <= APPEAL_MAX_CHARS:
        raise _invalid(
            "text",
            _("Explain your appeal in 1 to %(count)s characters.") % {"count": APPEAL_MAX_CHARS},
            "length",
        )
    if not decision.restricts:
        raise Conflict(_("Only a decision that restricts you can be appealed."))
    if decision.reversed_at is not None:
        raise Conflict(_("This decision has already been reversed."))
    if timezone.now() - decision.created_at > APPEAL_WINDOW:
        raise Conflict(_("The time to appeal this decision has passed."))
    ratelimit.hit("moderation-appeal", str(member.pk), APPEALS_PER_MEMBER)
    try:
        with transaction.atomic():
            made = Appeal.objects.create(
                decision=decision, member=member, text=text, created_at=timezone.now()
            )
            _audit(
                member,
                "appeal.filed",
                decision.target_type,
                decision.target_id,
                after={"decision": decision.pk},
            )
    except IntegrityError as error:
        raise Conflict(_("You have already appealed this decision.")) from error
    return made


def decide_appeal(*, moderator: Member, appeal: Appeal, reverse: bool, explanation: str) -> Appeal:
    """Another moderator upholds or reverses the decision. A reversal puts the item back as
    it was (visible, counted, in search; the account active) and tells the member."""
    _require_moderator(moderator)
    explanation = _check_explanation(explanation)
    with transaction.atomic():
        locked = Appeal.objects.select_for_update().select_related("decision").get(pk=appeal.pk)
        decision = locked.decision
        if moderator.pk in {decision.moderator_id, locked.member_id}:
            raise PermissionDenied(
                _("Another moderator must decide this appeal: it concerns your own decision.")
            )
        if locked.status != AppealStatus.PENDING:
            raise Conflict(_("This appeal has already been decided."))
        locked.status = AppealStatus.REVERSED if reverse else AppealStatus.UPHELD
        locked.decided_by, locked.decided_at = moderator, timezone.now()
        locked.explanation = explanation
        locked.save(update_fields=["status", "decided_by", "decided_at", "explanation"])
        if reverse:
            _reverse(decision, moderator)
        _audit(
            moderator,
            "appeal.reversed" if reverse else "appeal.upheld",
            decision.target_type,
            decision.target_id,
            {"decision": decision.pk, "appeal": "pending"},
            {"decision": decision.pk, "appeal": locked.status},
        )
        _tell(locked.member_id, "appeal_decided", decision.pk)
    return locked


def _reverse(decision: Decision, moderator: Member) -> None:
    if decision.action == Action.SUSPEND:
        subject = targets.load(TargetType.MEMBER, decision.subject_id)
        if subject is not None:
            targets.set_state(subject, "", "", None)
    else:
        target = targets.load(decision.target_type, decision.target_id)
        # A hold only lasts until review, and the review is this: back to visible.
        state = "" if decision.state_before == ContentState.HELD else decision.state_before
        if target is not None:
            targets.set_state(target, state, decision.rule_before, None)
    Decision.objects.filter(pk=decision.pk).update(reversed_at=timezone.now())


# --- Screening --------------------------------------------------------------------------------


def posted(target_type: str, target_id: int) -> None:
    """Screen a new or edited note or comment once the current transaction commits."""
    from papercrane.moderation import tasks

    screen = tasks.screen_note if target_type == TargetType.NOTE else tasks.screen_comment
    transaction.on_commit(lambda: screen.enqueue(target_id))


def photo_ready(media_id: int) -> None:
    """A photo's fingerprint was just computed: check it against the hash list."""
    from papercrane.moderation import tasks

    transaction.on_commit(lambda: tasks.screen_photo.enqueue(media_id))
