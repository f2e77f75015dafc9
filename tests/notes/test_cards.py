"""The API's cards, read lean: the same as the schema's, and visibility checked per viewer."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from papercrane.accounts.models import Block, Follow, Member
from papercrane.cli import worker
from papercrane.media import services as media_services
from papercrane.notes import queries as note_queries
from papercrane.notes import services as note_services
from papercrane.notes.api import CardOut, card_dicts
from papercrane.notes.models import Note, Visibility
from tests.helpers import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

_colours = itertools.count(7)


def publish(author: Member, title: str, photos: int = 0, **fields: Any) -> Note:
    media = [
        media_services.upload(
            owner=author,
            data=image_bytes(
                "JPEG", (640 + 10 * i, 480), f"#{next(_colours) * 40503 % 0xFFFFFF:06x}"
            ),
            alt_text=f"photo {i}",
        )
        for i in range(photos)
    ]
    return note_services.create_note(
        author=author,
        fields=note_services.NoteFields(
            title=title, media_ids=[str(item.pk) for item in media], **fields
        ),
    )


def schema_cards(note_ids: list[int]) -> dict[int, dict[str, Any]]:
    notes = note_queries.cards_in_order(note_ids)
    return {note.pk: CardOut.model_validate(note).model_dump(mode="json") for note in notes}


def test_lean_cards_are_the_schemas_cards(alice: Member, bob: Member) -> None:
    Member.objects.filter(pk=alice.pk).update(
        display_name="爱丽丝", avatar="avatars/a.png", avatar_thumbnail="avatars/thumbs/a.webp"
    )
    Member.objects.filter(pk=bob.pk).update(display_name="", avatar="avatars/b.png")
    photos = publish(alice, "三张照片 three photos", photos=3)
    worker(["--batch"])  # variants, blurhash and placeholders for the photos
    processing = publish(bob, "Still processing", photos=1)  # its variants are not made yet
    text_only = publish(bob, "只有文字")  # a generated text cover
    bare = publish(alice, "No media at all")
    bare.media.all().delete()
    Note.objects.filter(pk=photos.pk).update(like_count=5, collect_count=2, comment_count=1)
    note_ids = [photos.pk, processing.pk, text_only.pk, bare.pk]

    lean = card_dicts(note_ids)

    assert lean == schema_cards(note_ids)
    assert lean[photos.pk]["cover"]["url"].endswith(".webp")  # a variant, once made
    assert lean[photos.pk]["counts"] == {"likes": 5, "collects": 2, "comments": 1}
    assert lean[photos.pk]["author"]["display_name"] == "爱丽丝"
    assert lean[processing.pk]["author"]["display_name"] == "bob"  # no display name: username
    assert lean[bare.pk]["cover"] is None


def test_the_cover_is_the_first_photo_in_the_notes_order(alice: Member) -> None:
    note = publish(alice, "Order", photos=3)
    media = list(note.media.order_by("position"))
    media[0].position, media[2].position = media[2].position, media[0].position
    for item in (media[0], media[2]):
        item.save(update_fields=["position"])
    assert card_dicts([note.pk]) == schema_cards([note.pk])
    assert card_dicts([note.pk])[note.pk]["cover"]["width"] == 660  # the third uploaded


def test_missing_notes_have_no_card(alice: Member) -> None:
    note = publish(alice, "Here")
    assert set(card_dicts([note.pk, 987_654_321])) == {note.pk}
    assert card_dicts([]) == {}


@pytest.fixture
def carol(make_member: Callable[..., Member]) -> Member:
    return make_member("carol")


def test_each_viewer_gets_their_own_visibility(alice: Member, bob: Member, carol: Member) -> None:
    public = publish(bob, "For everyone")
    followers_only = publish(bob, "For followers", visibility=Visibility.FOLLOWERS)
    limited = publish(bob, "Kept out of search")
    Note.objects.filter(pk=limited.pk).update(moderation_state="limited")
    Follow.objects.create(follower=alice, followee=bob)
    Block.objects.create(blocker=bob, blocked=carol)
    note_ids = [public.pk, followers_only.pk, limited.pk]

    # In turns, so each answer comes from a statement compiled for that viewer alone.
    for _ in range(2):
        assert note_queries.discoverable_ids(alice, note_ids) == {public.pk, followers_only.pk}
        assert note_queries.discoverable_ids(carol, note_ids) == set()
        assert note_queries.discoverable_ids(None, note_ids) == {public.pk}


def test_a_suspension_hides_notes_only_while_it_lasts(alice: Member, bob: Member) -> None:
    note = publish(bob, "Suspended author")
    assert note_queries.discoverable_ids(alice, [note.pk]) == {note.pk}
    Member.objects.filter(pk=bob.pk).update(suspended_until=timezone.now() + dt.timedelta(days=1))
    assert note_queries.discoverable_ids(alice, [note.pk]) == set()
    Member.objects.filter(pk=bob.pk).update(suspended_until=timezone.now() - dt.timedelta(days=1))
    assert note_queries.discoverable_ids(alice, [note.pk]) == {note.pk}
