"""Data rights in the API: export one's data, delete one's account, and change one's mind."""

from __future__ import annotations

from datetime import datetime

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from papercrane.accounts.api import router as accounts_router
from papercrane.api.auth import AuthedRequest, member_auth
from papercrane.api.problems import Problem
from papercrane.privacy import erasure, export
from papercrane.privacy.models import ExportRequest, ExportStatus

router = Router(tags=["privacy"])


class ExportOut(Schema):
    id: str
    status: str
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    size: int
    failure_reason: str
    download_url: str | None

    @staticmethod
    def resolve_id(job: ExportRequest) -> str:
        return str(job.pk)

    @staticmethod
    def resolve_download_url(job: ExportRequest) -> str | None:
        if job.status != ExportStatus.READY:
            return None
        return reverse("api:privacy-export-download", kwargs={"export_id": job.pk})


class DeletionIn(Schema):
    password: str


class DeletionOut(Schema):
    erase_after: datetime | None


def _in_progress(error: export.ExportInProgress) -> Problem:
    return Problem(
        409, "export-in-progress", _("An export is already being prepared"), error.message
    )


@router.post("/accounts/me/export", response={202: ExportOut}, auth=member_auth)
def request_export(request: AuthedRequest) -> Status[ExportRequest]:
    try:
        return Status(202, export.request_export(member=request.auth))
    except export.ExportInProgress as error:
        raise _in_progress(error) from error


@router.get("/accounts/me/export/{export_id}", response=ExportOut, auth=member_auth)
def export_job(request: AuthedRequest, export_id: str) -> ExportRequest:
    return export.export_of(member=request.auth, export_id=export_id)


@router.get(
    "/accounts/me/export/{export_id}/download",
    auth=member_auth,
    url_name="privacy-export-download",
    response={200: None},
)
def download_export(request: AuthedRequest, export_id: str) -> FileResponse:
    try:
        handle, filename = export.download(member=request.auth, export_id=export_id)
    except export.ExportNotReady as error:
        raise Problem(
            409,
            "export-not-ready",
            _("The export is not ready yet"),
            _("You will be notified when it is ready."),
        ) from error
    except export.Gone as error:
        raise Problem(
            410,
            "export-gone",
            _("This export is no longer available"),
            _("Exports are kept for 7 days. Ask for a new one."),
        ) from error
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


# On the accounts router: ninja answers each path from the router that declared it first, so
# a DELETE of /accounts/me on another router would never be reached (GET and PATCH are there).
@accounts_router.delete("/accounts/me", response={202: DeletionOut}, auth=member_auth)
def delete_account(request: AuthedRequest, payload: DeletionIn) -> Status[dict[str, datetime]]:
    """Delete the account after the grace period; signing in before then cancels it."""
    try:
        erase_after = erasure.request_deletion(member=request.auth, password=payload.password)
    except erasure.WrongPassword as error:
        raise Problem(403, "wrong-password", _("Wrong password"), error.message) from error
    return Status(202, {"erase_after": erase_after})


@router.post("/accounts/me/deletion/cancel", response=DeletionOut, auth=member_auth)
def cancel_deletion(request: AuthedRequest) -> dict[str, None]:
    """Keep the account (signing in again does the same)."""
    erasure.cancel_deletion(request.auth)
    return {"erase_after": None}
