"""Trust and safety data: community rules, reports merged into cases, automated flags,
decisions with their statements of reasons, appeals, the audit log and the operator's lists.

Data only: the rules of how these change live in services.py. Field names of ``Decision``
follow the EU DSA Transparency Database, so an export needs no translation table.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """The DSA Transparency Database's statement categories."""

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE", _("Animal welfare")
    DATA_PROTECTION = (
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        _("Data protection and privacy violations"),
    )
    HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", _("Illegal or harmful speech")
    INTELLECTUAL_PROPERTY = (
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        _("Intellectual property infringements"),
    )
    CIVIC_DISCOURSE = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        _("Negative effects on civic discourse or elections"),
    )
    NON_CONSENSUAL = "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR", _("Non-consensual behaviour")
    SEXUAL_CONTENT = (
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
        _("Pornography or sexualised content"),
    )
    MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", _("Protection of minors")
    PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", _("Risk for public security")
    SCAMS = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", _("Scams and fraud")
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM", _("Self-harm")
    SCOPE = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", _("Outside the scope of the service")
    UNSAFE_PRODUCTS = (
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS_OR_SERVICES",
        _("Unsafe or illegal products or services"),
    )
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE", _("Violence")


class TargetType(models.TextChoices):
    NOTE = "note", _("Note")
    COMMENT = "comment", _("Comment")
    MEMBER = "member", _("Member")
    LIVE_MESSAGE = "live_message", _("Live chat message")


class ContentState(models.TextChoices):
    """What moderation did to a note or comment (stored on it, so reads filter cheaply)."""

    VISIBLE = "", _("Visible")
    LABELLED = "labelled", _("Shown with a content warning")
    LIMITED = "limited", _("Kept out of Explore and search")
    HELD = "held", _("Hidden while a moderator reviews it")
    REMOVED = "removed", _("Removed")


class Rule(models.Model):
    """A community rule, written by the operator in both languages."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=120)
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    body_en = models.TextField(_("explanation (English)"))
    body_zh = models.TextField(_("explanation (Chinese)"))
    category = models.CharField(_("DSA category"), max_length=80, choices=Category.choices)
    severity = models.PositiveSmallIntegerField(
        _("severity"), default=2, help_text=_("1 (low) to 3 (high): orders the queue.")
    )
    is_active = models.BooleanField(_("in force"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.code


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Case(models.Model):
    """One item under review. Every open report and flag on the same item joins its case,
    so a report flood is one row in the queue, ranked higher."""

    target_type = models.CharField(max_length=20, choices=TargetType.choices)
    target_id = models.BigIntegerField()
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )  # the member the item belongs to
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    priority = models.FloatField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    flag_count = models.PositiveIntegerField(default=0)
    severity = models.PositiveSmallIntegerField(default=1)  # highest of its reports and flags
    held = models.BooleanField(default=False)  # hidden by automation until a decision
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["target_type", "target_id"],
                condition=Q(status="open"),
                name="case_one_open_per_target",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-priority", "opened_at"]),
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["subject", "status"]),
        ]

    def __str__(self) -> str:
        return f"case {self.pk}: {self.target_type} {self.target_id}"


class ReportOutcome(models.TextChoices):
    PENDING = "pending", _("Under review")
    ACTIONED = "actioned", _("Action taken")
    DISMISSED = "dismissed", _("No rule broken")


class Report(models.Model):
    """A member's report. One per reporter and case: reporting again updates it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_filed"
    )
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=80, choices=Category.choices)
    details = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)  # detected, for the moderator
    outcome = models.CharField(
        max_length=10, choices=ReportOutcome.choices, default=ReportOutcome.PENDING
    )
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "reporter"], name="report_once_per_case")
        ]
        indexes = [models.Index(fields=["reporter", "-created_at"])]

    def __str__(self) -> str:
        return f"report {self.pk} on {self.case_id}"


class Flag(models.Model):
    """An automated signal on a case: never final, always shown to moderators."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="flags")
    source = models.CharField(max_length=20)  # keyword, profanity, spam, image_hash
    label = models.CharField(max_length=60)
    score = models.FloatField()
    high_confidence = models.BooleanField(default=False)
    rule = models.ForeignKey(Rule, on_delete=models.SET_NULL, null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "label", "detail"], name="flag_once_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.label} on {self.case_id}"


class Action(models.TextChoices):
    DISMISS = "dismiss", _("Dismiss")
    LABEL = "label", _("Add a content warning")
    LIMIT = "limit", _("Keep out of Explore and search")
    REMOVE = "remove", _("Remove")
    SUSPEND = "suspend", _("Suspend the account")
    HOLD = "hold", _("Hide pending review")  # automation's only action


class AutomatedDecision(models.TextChoices):
    FULLY = "AUTOMATED_DECISION_FULLY", _("Fully automated")
    PARTIALLY = "AUTOMATED_DECISION_PARTIALLY", _("Partially automated")
    NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED", _("Not automated")


class SourceType(models.TextChoices):
    NOTICE = "SOURCE_ARTICLE_16", _("A notice from a member")
    TRUSTED_FLAGGER = "SOURCE_TRUSTED_FLAGGER", _("A notice from a trusted flagger")
    VOLUNTARY = "SOURCE_VOLUNTARY", _("Our own initiative")


class Decision(models.Model):
    """A moderation decision; for a restricting one, its statement of reasons (DSA art. 17).

    ``state_before`` keeps what the item was, so a reversal restores exactly that.
    """

    puid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    target_type = models.CharField(max_length=20, choices=TargetType.choices)
    target_id = models.BigIntegerField()
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="decisions_about"
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions_made",
    )  # None: automation decided
    action = models.CharField(max_length=10, choices=Action.choices)
    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="decisions")
    state_before = models.CharField(max_length=10, blank=True)
    rule_before = models.CharField(max_length=40, blank=True)
    # The DSA Transparency Database's fields.
    decision_visibility = models.CharField(max_length=60, blank=True)
    decision_account = models.CharField(max_length=40, blank=True)
    decision_ground = models.CharField(
        max_length=50, default="DECISION_GROUND_INCOMPATIBLE_CONTENT"
    )
    category = models.CharField(max_length=80, choices=Category.choices)
    decision_facts = models.TextField()
    content_type = models.JSONField(default=list)
    automated_detection = models.BooleanField(default=False)
    automated_decision = models.CharField(
        max_length=40, choices=AutomatedDecision.choices, default=AutomatedDecision.NOT_AUTOMATED
    )
    source_type = models.CharField(max_length=30, choices=SourceType.choices)
    content_date = models.DateField()
    application_date = models.DateField()
    end_date_visibility_restriction = models.DateField(null=True, blank=True)
    end_date_account_restriction = models.DateTimeField(null=True, blank=True)
    territorial_scope = models.JSONField(default=list)
    created_at = models.DateTimeField()
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["subject", "-created_at"]),
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"

    @property
    def restricts(self) -> bool:
        return self.action != Action.DISMISS


# The DSA (art. 20) requires at least six months to appeal.
APPEAL_WINDOW = dt.timedelta(days=182)


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a moderator")
    UPHELD = "upheld", _("Decision upheld")
    REVERSED = "reversed", _("Decision reversed")


class Appeal(models.Model):
    """The affected member's appeal of a decision, decided by another moderator."""

    decision = models.OneToOneField(Decision, on_delete=models.CASCADE, related_name="appeal")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appeals"
    )
    text = models.TextField()
    status = models.CharField(
        max_length=10, choices=AppealStatus.choices, default=AppealStatus.PENDING
    )
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appeals_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    explanation = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"appeal of {self.decision_id}"


class AuditEntry(models.Model):
    """Who did what, when, with the item before and after. Only ever inserted (the
    migration adds database triggers that refuse updates and deletes)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )  # None: automation
    action = models.CharField(max_length=40)
    target_type = models.CharField(max_length=20)
    target_id = models.BigIntegerField()
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["-created_at"]),
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id}"


class KeywordPattern(models.Model):
    """An operator's word, phrase or regular expression, matched on analysed text."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="patterns")
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=[("", _("Any")), ("en", _("English")), ("zh", _("Chinese"))],
    )
    pattern = models.CharField(_("pattern"), max_length=200)
    is_regex = models.BooleanField(_("regular expression"), default=False)
    hides = models.BooleanField(
        _("hide pending review"),
        default=False,
        help_text=_("A match hides the item until a moderator decides; otherwise it is queued."),
    )
    is_active = models.BooleanField(_("in force"), default=True)

    def __str__(self) -> str:
        return self.pattern


class BannedImage(models.Model):
    """An image on the operator's hash list: its eight PDQ hashes (every rotation and
    mirror), so a copy stays banned however it was turned."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="banned_images")
    label = models.CharField(_("label"), max_length=120)
    hashes = models.JSONField(default=list)
    added_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.label
