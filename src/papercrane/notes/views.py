"""Web pages for notes: the composer, the note page, editing and topic pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from papercrane import ratelimit
from papercrane.accounts.http import MemberRequest
from papercrane.ids import parse_id
from papercrane.language import detection
from papercrane.language import services as language_services
from papercrane.media import processing
from papercrane.media import services as media_services
from papercrane.media.models import Media
from papercrane.notes import queries, services, text
from papercrane.notes.models import Note, Topic, Visibility


def _split_topics(raw: str) -> list[str]:
    return [name for name in re.split(r"[\s,，、#]+", raw) if name]


def _form_fields(request: HttpRequest, media_ids: list[str]) -> services.NoteFields:
    post = request.POST
    return services.NoteFields(
        title=post.get("title", "")[:200],
        body=post.get("body", "")[:5000],
        media_ids=media_ids,
        topics=_split_topics(post.get("topics", ""))[:50],
        visibility=post.get("visibility", Visibility.PUBLIC),
        language=post.get("language", "")[:16],
        place_name=post.get("place_name", ""),
        place_city=post.get("place_city", ""),
        draft="save_draft" in post,
    )


def _uploaded_media_ids(request: MemberRequest, errors: dict[str, list[str]]) -> list[str]:
    """Ids from the composer's script (already uploaded), then files posted without script."""
    ids = [i for i in request.POST.get("media_ids", "").split(",") if i.strip()][
        : services.MAX_MEDIA + 1
    ]
    for upload in request.FILES.getlist("photos")[: services.MAX_MEDIA + 1]:
        try:
            ids.append(str(media_services.upload(owner=request.user, data=upload.read()).pk))
        except processing.MediaRejected as rejected:
            errors.setdefault("photos", []).append(f"{upload.name}: {rejected.message}")
    return ids


def _save_alt_texts(request: MemberRequest, media_ids: list[str]) -> None:
    for media_id in media_ids:
        alt_text = request.POST.get(f"alt_{media_id}")
        pk = parse_id(media_id)
        if alt_text is None or pk is None:
            continue
        media = Media.objects.filter(pk=pk, owner=request.user).first()
        if media is not None and media.alt_text != alt_text.strip():
            media_services.update_alt_text(media=media, alt_text=alt_text[:500])


def _posted_media(request: MemberRequest) -> list[Media]:
    """The member's photos named by the form, in its order, to show again after an error."""
    ids = [parse_id(i) for i in request.POST.get("media_ids", "").split(",")]
    found = Media.objects.filter(pk__in=[i for i in ids if i], owner=request.user).in_bulk()
    return [found[i] for i in ids if i in found]


def _composer_context(
    note: Note | None, values: dict[str, Any], errors: dict[str, list[str]], media: list[Media]
) -> dict[str, Any]:
    return {
        "note": note,
        "values": values,
        "errors": errors,
        "media": media,
        "visibilities": Visibility.choices,
        "languages": detection.CHOICES,
        "title_max": text.TITLE_MAX_UNITS,
        "max_media": services.MAX_MEDIA,
    }


def _errors_of(error: ValidationError) -> dict[str, list[str]]:
    return {
        ("form" if field == "__all__" else field): [str(message) for message in messages_]
        for field, messages_ in error.message_dict.items()
    }


SaveNote = Callable[[services.NoteFields], Note]


def _submit(request: MemberRequest, save: SaveNote, errors: dict[str, list[str]]) -> Note | None:
    """Take the composer's photos, alt texts and fields and ``save`` them; collect the errors
    to show on the form instead of raising them."""
    try:
        media_ids = _uploaded_media_ids(request, errors)
        _save_alt_texts(request, media_ids)
        if not errors:
            return save(_form_fields(request, media_ids))
    except ratelimit.RateLimited as limited:
        errors["form"] = [limited.message]
    except services.EditConflict:
        errors["form"] = [_("This note changed in another window. Reload it and edit again.")]
    except ValidationError as error:
        errors.update(_errors_of(error))
    return None


def _composer(
    request: MemberRequest, note: Note | None, values: dict[str, Any], errors: dict[str, list[str]]
) -> HttpResponse:
    """The composer form: after a failed post it shows what was posted, photos included."""
    if request.method == "POST":
        media = _posted_media(request)
    else:
        media = [m for m in queries.photos(note) if not m.is_text_cover] if note is not None else []
    context = _composer_context(note, values, errors, media)
    return render(request, "notes/compose.html", context, status=422 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: MemberRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        note = _submit(
            request, lambda fields: services.create_note(author=request.user, fields=fields), errors
        )
        if note is not None:
            posted = note.status == Note.Status.PUBLISHED
            messages.success(
                request, _("Your note is posted.") if posted else _("Saved as a draft.")
            )
            return redirect("notes:detail", note_id=note.pk)
    return _composer(request, None, request.POST.dict(), errors)


def detail(request: HttpRequest, note_id: int) -> HttpResponse:
    viewer = request.user if request.user.is_authenticated else None
    note = queries.visible_note(viewer, note_id)
    if note is None:
        raise Http404
    photos = queries.photos(note)
    reading = language_services.reading(
        note, viewer, request.GET.get("view", ""), [photo.alt_text for photo in photos]
    )
    return render(
        request, "notes/detail.html", {"note": note, "photos": photos, "reading": reading}
    )


EDITABLE = {
    "title",
    "body",
    "topics",
    "visibility",
    "place_name",
    "place_city",
    "media_ids",
    "draft",
    "language",
}


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: MemberRequest, note_id: int) -> HttpResponse:
    note = queries.editable_note(request.user, note_id)
    if note is None:
        raise Http404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        version = parse_id(request.POST.get("version", ""))

        def save(fields: services.NoteFields) -> Note:
            fields.draft = fields.draft and note.status == Note.Status.DRAFT  # no un-publishing
            return services.update_note(note=note, fields=fields, changed=EDITABLE, version=version)

        if _submit(request, save, errors) is not None:
            messages.success(request, _("Your note is saved."))
            return redirect("notes:detail", note_id=note.pk)
        return _composer(request, note, request.POST.dict(), errors)
    values = {
        "title": note.title,
        "body": note.body,
        "topics": " ".join(topic.name for topic in note.topics.all()),
        "visibility": note.visibility,
        "language": note.language if note.language_chosen else "",
        "place_name": note.place_name,
        "place_city": note.place_city,
    }
    return _composer(request, note, values, errors)


@login_required
@require_POST
def delete(request: MemberRequest, note_id: int) -> HttpResponse:
    note = queries.editable_note(request.user, note_id)
    if note is None:
        raise Http404
    services.delete_note(note=note)
    messages.success(request, _("Your note is deleted."))
    return redirect("web:profile", username=request.user.username)


def topic(request: HttpRequest, name: str) -> HttpResponse:
    found = Topic.objects.filter(key=text.normalize_topic(name)).first()
    if found is None:
        raise Http404
    viewer = request.user if request.user.is_authenticated else None
    visible = queries.latest(viewer).filter(topics=found)
    count = visible.count()
    if not count:  # a topic used only on notes this viewer cannot see stays unknown to them
        raise Http404
    notes = visible.order_by("-published_at", "-pk")[:60]
    return render(request, "notes/topic.html", {"topic": found, "notes": notes, "count": count})
