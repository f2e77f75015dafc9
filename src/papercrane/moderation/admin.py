"""The operator's side of trust and safety in the Django admin: the community rules in both
languages, keyword lists and the banned-image hash list. Every change is written to the audit
log, and screening picks up list changes at once. The audit log itself is read-only here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from papercrane.media.processing import MediaRejected
from papercrane.moderation import hashing, screening, services
from papercrane.moderation.classifiers import InvalidPatternError, KeywordMatcher, PatternSpec
from papercrane.moderation.models import AuditEntry, BannedImage, KeywordPattern, Rule


def _snapshot(obj: Model | None) -> dict[str, Any]:
    if obj is None or obj.pk is None:
        return {}
    return {key: str(value) for key, value in model_to_dict(obj).items()}


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletions go to the audit log (who, what, before and after)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = _snapshot(type(obj).objects.filter(pk=obj.pk).first()) if change else {}
        super().save_model(request, obj, form, change)
        self._record(request, "changed" if change else "added", obj, before, _snapshot(obj))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        before = _snapshot(obj)
        pk = obj.pk
        super().delete_model(request, obj)
        obj.pk = pk
        self._record(request, "deleted", obj, before, {})

    def _record(
        self,
        request: HttpRequest,
        verb: str,
        obj: Any,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        name = obj._meta.model_name
        services.record_admin_change(
            actor=request.user,  # type: ignore[arg-type]
            action=f"{name}.{verb}",
            target_type=name,
            target_id=obj.pk,
            before=before,
            after=after,
        )
        screening.lists_changed()


@admin.register(Rule)
class RuleAdmin(AuditedAdmin):
    list_display = ("code", "title_en", "title_zh", "category", "severity", "is_active", "position")
    list_editable = ("position",)
    list_filter = ("is_active", "category", "severity")
    search_fields = ("code", "title_en", "title_zh")


class KeywordPatternForm(forms.ModelForm):
    class Meta:
        model = KeywordPattern
        fields = ("rule", "language", "pattern", "is_regex", "hides", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rule = data.get("rule")
        try:  # compile it as screening will, so a broken pattern never reaches the worker
            KeywordMatcher.from_specs(
                [
                    PatternSpec(
                        pattern=data.get("pattern", ""),
                        rule_code=rule.code if rule else "",
                        language=data.get("language", ""),
                        hides=bool(data.get("hides")),
                        is_regex=bool(data.get("is_regex")),
                    )
                ]
            )
        except InvalidPatternError as error:
            raise ValidationError({"pattern": str(error)}) from error
        return data


@admin.register(KeywordPattern)
class KeywordPatternAdmin(AuditedAdmin):
    form = KeywordPatternForm
    list_display = ("pattern", "rule", "language", "is_regex", "hides", "is_active")
    list_filter = ("rule", "language", "is_regex", "hides", "is_active")
    search_fields = ("pattern",)


class BannedImageForm(forms.ModelForm):
    image = forms.FileField(
        label=_("image"),
        required=False,
        help_text=_("The image to ban; only its fingerprints are kept, never the image."),
    )

    class Meta:
        model = BannedImage
        fields = ("rule", "label")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("image")
        if upload is None:
            if not (self.instance and self.instance.hashes):
                raise ValidationError({"image": _("Choose the image to ban.")})
            return data
        try:
            self.instance.hashes = hashing.banned_image_hashes(upload.read())
        except (MediaRejected, hashing.LowQualityImage, ValueError) as error:
            raise ValidationError({"image": str(getattr(error, "message", error))}) from error
        return data


@admin.register(BannedImage)
class BannedImageAdmin(AuditedAdmin):
    form = BannedImageForm
    list_display = ("label", "rule", "added_at")
    list_filter = ("rule",)
    readonly_fields = ("hashes", "added_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if obj.added_at is None:
            obj.added_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Append-only: viewable, never changed or deleted (the database refuses it too)."""

    list_display = ("created_at", "actor", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    readonly_fields = (
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "before",
        "after",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
