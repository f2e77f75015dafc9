"""``papercrane seed-demo`` creates the demo community once, with real photos ready for notes."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from PIL import Image

from papercrane.accounts.models import Follow, Member
from papercrane.engagement.models import Comment, Like
from papercrane.notes.demo.photos import demo_photo_bytes, load_members, load_notes
from papercrane.notes.models import Note

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_uses_the_configured_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERCRANE_DEMO_PASSWORD", "demo-crane-2026")
    call_command("seed_demo")
    counts = (
        Note.objects.count(),
        Like.objects.count(),
        Comment.objects.count(),
        Follow.objects.count(),
    )
    call_command("seed_demo")
    assert counts == (
        Note.objects.count(),
        Like.objects.count(),
        Comment.objects.count(),
        Follow.objects.count(),
    )
    assert counts[0] == 60 and all(counts)
    liked = Note.objects.filter(like_count__gt=0).first()
    assert liked is not None and liked.like_count == Like.objects.filter(note=liked).count()
    assert Member.objects.count() == len(load_members()) == 12
    member = Member.objects.get(username=load_members()[0]["username"])
    assert member.check_password("demo-crane-2026")


def test_demo_notes_cover_six_topics_in_two_languages() -> None:
    notes = load_notes()
    assert len(notes) == 60
    assert {note["category"] for note in notes} == {
        "food",
        "travel",
        "beauty",
        "fashion",
        "study",
        "fitness",
    }
    assert {note["language"] for note in notes} == {"en", "zh-Hans"}


def test_demo_photos_are_real_jpegs() -> None:
    ref = load_notes()[0]["photos"][0]
    image = Image.open(io.BytesIO(demo_photo_bytes(ref)))
    assert image.format == "JPEG"
    assert min(image.size) >= 200
