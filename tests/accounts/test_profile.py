"""A member's own profile: fields, preferences, avatar uploads (and hostile files)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from papercrane.accounts.models import Member
from papercrane.cli import worker
from tests.helpers import ApiClient, error_fields, image_bytes, problem

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_edits_profile(alice: Member, as_member: Callable[[Member], ApiClient]) -> None:
    client = as_member(alice)
    response = client.patch(
        "/accounts/me",
        {
            "display_name": "王爱丽 Alice",
            "bio": "成都 → Berlin ☕️",
            "language": "zh-Hans",
            "time_zone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["language"], body["time_zone"]) == (
        "王爱丽 Alice",
        "zh-Hans",
        "Asia/Shanghai",
    )
    alice.refresh_from_db()
    assert alice.bio == "成都 → Berlin ☕️"


def test_bad_profile_values_name_their_fields(
    alice: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    client = as_member(alice)
    body = problem(
        client.patch(
            "/accounts/me", {"time_zone": "Mars/Olympus", "language": "xx", "bio": "b" * 501}
        ),
        422,
    )
    assert error_fields(body) == {"language", "bio"}
    body = problem(client.patch("/accounts/me", {"time_zone": "Mars/Olympus"}), 422)
    assert error_fields(body) == {"time_zone"}
    alice.refresh_from_db()
    assert alice.time_zone == "UTC"


def test_public_profile_hides_private_fields(alice: Member, api: ApiClient) -> None:
    body = api.get("/accounts/ALICE").json()
    assert body["username"] == "alice"
    assert "email" not in body and "language" not in body
    problem(api.get("/accounts/nobody_here"), 404)


def upload(
    client: ApiClient, content: bytes, name: str = "a.png", content_type: str = "image/png"
) -> object:
    return client.client.post(
        "/api/v1/accounts/me/avatar",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        headers=client._headers(),
    )


def test_avatar_is_squared_reencoded_and_thumbnailed_in_the_background(
    alice: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    client = as_member(alice)
    response = upload(client, image_bytes("JPEG", (1200, 800)), "photo.jpg", "image/jpeg")
    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    with alice.avatar.open("rb") as handle:
        stored = Image.open(handle)
        assert (stored.format, stored.size) == ("WEBP", (512, 512))
        assert not stored.getexif()
    assert not alice.avatar_thumbnail
    worker(["--batch"])  # the real worker, run until the queue is empty
    alice.refresh_from_db()
    with alice.avatar_thumbnail.open("rb") as handle:
        assert Image.open(handle).size == (96, 96)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares huge dimensions but carries almost no data: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "empty.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png"),
        (b"<html><script>alert(1)</script></html>", "page.jpg"),
        (image_bytes("PNG")[:200], "truncated.png"),
        (_png_header_only(30000, 30000), "bomb.png"),
        (image_bytes("GIF"), "anim.gif"),
        (b"PK\x03\x04" + b"\0" * 100, "archive.png"),
    ],
)
def test_hostile_avatars_are_refused_and_nothing_changes(
    alice: Member, as_member: Callable[[Member], ApiClient], content: bytes, name: str
) -> None:
    body = problem(upload(as_member(alice), content, name), 422)
    assert error_fields(body) == {"avatar"}
    alice.refresh_from_db()
    assert not alice.avatar


def test_oversized_avatar_is_refused(
    alice: Member, as_member: Callable[[Member], ApiClient], settings: object
) -> None:
    noise = io.BytesIO()
    Image.effect_noise((1800, 1800), 100).convert("RGB").save(noise, format="PNG")
    assert noise.tell() > 2_000_000
    settings.AVATAR_MAX_BYTES = 2_000_000  # type: ignore[attr-defined]
    problem(upload(as_member(alice), noise.getvalue()), 422)


def test_avatar_upload_keeps_counts_that_changed_meanwhile(alice: Member, bob: Member) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from papercrane.accounts import services

    stale = Member.objects.get(pk=alice.pk)
    services.follow(member=bob, target=alice)
    upload = SimpleUploadedFile("a.png", image_bytes("PNG", (300, 300)), "image/png")
    services.set_avatar(member=stale, upload=upload)
    alice.refresh_from_db()
    assert alice.follower_count == 1 and alice.avatar
