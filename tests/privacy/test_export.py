"""A member's copy of their data: one file per category, their photos, an ActivityStreams
outbox and a readable index; only theirs, only for a week, a few times a day."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement
from papercrane.media import services as media_services
from papercrane.media import storage
from papercrane.media.models import Media
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from papercrane.notifications.models import Notification
from papercrane.privacy import export, inventory
from papercrane.privacy.models import ExportRequest, ExportStatus
from tests.helpers import ApiClient, image_bytes, problem

Login = Callable[[Member], ApiClient]
SCRIPT_TITLE = "<script>alert('x')</script> Sunset pier"

pytestmark = pytest.mark.django_db


def photo(owner: Member, color: str) -> Media:
    media = media_services.upload(owner=owner, data=image_bytes(color=color), alt_text="the pier")
    media_services.process(media.pk)
    media.refresh_from_db()
    return media


@pytest.fixture
def alices_note(alice: Member, bob: Member) -> Note:
    photos = [photo(alice, "tomato"), photo(alice, "navy")]
    note = note_services.create_note(
        author=alice,
        fields=note_services.NoteFields(
            title=SCRIPT_TITLE,
            body="Golden hour at the pier #travel",
            media_ids=[str(media.pk) for media in photos],
            topics=["travel"],
        ),
    )
    account_services.follow(member=bob, target=alice)
    engagement.like_note(member=bob, note=note)
    engagement.add_comment(author=alice, note=note, body="Thanks for looking")
    return note


def built(client: ApiClient) -> dict[str, Any]:
    """Ask for an export through the API and run the build task's work."""
    response = client.post("/accounts/me/export")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "pending" and job["download_url"] is None
    export.build_export(int(job["id"]))
    return dict(client.get(f"/accounts/me/export/{job['id']}").json())


def archive(client: ApiClient, job: dict[str, Any]) -> zipfile.ZipFile:
    response = client.get(job["download_url"].removeprefix("/api/v1"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_archive_holds_every_category_the_photos_an_outbox_and_an_escaped_index(
    alice: Member, bob: Member, alices_note: Note, as_member: Login
) -> None:
    client = as_member(alice)
    job = built(client)
    assert job["status"] == "ready"
    stored = ExportRequest.objects.get(pk=job["id"])
    assert stored.ready_at is not None and stored.expires_at == stored.ready_at + timedelta(days=7)
    assert stored.file_name.startswith(f"{export.DIRECTORY}/") and len(stored.file_name) > 40
    assert Notification.objects.filter(recipient=alice, verb="export_ready").exists()

    zipped = archive(client, job)
    names = set(zipped.namelist())
    for category in inventory.categories():
        assert f"{category.key}.json" in names
    everything = "\n".join(
        zipped.read(name).decode() for name in names if name.endswith((".json", ".html"))
    )

    notes = json.loads(zipped.read("notes.json"))
    [note] = notes["notes.Note"]
    assert note["title"] == SCRIPT_TITLE and note["topics"] == ["travel"]
    assert note["created_at"].startswith(str(timezone.now().year))  # ISO dates
    originals = {media.pk: media for media in Media.objects.filter(owner=alice)}
    for row in notes["media.Media"]:
        if row["id"] in originals and not originals[row["id"]].is_text_cover:
            assert zipped.read(row["file"]) == storage.read(originals[row["id"]].original)

    follows = json.loads(zipped.read("follows.json"))["accounts.Follow"]
    assert follows == [
        {"follower": "bob", "followee": "alice", "created_at": follows[0]["created_at"]}
    ]
    profile = json.loads(zipped.read("profile.json"))["accounts.Member"][0]
    assert profile["username"] == "alice" and "password" not in profile
    assert alice.password not in everything and "argon2" not in everything
    assert bob.email == "" or bob.email not in everything

    outbox = json.loads(zipped.read("outbox.json"))
    assert outbox["@context"] == "https://www.w3.org/ns/activitystreams"
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 1
    [create] = outbox["orderedItems"]
    assert create["type"] == "Create" and create["object"]["type"] == "Note"
    assert "&lt;script&gt;" in create["object"]["content"]
    assert create["object"]["tag"] == [{"type": "Hashtag", "name": "#travel"}]
    attachments = create["object"]["attachment"]
    assert len(attachments) == 2 and all(image["url"] in names for image in attachments)

    index = zipped.read("index.html").decode()
    assert "<script>" not in index
    assert 'href="notes.json"' in index and 'href="outbox.json"' in index


def test_the_index_is_in_the_members_language(bob: Member, as_member: Login) -> None:
    job = built(as_member(bob))
    index = archive(as_member(bob), job).read("index.html").decode()
    assert '<html lang="zh-hans">' in index


def test_someone_elses_export_is_not_found(
    alice: Member, bob: Member, alices_note: Note, as_member: Login
) -> None:
    job = built(as_member(alice))
    problem(as_member(bob).get(f"/accounts/me/export/{job['id']}"), 404)
    problem(as_member(bob).get(f"/accounts/me/export/{job['id']}/download"), 404)
    problem(as_member(bob).get("/accounts/me/export/999999/download"), 404)
    problem(ApiClient().get(f"/accounts/me/export/{job['id']}/download"), 401)
    # The file itself is never served as public media, whoever learns its name.
    stored = ExportRequest.objects.get(pk=job["id"]).file_name
    assert stored.startswith("private/") and default_storage.exists(stored)
    assert Client().get(f"/media/{stored}").status_code == 404


def test_an_expired_export_is_gone_and_its_file_removed(
    alice: Member, as_member: Login, django_capture_on_commit_callbacks: Any
) -> None:
    client = as_member(alice)
    job = built(client)
    name = ExportRequest.objects.get(pk=job["id"]).file_name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        assert export.expire_exports(timezone.now() + timedelta(days=8)) == 1
    assert not default_storage.exists(name)
    assert client.get(f"/accounts/me/export/{job['id']}").json()["status"] == "expired"
    body = problem(client.get(f"/accounts/me/export/{job['id']}/download"), 410)
    assert body["type"].endswith("export-gone")


def test_a_ready_export_past_its_date_is_gone_before_the_job_runs(
    alice: Member, as_member: Login
) -> None:
    client = as_member(alice)
    job = built(client)
    ExportRequest.objects.filter(pk=job["id"]).update(expires_at=timezone.now())
    problem(client.get(f"/accounts/me/export/{job['id']}/download"), 410)


def test_one_export_at_a_time_and_three_a_day(alice: Member, as_member: Login) -> None:
    client = as_member(alice)
    first = client.post("/accounts/me/export").json()
    body = problem(client.post("/accounts/me/export"), 409)
    assert body["type"].endswith("export-in-progress")
    problem(client.get(f"/accounts/me/export/{first['id']}/download"), 409)  # not ready yet
    export.build_export(int(first["id"]))
    built(client)
    built(client)
    response = client.post("/accounts/me/export")
    problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert ExportRequest.objects.filter(member=alice).count() == 3


def test_a_failed_build_says_why_and_leaves_no_file(
    alice: Member, settings: Any, tmp_path: Any
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.MEDIA_ROOT = blocked  # storage cannot write under a file
    job = export.request_export(member=alice)
    export.build_export(job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and job.failure_reason
    assert job.file_name == "" and blocked.read_text() == ""


def test_a_cancelled_export_is_never_built(alice: Member) -> None:
    job = export.request_export(member=alice)
    assert export.cancel_pending(alice) == 1
    export.build_export(job.pk)  # finds nothing pending: builds nothing
    job.refresh_from_db()
    assert job.status == ExportStatus.CANCELLED and job.file_name == ""
    assert not default_storage.exists("exports") or not default_storage.listdir("exports")[1]
