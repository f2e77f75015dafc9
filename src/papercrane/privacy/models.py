"""Privacy data: export requests and sign-ins (sessions and login history). Data only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class ExportRequest(models.Model):
    """A member's request for a copy of their data; the zip lives in storage until it
    expires."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    file_name = models.CharField(max_length=200, blank=True)  # in media storage
    size = models.PositiveBigIntegerField(default=0)
    failure_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.member_id}"


class SignIn(models.Model):
    """One sign-in: a web session or an API token's first use. It lists the member's open
    sessions (revocable) and their sign-in history; the address and browser are cleared
    after their retention (see ``privacy.inventory``)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_ins"
    )
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["member", "-created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"sign-in {self.pk} of {self.member_id}"
