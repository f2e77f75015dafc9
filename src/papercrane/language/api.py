"""Language API: translations of notes and comments, and word-by-word glosses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from papercrane import ratelimit
from papercrane.api.auth import viewer_of
from papercrane.api.problems import Problem, not_found, validation_problem
from papercrane.engagement import queries as engagement_queries
from papercrane.language import detection, gloss, queries, services
from papercrane.notes import queries as note_queries

router = Router(tags=["language"])


class TranslationIn(Schema):
    target_language: str = Field(
        "", max_length=16, description="en, zh-Hans, …; the reader's language when empty"
    )


class NoteTranslationOut(Schema):
    title: str
    body: str
    source_language: str
    target_language: str
    provider: str = Field(description='"" when the note is already in the target language')


class CommentTranslationOut(Schema):
    body: str
    source_language: str
    target_language: str
    provider: str


class EntryOut(Schema):
    simplified: str
    traditional: str
    pinyin: str
    meanings: list[str]


class SegmentOut(Schema):
    text: str
    kind: str = Field(description='"zh" (with pinyin and meanings), "en" or "other"')
    pinyin: str
    entries: list[EntryOut]


class NoteGlossOut(Schema):
    title: list[SegmentOut]
    body: list[SegmentOut]


class GlossIn(Schema):
    text: str = Field(max_length=gloss.MAX_GLOSS_CHARS)


class GlossOut(Schema):
    segments: list[SegmentOut]


def _target(request: HttpRequest, payload: TranslationIn) -> str:
    target = payload.target_language or queries.reader_language(viewer_of(request))
    if target not in detection.CODES:
        raise validation_problem(
            [{"field": "target_language", "message": _("Choose a supported language.")}]
        )
    return target


def _translated(request: HttpRequest, texts: list[str], target: str, source: str) -> Any:
    viewer = viewer_of(request)
    reader = str(viewer.pk) if viewer else ratelimit.client_ip(request)
    try:
        return services.translate_for(reader, texts, target, source)
    except services.TranslationUnavailable as error:
        raise Problem(
            503,
            "translation-unavailable",
            _("Translation is not available right now"),
            services.unavailable_message(error),
        ) from error


@router.post("/notes/{note_id}/translation", response=NoteTranslationOut, auth=None)
def translate_note(request: HttpRequest, note_id: str, payload: TranslationIn) -> dict[str, str]:
    note = note_queries.visible_note(viewer_of(request), note_id)
    if note is None:
        raise not_found()
    target = _target(request, payload)
    result = _translated(request, [note.title, note.body], target, note.language)
    title, body = result.texts
    return {
        "title": title,
        "body": body,
        "source_language": result.source,
        "target_language": target,
        "provider": result.provider,
    }


@router.post("/comments/{comment_id}/translation", response=CommentTranslationOut, auth=None)
def translate_comment(
    request: HttpRequest, comment_id: str, payload: TranslationIn
) -> dict[str, str]:
    comment = engagement_queries.visible_comment(viewer_of(request), comment_id)
    if comment is None:
        raise not_found()
    target = _target(request, payload)
    result = _translated(request, [comment.body], target, comment.language)
    return {
        "body": result.texts[0],
        "source_language": result.source,
        "target_language": target,
        "provider": result.provider,
    }


@router.get("/notes/{note_id}/gloss", response=NoteGlossOut, auth=None)
def gloss_note(request: HttpRequest, note_id: str) -> dict[str, Any]:
    """The note word by word: pinyin and dictionary meanings of Chinese words, Chinese
    words for English ones. Works offline, whatever translation is configured."""
    note = note_queries.visible_note(viewer_of(request), note_id)
    if note is None:
        raise not_found()
    return {"title": gloss.gloss(note.title), "body": gloss.gloss(note.body)}


@router.post("/language/gloss", response=GlossOut, auth=None)
def gloss_text(request: HttpRequest, payload: GlossIn) -> dict[str, Any]:
    ratelimit.hit("gloss", ratelimit.client_ip(request), services.GLOSSES_PER_ADDRESS)
    return {"segments": gloss.gloss(payload.text)}
