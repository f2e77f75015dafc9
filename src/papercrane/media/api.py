"""Media API: upload a photo, check on its processing, describe it, delete it."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile

from papercrane.api.auth import AuthedRequest, member_auth
from papercrane.api.problems import Problem, not_found
from papercrane.media import queries, services, storage
from papercrane.media.models import Media

router = Router(tags=["media"])


class VariantOut(Schema):
    url: str
    width: int
    height: int
    format: str


class MediaOut(Schema):
    id: str
    status: str
    failure_reason: str
    width: int
    height: int
    url: str
    blurhash: str | None
    dominant_color: str | None
    placeholder: str | None
    alt_text: str
    variants: list[VariantOut]
    created_at: datetime

    @staticmethod
    def resolve_id(media: Media) -> str:
        return str(media.pk)

    @staticmethod
    def resolve_url(media: Media) -> str:
        return storage.url(media.original)

    @staticmethod
    def resolve_blurhash(media: Media) -> str | None:
        return media.blurhash or None

    @staticmethod
    def resolve_dominant_color(media: Media) -> str | None:
        return media.dominant_color or None

    @staticmethod
    def resolve_placeholder(media: Media) -> str | None:
        return media.placeholder or None

    @staticmethod
    def resolve_variants(media: Media) -> list[dict[str, object]]:
        return [{**variant, "url": storage.url(variant["name"])} for variant in media.variants]


class AltTextIn(Schema):
    alt_text: str = Field(..., max_length=500)


def _own(request: AuthedRequest, media_id: str) -> Media:
    media = queries.own_media(request.auth, media_id)
    if media is None:
        raise not_found()
    return media


@router.post("/media", response={201: MediaOut}, auth=member_auth)
def upload(
    request: AuthedRequest, file: File[UploadedFile], alt_text: Form[str] = ""
) -> Status[Media]:
    media = services.upload(owner=request.auth, data=file.read(), alt_text=alt_text)
    return Status(201, media)


@router.get("/media/{media_id}", response=MediaOut, auth=member_auth)
def detail(request: AuthedRequest, media_id: str) -> Media:
    return _own(request, media_id)


@router.patch("/media/{media_id}", response=MediaOut, auth=member_auth)
def describe(request: AuthedRequest, media_id: str, payload: AltTextIn) -> Media:
    return services.update_alt_text(media=_own(request, media_id), alt_text=payload.alt_text)


@router.delete("/media/{media_id}", response={204: None}, auth=member_auth)
def delete(request: AuthedRequest, media_id: str) -> Status[None]:
    media = _own(request, media_id)
    if media.note_id is not None:
        raise Problem(
            409,
            "media-in-use",
            _("This photo belongs to a note"),
            _("Edit the note's media_ids to remove it."),
        )
    services.delete(media)
    return Status(204, None)
