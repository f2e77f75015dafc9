"""Deleting an account: confirmed with the password, cancelled by signing in again, and after
the grace period nothing of the member is left anywhere in the database or in storage."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.db.models import CASCADE, ForeignKey
from django.test import Client
from django.utils import timezone

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Follow, Member
from papercrane.engagement import services as engagement
from papercrane.engagement.models import Comment, Like
from papercrane.feed import services as feed_services
from papercrane.feed.models import Feedback, Profile, Snapshot
from papercrane.language import queries as language_queries
from papercrane.language.models import Translation
from papercrane.media import services as media_services
from papercrane.media.models import Media
from papercrane.moderation import services as moderation
from papercrane.moderation import targets
from papercrane.moderation.models import AuditEntry, Decision, Rule
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from papercrane.privacy import erasure, export
from papercrane.privacy.models import ExportRequest, ExportStatus, SignIn
from papercrane.search import services as search_services
from papercrane.search.models import SearchDocument, SearchTerm
from tests.helpers import PASSWORD, ApiClient, image_bytes, problem

Login = Callable[[Member], ApiClient]
MakeMember = Callable[..., Member]


def due(member: Member) -> None:
    Member.objects.filter(pk=member.pk).update(erase_after=timezone.now() - timedelta(minutes=1))


# --- Asking, and changing one's mind -------------------------------------------------------------


@pytest.mark.django_db
def test_a_wrong_password_deletes_nothing(alice: Member, as_member: Login) -> None:
    body = problem(as_member(alice).delete("/accounts/me", body={"password": "not it"}), 403)
    assert body["type"].endswith("wrong-password")
    alice.refresh_from_db()
    assert alice.erase_after is None


@pytest.mark.django_db
def test_deleting_schedules_the_erasure_and_keeps_the_member_signed_in(
    alice: Member, as_member: Login
) -> None:
    client = as_member(alice)
    response = client.delete("/accounts/me", body={"password": PASSWORD})
    assert response.status_code == 202, response.content
    alice.refresh_from_db()
    assert alice.erase_after is not None
    expected = timezone.now() + timedelta(days=settings.DELETION_GRACE_DAYS)
    assert abs((alice.erase_after - expected).total_seconds()) < 60
    assert response.json()["erase_after"].startswith(alice.erase_after.date().isoformat())
    assert client.get("/accounts/me").status_code == 200  # the GET of the same path still works
    assert erasure.erase_due(timezone.now()) == 0  # not yet


@pytest.mark.django_db
def test_deleting_during_an_export_cancels_it_and_removes_its_file(
    alice: Member, as_member: Login, django_capture_on_commit_callbacks: Any
) -> None:
    ready = export.request_export(member=alice)
    export.build_export(ready.pk)
    ready.refresh_from_db()
    assert default_storage.exists(ready.file_name)
    pending = export.request_export(member=alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_member(alice).delete("/accounts/me", body={"password": PASSWORD})
    assert response.status_code == 202
    assert not default_storage.exists(ready.file_name)
    statuses = set(ExportRequest.objects.filter(member=alice).values_list("status", flat=True))
    assert statuses == {ExportStatus.CANCELLED}
    export.build_export(pending.pk)  # the task that was queued finds nothing to build
    assert ExportRequest.objects.get(pk=pending.pk).file_name == ""


@pytest.mark.django_db
def test_signing_in_during_the_grace_period_cancels_the_deletion(
    alice: Member, as_member: Login
) -> None:
    erasure.request_deletion(member=alice, password=PASSWORD)
    # What the token endpoint and the web's sign-in form both call.
    assert account_services.authenticate(username="alice", password=PASSWORD, ip="192.0.2.1")
    alice.refresh_from_db()
    assert alice.erase_after is None
    assert erasure.erase_due(timezone.now() + timedelta(days=365)) == 0


@pytest.mark.django_db
def test_the_member_can_also_cancel_explicitly(alice: Member, as_member: Login) -> None:
    erasure.request_deletion(member=alice, password=PASSWORD)
    response = as_member(alice).post("/accounts/me/deletion/cancel")
    assert response.status_code == 200 and response.json() == {"erase_after": None}
    alice.refresh_from_db()
    assert alice.erase_after is None


@pytest.mark.django_db
def test_every_member_key_that_does_not_cascade_is_handled() -> None:
    loose = {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, ForeignKey)
        and field.related_model is Member
        and field.remote_field.on_delete is not CASCADE
    }
    assert loose == set(erasure.NOT_CASCADING)


# --- The erasure ---------------------------------------------------------------------------------


def photo(owner: Member, color: str) -> Media:
    media = media_services.upload(owner=owner, data=image_bytes(color=color), alt_text="harbour")
    media_services.process(media.pk)
    media.refresh_from_db()
    return media


TEXTS = {
    "title": "Sunset over Qingdao pier",
    "body": "Golden hour by the Zhanqiao pier #harbourlights",
    "draft": "Half written dumpling recipe",
    "thread": "Which ferry did you take across",
    "lonely": "Nobody will answer this remark",
    "reply": "Replying inside the thread of Carol",
    "board": "Weekend harbour wishlist",
    "report": "This looks like advertising spam",
    "appeal": "I only shared my holiday photos",
    "facts": "Advertising posted by Qiao Yu Tester",
    "bio": "Photographer living near the sea",
}


@pytest.fixture
def world(make_member: MakeMember, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """A member with something of everything, and others around them."""
    with django_capture_on_commit_callbacks(execute=True):
        return _world(make_member)


def _world(make_member: MakeMember) -> dict[str, Any]:
    qiao = make_member("qiaoyu_erased", display_name="Qiao Yu Tester", email="qiaoyu@example.org")
    account_services.update_profile(member=qiao, bio=TEXTS["bio"])
    avatar = SimpleUploadedFile("me.png", image_bytes(color="gold"), "image/png")
    account_services.set_avatar(member=qiao, upload=avatar)
    bob = make_member("bob_other")
    carol = make_member("carol_other")
    dave = make_member("dave_other")
    mod = account_services.grant_moderator(username=make_member("mod_other").username)

    photos = [photo(qiao, "tomato"), photo(qiao, "navy")]
    shared = photo(bob, "tomato")  # the same bytes as one of Qiao's: one stored file
    note = note_services.create_note(
        author=qiao,
        fields=note_services.NoteFields(
            title=TEXTS["title"],
            body=TEXTS["body"] + " @bob_other",
            media_ids=[str(media.pk) for media in photos],
        ),
    )
    draft = note_services.create_note(
        author=qiao, fields=note_services.NoteFields(title=TEXTS["draft"], draft=True)
    )
    bobs = note_services.create_note(
        author=bob,
        fields=note_services.NoteFields(
            title="Bob's ferry ride", body="Thanks @qiaoyu_erased for the tip",
            media_ids=[str(shared.pk)],
        ),
    )  # fmt: skip

    # Comments: a thread others answered, one no one did, a reply in someone else's thread.
    thread = engagement.add_comment(author=qiao, note=bobs, body=TEXTS["thread"])
    carols_reply = engagement.add_comment(
        author=carol, note=bobs, body="The morning one", parent=thread
    )
    engagement.add_comment(author=qiao, note=bobs, body="Thanks!", parent=thread)
    engagement.add_comment(author=qiao, note=bobs, body=TEXTS["lonely"])
    carols_thread = engagement.add_comment(author=carol, note=bobs, body="Lovely light")
    engagement.add_comment(author=qiao, note=bobs, body=TEXTS["reply"], parent=carols_thread)
    engagement.add_comment(author=bob, note=note, body="Gorgeous")

    engagement.like_note(member=qiao, note=bobs)
    engagement.like_note(member=bob, note=note)
    engagement.like_comment(member=qiao, comment=carols_thread)
    engagement.like_comment(member=carol, comment=thread)
    board = engagement.create_board(owner=qiao, name=TEXTS["board"])
    engagement.collect_note(member=qiao, note=bobs, board=board)
    engagement.collect_note(member=carol, note=note)
    account_services.follow(member=qiao, target=bob)
    account_services.follow(member=carol, target=qiao)
    account_services.block(member=qiao, target=dave)
    account_services.mute(member=qiao, target=carol)

    spam = Rule.objects.get(code="spam")
    bobs_target = targets.load("note", bobs.pk)
    assert bobs_target is not None
    moderation.file_report(reporter=qiao, target=bobs_target, rule=spam, details=TEXTS["report"])
    notes_target = targets.load("note", note.pk)
    assert notes_target is not None
    moderation.file_report(reporter=carol, target=notes_target, rule=spam, details="spam?")
    member_target = targets.load("member", qiao.pk)
    assert member_target is not None
    decision = moderation.decide(
        moderator=mod,
        target=member_target,
        request=moderation.DecisionRequest(
            action="suspend", rule=spam, explanation=TEXTS["facts"], suspension_days=1
        ),
    )
    moderation.appeal(member=qiao, decision=decision, text=TEXTS["appeal"])

    search_services.set_keeps_history(member=qiao, keep=True)
    search_services.record_search(member=qiao, visitor="member:q", query="zhanqiao ferries")
    feed_services.record_shown(member=qiao, note_ids=[bobs.pk])
    feed_services.record_shown(member=bob, note_ids=[note.pk])
    feed_services.give_feedback(member=dave, kind="author", target_id=qiao.pk)
    for indexed in (note, bobs):
        search_services.index_note(indexed.pk)
    feed_services.refresh_snapshots()
    feed_services.refresh_neighbours()
    for member in (qiao, bob, carol):
        feed_services.refresh_profile(member.pk)
    Translation.objects.create(
        source_hash=language_queries.text_hash(TEXTS["title"]),
        source_language="en",
        target_language="zh-Hans",
        provider="test",
        text="青岛栈桥的日落",
    )
    job = export.request_export(member=qiao)
    export.build_export(job.pk)

    web = Client()
    assert web.login(username="qiaoyu_erased", password=PASSWORD)
    SignIn.objects.create(
        member=qiao,
        session_key=web.session.session_key or "",
        ip_address="203.0.113.9",
        user_agent="QiaoPhone Safari",
        created_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    qiao.refresh_from_db()
    return {
        "qiao": qiao, "bob": bob, "carol": carol, "dave": dave, "mod": mod, "note": note,
        "draft": draft, "bobs": bobs, "thread": thread, "carols_reply": carols_reply,
        "carols_thread": carols_thread, "decision": decision, "shared": shared,
        "photos": photos, "export": ExportRequest.objects.get(pk=job.pk),
    }  # fmt: skip


def _text(value: Any) -> str:
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("utf-8", "ignore")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def scan_tables(needles: list[str]) -> list[str]:
    """Every table of the database, every column: where any needle occurs."""
    found = []
    lowered = [needle.lower() for needle in needles]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor, include_views=False):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _text(value).lower()
                    found += [f"{table}.{column}: {n!r}" for n in lowered if n in text]
    return found


def member_references(member_id: int) -> list[str]:
    """Rows still pointing at the member: every foreign key to a member, and the columns
    and JSON that name members without one."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, ForeignKey) and field.related_model is Member:
                rows = model._default_manager.filter(**{field.attname: member_id})
                if rows.exists() and model is not AuditEntry:  # the documented exception
                    found.append(f"{model._meta.label}.{field.name}")
    if Feedback.objects.filter(kind="author", target_id=member_id).exists():
        found.append("feed.Feedback.target_id")
    for model in (Decision, apps.get_model("moderation.Case")):
        if model._default_manager.filter(target_type="member", target_id=member_id).exists():
            found.append(f"{model._meta.label}.target_id")
    for profile in Profile.objects.all():
        if str(member_id) in profile.authors:
            found.append(f"feed.Profile.authors of {profile.member_id}")
    for snapshot in Snapshot.objects.all():
        if any(row.get("author") == member_id for row in snapshot.data.get("notes", [])):
            found.append(f"feed.Snapshot {snapshot.name}")
    return found


def stored_files() -> list[str]:
    root = settings.MEDIA_ROOT
    return [
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    ]


@pytest.mark.django_db
def test_after_erasure_nothing_of_the_member_is_left(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    qiao = world["qiao"]
    note_ids = [world["note"].pk, world["draft"].pk]
    hashes = set(Media.objects.filter(owner=qiao).values_list("sha256", flat=True))
    kept_hash = world["shared"].sha256
    names = [qiao.avatar.name, world["export"].file_name]
    assert all(default_storage.exists(name) for name in names)
    needles = [qiao.username, qiao.display_name, qiao.email, *TEXTS.values()]
    assert set(scan_tables(needles))  # the scan sees them before
    assert member_references(qiao.pk)
    audited = AuditEntry.objects.filter(actor_id=qiao.pk).count()

    due(qiao)
    with django_capture_on_commit_callbacks(execute=True):
        assert erasure.erase_due(timezone.now()) == 1

    leftovers = scan_tables(needles)
    assert leftovers == [], "\n".join(leftovers)
    assert member_references(qiao.pk) == []
    assert not Note.objects.filter(pk__in=note_ids).exists()
    assert not SearchDocument.objects.filter(note_id__in=note_ids).exists()
    assert not SearchTerm.objects.filter(term__contains="qiaoyu").exists()
    statistics = dict(SearchTerm.objects.values_list("term", "df"))
    search_services.reindex_all()  # the term statistics are exactly those of a rebuild
    assert statistics == pytest.approx(dict(SearchTerm.objects.values_list("term", "df")))
    files = stored_files()
    for name in names:
        assert name not in files
    gone = hashes - {kept_hash}
    assert gone and not [f for f in files if any(sha in f for sha in gone)]
    assert any(kept_hash in f for f in files)  # Bob's photo has the same bytes: it stays
    assert world["shared"].original in files
    # The audit log keeps ids of actors, no longer linked to anything (see privacy.erasure).
    assert AuditEntry.objects.filter(actor_id=qiao.pk).count() == audited

    # Others' threads still read, with an empty comment by the placeholder; counters exact.
    placeholder = Member.objects.get(username=erasure.PLACEHOLDER_USERNAME)
    thread = Comment.objects.get(pk=world["thread"].pk)
    assert thread.author == placeholder and thread.body == "" and thread.reply_count == 1
    assert Comment.objects.get(pk=world["carols_reply"].pk).parent_id == thread.pk
    carols_thread = Comment.objects.get(pk=world["carols_thread"].pk)
    assert carols_thread.reply_count == 0 and carols_thread.like_count == 0
    bobs = Note.objects.get(pk=world["bobs"].pk)
    assert bobs.like_count == Like.objects.filter(note=bobs).count() == 0
    assert bobs.comment_count == Comment.objects.filter(note=bobs).count() == 3
    assert bobs.collect_count == 0
    bob = Member.objects.get(pk=world["bob"].pk)
    carol = Member.objects.get(pk=world["carol"].pk)
    assert bob.follower_count == Follow.objects.filter(followee=bob).count() == 0
    assert carol.following_count == Follow.objects.filter(follower=carol).count() == 0
    # The statement of reasons stays for the DSA figures, about no one.
    decision = Decision.objects.get(pk=world["decision"].pk)
    assert decision.subject == placeholder and decision.decision_facts == ""
    assert decision.target_id == placeholder.pk
    assert placeholder.is_active is False and not placeholder.has_usable_password()

    with django_capture_on_commit_callbacks(execute=True):
        assert erasure.erase_due(timezone.now()) == 0  # a second run finds nothing to do


REFUSE_SQLITE = """CREATE TRIGGER refuse_member_delete BEFORE DELETE ON accounts_member
WHEN old.id = {id} BEGIN SELECT RAISE(ABORT, 'refused'); END"""
REFUSE_POSTGRES = (
    """CREATE FUNCTION refuse_member_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF old.id = {id} THEN RAISE EXCEPTION 'refused'; END IF; RETURN old; END $$""",
    """CREATE TRIGGER refuse_member_delete BEFORE DELETE ON accounts_member
    FOR EACH ROW EXECUTE FUNCTION refuse_member_delete()""",
)


@pytest.fixture
def member_row_undeletable(world: dict[str, Any]) -> Iterator[None]:
    """The database refuses to delete the member's row: the erasure's very last step fails."""
    member_id = world["qiao"].pk
    statements = [REFUSE_SQLITE] if connection.vendor == "sqlite" else list(REFUSE_POSTGRES)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.format(id=member_id))
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER refuse_member_delete"
            + ("" if connection.vendor == "sqlite" else " ON accounts_member")
        )


@pytest.mark.django_db
def test_a_failure_midway_rolls_everything_back(
    world: dict[str, Any], member_row_undeletable: None, django_capture_on_commit_callbacks: Any
) -> None:
    qiao = world["qiao"]
    needles = [qiao.username, *TEXTS.values()]
    before = sorted(scan_tables(needles))
    files = stored_files()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DatabaseError):
        erasure.erase_member(qiao.pk)
    assert sorted(scan_tables(needles)) == before
    assert stored_files() == files
    assert Comment.objects.get(pk=world["thread"].pk).author_id == qiao.pk
    assert Note.objects.get(pk=world["bobs"].pk).like_count == 1
    assert not Member.objects.filter(username=erasure.PLACEHOLDER_USERNAME).exists()
    due(qiao)
    with django_capture_on_commit_callbacks(execute=True):
        assert erasure.erase_due(timezone.now()) == 0  # logged, retried on the next run
    assert Member.objects.filter(pk=qiao.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_erasure_runs_at_once_erase_once(make_member: MakeMember) -> None:
    members = [make_member(f"racer_{n}") for n in range(3)]
    other = make_member("stays_here")
    for member in members:
        note = note_services.create_note(
            author=member, fields=note_services.NoteFields(title=f"Note of {member.username}")
        )
        engagement.like_note(member=other, note=note)
        engagement.add_comment(author=other, note=note, body="hello")
        due(member)
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            results.append(erasure.erase_due(timezone.now()))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(results) == len(members)
    assert not Member.objects.filter(pk__in=[m.pk for m in members]).exists()
    assert Member.objects.filter(pk=other.pk).exists()
    assert erasure.erase_due(timezone.now()) == 0


def test_the_placeholder_name_cannot_be_signed_up_for(db: None) -> None:
    with pytest.raises(ValidationError, match="username"):
        account_services.validate_username(erasure.PLACEHOLDER_USERNAME)
