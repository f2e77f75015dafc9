"""Privacy on the web: "Your data" (what is kept, export, deletion), sessions and devices, and
the privacy policy and terms, both written from the data inventory and the operator's settings.

Thin: parse the form, call ``privacy.services`` / ``export`` / ``erasure``, render.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from papercrane import ratelimit
from papercrane.accounts import queries as account_queries
from papercrane.accounts.http import MemberRequest
from papercrane.ids import parse_id
from papercrane.privacy import erasure, export, queries, services
from papercrane.privacy.models import ExportStatus
from papercrane.web.forms import DeleteAccountForm


def _say(error: BaseException) -> str:
    """What to tell the member about a refusal, in their language."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    message = getattr(error, "message", None)  # RateLimited, ExportInProgress, WrongPassword…
    return str(message) if message else str(error)


# --- Your data -----------------------------------------------------------------------------------


@login_required
@require_GET
def my_data(request: MemberRequest) -> HttpResponse:
    return _my_data_page(request, DeleteAccountForm())


def _my_data_page(
    request: MemberRequest, form: DeleteAccountForm, status: int = 200
) -> HttpResponse:
    member = request.user
    now = timezone.now()
    exports = list(queries.exports_of(member))
    for job in exports:
        job.downloadable = (  # type: ignore[attr-defined]
            job.status == ExportStatus.READY and (job.expires_at is None or job.expires_at > now)
        )
    context = {
        "categories": queries.data_overview(member),
        "exports": exports,
        "export_pending": any(job.status == ExportStatus.PENDING for job in exports),
        "erase_after": member.erase_after,
        "grace_days": settings.DELETION_GRACE_DAYS,
        "delete_form": form,
    }
    return render(request, "privacy/my_data.html", context, status=status)


@login_required
@require_POST
def request_export(request: MemberRequest) -> HttpResponse:
    try:
        export.request_export(member=request.user)
    except (ratelimit.RateLimited, export.ExportInProgress, ValidationError) as error:
        messages.error(request, _say(error))
    else:
        messages.success(
            request,
            _("We are preparing your data. It will be listed here when it is ready to download."),
        )
    return redirect("privacy:my_data")


@login_required
@require_GET
def download_export(request: MemberRequest, export_id: str) -> HttpResponseBase:
    try:
        handle, filename = export.download(member=request.user, export_id=export_id)
    except export.ExportNotReady:
        messages.error(request, _("This export is still being prepared. Try again in a moment."))
        return redirect("privacy:my_data")
    except export.Gone:
        messages.error(request, _("This export is no longer available. Request a new one."))
        return redirect("privacy:my_data")
    return FileResponse(handle, as_attachment=True, filename=filename)


@login_required
@require_POST
def delete_account(request: MemberRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST)
    if not form.is_valid():
        return _my_data_page(request, form, status=400)
    try:
        erase_after = erasure.request_deletion(
            member=request.user, password=form.cleaned_data["password"]
        )
    except erasure.WrongPassword:
        form.add_error("password", _("That is not your password."))
        return _my_data_page(request, form, status=400)
    except ratelimit.RateLimited as error:
        form.add_error(None, _say(error))
        return _my_data_page(request, form, status=429)
    date = formats.date_format(timezone.localtime(erase_after), "DATE_FORMAT")
    messages.success(
        request,
        _(
            "Your account will be erased on %(date)s. Sign in again or cancel here before then "
            "to keep it."
        )
        % {"date": date},
    )
    return redirect("privacy:my_data")


@login_required
@require_POST
def cancel_deletion(request: MemberRequest) -> HttpResponse:
    erasure.cancel_deletion(request.user)
    messages.success(request, _("Your account will not be deleted."))
    return redirect("privacy:my_data")


# --- Sessions and devices ------------------------------------------------------------------------


@login_required
@require_GET
def sessions(request: MemberRequest) -> HttpResponse:
    context = {
        "sessions": queries.open_sessions(request.user, request.session.session_key),
        "tokens": account_queries.live_tokens(request.user).order_by("-created_at"),
        "address_days": services.ADDRESS_DAYS,
    }
    return render(request, "privacy/sessions.html", context)


@login_required
@require_POST
def end_session(request: MemberRequest, sign_in_id: str) -> HttpResponse:
    pk = parse_id(sign_in_id)
    if pk is None:
        raise Http404
    current = request.session.session_key or ""
    is_current = bool(current) and queries.session_key_of(request.user, pk) == current
    if not services.sign_out_session(member=request.user, sign_in_id=pk):
        raise Http404
    if is_current:
        logout(request)
        return redirect("web:home")
    messages.success(request, _("That session is signed out."))
    return redirect("privacy:sessions")


@login_required
@require_POST
def end_other_sessions(request: MemberRequest) -> HttpResponse:
    services.sign_out_other_sessions(
        member=request.user, current_session_key=request.session.session_key or ""
    )
    messages.success(request, _("You are signed out everywhere else."))
    return redirect("privacy:sessions")


# --- Policy and terms -----------------------------------------------------------------------------


def _operator() -> dict[str, Any]:
    return {
        "operator_name": settings.OPERATOR_NAME,
        "operator_contact": settings.OPERATOR_CONTACT,
        "operator_jurisdiction": settings.OPERATOR_JURISDICTION,
        "grace_days": settings.DELETION_GRACE_DAYS,
        "address_days": services.ADDRESS_DAYS,
        "sign_in_days": services.SIGN_IN_DAYS,
    }


@require_GET
def privacy_policy(request: HttpRequest) -> HttpResponse:
    context = {**_operator(), "categories": queries.data_overview(None)}
    return render(request, "privacy/policy.html", context)


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/terms.html", _operator())
