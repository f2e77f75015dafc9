"""Uploading photos through the API: what is stored and served is clean, and bad files change
nothing. Processing runs in the real worker; the S3 path runs against a real S3 server (moto)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.media import storage
from papercrane.media.models import Media
from tests.helpers import ApiClient, error_fields, image_bytes, problem
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)

GPS_LATITUDE = (31.0, 13.0, 49.0)


def jpeg_with_location() -> bytes:
    """A phone-like JPEG: GPS position, device name and a comment in its EXIF."""
    image = Image.new("RGB", (640, 480), "orange")
    exif = Image.Exif()
    exif[0x010F] = "SecretPhoneMaker"  # Make
    exif[0x0110] = "SecretPhone 15"  # Model
    exif[0x010E] = "my home address"  # ImageDescription
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", GPS_LATITUDE, "E", (121.0, 28.0, 25.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"secret comment")
    return buffer.getvalue()


LEAKS = [b"SecretPhone", b"my home address", b"secret comment", b"Exif", b"GPS"]


def post_file(client: ApiClient, content: bytes, name: str = "photo.jpg", **form: str) -> Any:
    upload = SimpleUploadedFile(name, content, "image/jpeg")
    return client.client.post("/api/v1/media", {"file": upload, **form}, headers=client._headers())


@pytest.fixture
def alices(alice: Member, as_member: Callable[[Member], ApiClient]) -> ApiClient:
    return as_member(alice)


def served_bytes(url: str) -> bytes:
    response = Client().get(url)
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    return b"".join(response.streaming_content)


def test_upload_answers_fast_with_a_clean_original_then_variants(alices: ApiClient) -> None:
    response = post_file(alices, jpeg_with_location(), alt_text="An orange square")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["width"], body["height"]) == ("processing", 640, 480)
    assert body["variants"] == [] and body["alt_text"] == "An orange square"
    original = served_bytes(body["url"])
    assert not any(leak in original for leak in LEAKS)
    worker(["--batch"])
    ready = alices.get(f"/media/{body['id']}").json()
    assert ready["status"] == "ready"
    assert [(v["width"], v["format"]) for v in ready["variants"]] == [(360, "webp")]
    for variant in ready["variants"]:
        assert not any(leak in served_bytes(variant["url"]) for leak in LEAKS)


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"", 422),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", 415),
        (b"<!doctype html><script>alert(1)</script>", 415),
        (b"PK\x03\x04" + b"\0" * 200, 415),
        (image_bytes("GIF"), 415),
        (image_bytes("JPEG")[:300], 422),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    alices: ApiClient, content: bytes, status: int
) -> None:
    body = problem(post_file(alices, content), status)
    assert error_fields(body) == {"file"}
    assert not Media.objects.exists()
    assert not default_storage.exists("photos")


def test_oversized_requests_are_refused_before_reading(alices: ApiClient, settings: Any) -> None:
    settings.MAX_REQUEST_BYTES = 500
    problem(post_file(alices, image_bytes("PNG", (400, 400))), 413)
    assert not Media.objects.exists()


def test_alt_text_is_plain_text_and_bounded(alices: ApiClient) -> None:
    media_id = post_file(alices, image_bytes("JPEG")).json()["id"]
    described = alices.patch(
        f"/media/{media_id}", {"alt_text": "<img src=x onerror=alert(1)>"}
    ).json()
    assert described["alt_text"] == "<img src=x onerror=alert(1)>"
    problem(alices.patch(f"/media/{media_id}", {"alt_text": "x" * 501}), 422)


def test_other_members_media_is_not_found(
    alices: ApiClient, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    media_id = post_file(alices, image_bytes("JPEG")).json()["id"]
    bobs = as_member(bob)
    problem(bobs.get(f"/media/{media_id}"), 404)
    problem(bobs.patch(f"/media/{media_id}", {"alt_text": "mine now"}), 404)
    problem(bobs.delete(f"/media/{media_id}"), 404)
    assert Media.objects.filter(pk=media_id).exists()


def test_uploads_need_auth(api: ApiClient) -> None:
    problem(post_file(api, image_bytes("JPEG")), 401)


def test_failed_processing_is_marked_with_a_reason_and_leaves_no_variants(
    alices: ApiClient,
) -> None:
    media_id = post_file(alices, image_bytes("JPEG", (800, 600))).json()["id"]
    media = Media.objects.get(pk=media_id)
    default_storage.delete(media.original)
    default_storage.save(media.original, io.BytesIO(b"\xff\xd8\xff\xe0 broken"))
    worker(["--batch"])
    failed = alices.get(f"/media/{media_id}").json()
    assert failed["status"] == "failed" and failed["failure_reason"]
    assert failed["variants"] == []
    assert not default_storage.exists(storage.variant_name(media.sha256, 360))


# --- S3 ------------------------------------------------------------------------------------------


@pytest.fixture
def s3_bucket(settings: Any) -> Iterator[Any]:
    """A real S3 API (moto's server) on localhost, and Papercrane's storage pointed at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="papercrane-media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "papercrane-media",
                "endpoint_url": endpoint,
                "access_key": "test",
                "secret_key": "test",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "querystring_auth": False,
                "file_overwrite": True,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    yield client
    server.stop()


def test_media_lives_in_an_s3_bucket_when_configured(alices: ApiClient, s3_bucket: Any) -> None:
    body = post_file(alices, jpeg_with_location()).json()
    assert body["url"].startswith("http://127.0.0.1:")
    worker(["--batch"])
    media = Media.objects.get(pk=body["id"])
    keys = sorted(
        obj["Key"] for obj in s3_bucket.list_objects_v2(Bucket="papercrane-media")["Contents"]
    )
    assert keys == sorted([media.original, *(v["name"] for v in media.variants)])
    for key in keys:
        stored = s3_bucket.get_object(Bucket="papercrane-media", Key=key)
        assert stored["CacheControl"] == "public, max-age=31536000, immutable"
        assert not any(leak in stored["Body"].read() for leak in LEAKS)
    assert alices.delete(f"/media/{body['id']}").status_code == 204
    assert s3_bucket.list_objects_v2(Bucket="papercrane-media").get("KeyCount") == 0
