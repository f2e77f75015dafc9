"""Reports, the queue, decisions, statements of reasons, appeals and the audit log, through
the API and the services, on the real database."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from PIL import Image
from skimage import data as photos

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.engagement import services as engagement_services
from papercrane.media import services as media_services
from papercrane.moderation import hashing, queries, screening, services, standing, targets
from papercrane.moderation.models import (
    AuditEntry,
    BannedImage,
    Case,
    Decision,
    KeywordPattern,
    Report,
    Rule,
)
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from papercrane.search import services as search_services
from papercrane.search.models import SearchDocument
from tests.helpers import ApiClient, error_fields, problem

MakeMember = Callable[..., Member]
Login = Callable[[Member], ApiClient]


@pytest.fixture
def english_note(alice: Member) -> Note:
    return note_services.create_note(
        author=alice,
        fields=note_services.NoteFields(
            title="Cheap followers here", body="Buy 1000 followers for $5 at my shop"
        ),
    )


@pytest.fixture
def moderators(make_member: MakeMember) -> tuple[Member, Member]:
    make_member("mod_mei", language="zh-Hans")
    make_member("mod_max")
    return (
        account_services.grant_moderator(username="mod_mei"),
        account_services.grant_moderator(username="mod_max"),
    )


@pytest.fixture
def spam() -> Rule:
    return Rule.objects.get(code="spam")


def report(
    client: ApiClient, target_type: str, target_id: Any, reason: str = "spam", **more: Any
) -> Any:
    body = {"target_type": target_type, "target_id": str(target_id), "reason": reason, **more}
    return client.post("/reports", body)


def decide(
    client: ApiClient, target_type: str, target_id: Any, action: str, rule: Rule, **more: Any
) -> Any:
    body = {
        "target_type": target_type,
        "target_id": str(target_id),
        "action": action,
        "rule_id": str(rule.pk),
        "explanation": more.pop("explanation", "Mass advertising of bought followers."),
        **more,
    }
    return client.post("/moderation/decisions", body)


def visible_to(viewer: Member | None, note: Note) -> bool:
    from papercrane.notes import queries as note_queries

    return note_queries.visible_note(viewer, note.pk) is not None


@pytest.mark.django_db
def test_a_chinese_report_on_an_english_note_flows_to_reversal(
    alice: Member,
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mei, max_ = moderators
    filed = report(as_member(bob), "note", english_note.pk, details="这是卖粉丝的广告，请处理")
    assert filed.status_code == 201, filed.content
    assert filed.json()["status"] == "pending" and filed.json()["merged"] is False

    queue = as_member(mei).get("/moderation/reports").json()["items"]
    assert [item["target_id"] for item in queue] == [str(english_note.pk)]
    case_id = queue[0]["id"]
    detail = as_member(mei).get(f"/moderation/cases/{case_id}").json()
    assert detail["reports"][0]["language"] == "zh-Hans"
    assert "Cheap followers" in detail["text"] and detail["reasons"] == ["spam"]

    with django_capture_on_commit_callbacks(execute=True):
        made = decide(as_member(mei), "note", english_note.pk, "remove", spam)
    assert made.status_code == 201, made.content
    assert made.json()["statement"]["decision_visibility"] == [
        "DECISION_VISIBILITY_CONTENT_REMOVED"
    ]
    assert not visible_to(bob, english_note) and not visible_to(None, english_note)
    assert visible_to(alice, english_note)  # the author still sees it, and why
    assert Report.objects.get().outcome == "actioned"
    assert as_member(bob).get("/accounts/me/reports").json()["items"][0]["status"] == "actioned"

    # Alice reads the statement of reasons in her language (English), then appeals.
    statements = as_member(alice).get("/accounts/me/decisions").json()["items"]
    assert len(statements) == 1
    statement = statements[0]
    assert statement["rule"]["title"] == "No spam or fake engagement"
    assert statement["action"] == "remove" and statement["can_appeal"] is True
    assert statement["explanation"] == "Mass advertising of bought followers."
    appealed = as_member(alice).post(
        f"/decisions/{statement['id']}/appeal", {"text": "These are my own shop's ads."}
    )
    assert appealed.status_code == 201, appealed.content

    # Mei made the decision: she may not decide the appeal; Max may.
    appeal_id = as_member(max_).get("/moderation/appeals").json()["items"][0]["id"]
    own = as_member(mei).post(
        f"/moderation/appeals/{appeal_id}/decision",
        {"outcome": "reverse", "explanation": "Changing my own mind."},
    )
    problem(own, 403)
    with django_capture_on_commit_callbacks(execute=True):
        reversed_ = as_member(max_).post(
            f"/moderation/appeals/{appeal_id}/decision",
            {"outcome": "reverse", "explanation": "Selling one's own goods is allowed here."},
        )
    assert reversed_.status_code == 200, reversed_.content
    assert reversed_.json()["status"] == "reversed"
    assert visible_to(bob, english_note)
    assert as_member(alice).get("/accounts/me/decisions").json()["items"][0]["reversed"]

    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["report.filed", "decision.remove", "appeal.filed", "appeal.reversed"]
    log = as_member(max_).get("/moderation/audit-log").json()["items"]
    assert (log[-1]["action"], log[-1]["actor"]) == ("report.filed", "bob")  # oldest last
    removal = next(entry for entry in log if entry["action"] == "decision.remove")
    assert removal["actor"] == "mod_mei" and removal["after"]["state"] == "removed"

    notified = set(Member.objects.get(pk=alice.pk).notifications.values_list("verb", flat=True))
    assert notified == {"decision", "appeal_decided"}
    assert bob.notifications.filter(verb="report_outcome").exists()


@pytest.mark.django_db
def test_a_chinese_member_reads_the_statement_in_chinese(
    bob: Member, alice: Member, moderators: tuple[Member, Member], as_member: Login, spam: Rule
) -> None:
    note = note_services.create_note(
        author=bob, fields=note_services.NoteFields(title="加微信买粉", body="便宜涨粉，加我")
    )
    report(as_member(alice), "note", note.pk, details="Selling followers")
    decide(as_member(moderators[1]), "note", note.pk, "limit", spam)
    statement = (
        as_member(bob)
        .get("/accounts/me/decisions", HTTP_ACCEPT_LANGUAGE="zh-Hans")
        .json()["items"][0]
    )
    assert statement["rule"]["title"] == "禁止垃圾信息和虚假互动"
    assert statement["action_label"] == "不在发现页和搜索中展示"


@pytest.mark.django_db
def test_reports_of_one_item_merge_into_one_case(
    english_note: Note, make_member: MakeMember, as_member: Login, bob: Member
) -> None:
    for name in ("carol", "dave"):
        assert report(as_member(make_member(name)), "note", english_note.pk).status_code == 201
    again = report(as_member(bob), "note", english_note.pk)
    repeated = report(as_member(bob), "note", english_note.pk, reason="scams", details="fraud")
    assert again.json()["merged"] is False and repeated.json()["merged"] is True
    case = Case.objects.get()
    assert case.report_count == 3 and case.severity == 3  # the scams rule is more severe
    assert Report.objects.get(reporter=bob).rule.code == "scams"


@pytest.mark.django_db
def test_bad_reports_are_refused_clearly(
    alice: Member, bob: Member, english_note: Note, as_member: Login
) -> None:
    bobs = as_member(bob)
    problem(report(bobs, "note", 999999), 404)
    problem(report(bobs, "note", "not-an-id"), 404)
    assert "target_type" in error_fields(problem(report(bobs, "story", english_note.pk), 422))
    assert "reason" in error_fields(problem(report(bobs, "note", english_note.pk, "nope"), 422))
    too_long = report(bobs, "note", english_note.pk, details="x" * 1001)
    assert "details" in error_fields(problem(too_long, 422))
    own = report(as_member(alice), "note", english_note.pk)
    assert "target_id" in error_fields(problem(own, 422))
    problem(ApiClient().post("/reports", {"target_type": "note"}), 401)


@pytest.mark.django_db
def test_a_report_flood_is_rate_limited(
    make_member: MakeMember, as_member: Login, bob: Member, alice: Member
) -> None:
    Member.objects.filter(pk=alice.pk).update(date_joined=timezone.now() - dt.timedelta(days=30))
    alice.refresh_from_db()  # an established member: not under the new-account throttle
    notes = [
        note_services.create_note(author=alice, fields=note_services.NoteFields(title=f"n{i}"))
        for i in range(services.REPORTS_PER_MEMBER.limit + 1)
    ]
    bobs = as_member(bob)
    for note in notes[:-1]:
        assert report(bobs, "note", note.pk).status_code == 201
    limited = report(bobs, "note", notes[-1].pk)
    problem(limited, 429)
    assert int(limited["Retry-After"]) > 0
    assert Case.objects.count() == services.REPORTS_PER_MEMBER.limit


@pytest.mark.django_db
def test_removed_content_cannot_be_reported_or_removed_again(
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
) -> None:
    assert (
        decide(as_member(moderators[0]), "note", english_note.pk, "remove", spam).status_code == 201
    )
    problem(report(as_member(bob), "note", english_note.pk), 404)
    problem(decide(as_member(moderators[1]), "note", english_note.pk, "remove", spam), 409)


@pytest.mark.django_db
def test_only_moderators_reach_moderator_endpoints(
    bob: Member, english_note: Note, as_member: Login, spam: Rule
) -> None:
    bobs = as_member(bob)
    for path in (
        "/moderation/reports",
        "/moderation/audit-log",
        "/moderation/appeals",
        "/moderation/statements?period=2026-Q4",
    ):
        problem(bobs.get(path), 403)
    problem(decide(bobs, "note", english_note.pk, "remove", spam), 403)
    assert visible_to(None, english_note)
    problem(ApiClient().get("/moderation/reports"), 401)


@pytest.mark.django_db
def test_decisions_need_a_fitting_action_a_rule_and_an_explanation(
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
) -> None:
    mods = as_member(moderators[0])
    short = decide(mods, "note", english_note.pk, "remove", spam, explanation="no")
    assert "explanation" in error_fields(problem(short, 422))
    limited_member = decide(mods, "member", bob.pk, "limit", spam)
    assert "action" in error_fields(problem(limited_member, 422))
    no_rule = mods.post(
        "/moderation/decisions",
        {
            "target_type": "note",
            "target_id": str(english_note.pk),
            "action": "remove",
            "rule_id": "424242",
            "explanation": "Selling followers.",
        },
    )
    assert "rule_id" in error_fields(problem(no_rule, 422))
    days = decide(mods, "member", bob.pk, "suspend", spam, suspension_days=0)
    assert "suspension_days" in error_fields(problem(days, 422))
    problem(decide(mods, "note", english_note.pk, "dismiss", spam), 409)  # nothing to dismiss
    assert Decision.objects.count() == 0 and visible_to(bob, english_note)


@pytest.mark.django_db
def test_a_removed_comment_leaves_the_count_and_a_reversal_brings_it_back(
    alice: Member,
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
) -> None:
    comment = engagement_services.add_comment(author=bob, note=english_note, body="spam spam spam")
    assert Note.objects.get(pk=english_note.pk).comment_count == 1
    decide(as_member(moderators[0]), "comment", comment.pk, "remove", spam)
    assert Note.objects.get(pk=english_note.pk).comment_count == 0
    listed = as_member(alice).get(f"/notes/{english_note.pk}/comments").json()["items"]
    assert listed == []
    own = as_member(bob).get(f"/notes/{english_note.pk}/comments").json()["items"]
    assert [item["id"] for item in own] == [str(comment.pk)]  # the author still sees it
    decision = Decision.objects.get()
    made = services.appeal(member=bob, decision=decision, text="It was a joke about the title.")
    services.decide_appeal(
        moderator=moderators[1], appeal=made, reverse=True, explanation="A joke, not spam."
    )
    assert Note.objects.get(pk=english_note.pk).comment_count == 1
    assert as_member(alice).get(f"/notes/{english_note.pk}/comments").json()["items"]


@pytest.mark.django_db
def test_a_suspended_member_reads_and_appeals_but_does_not_post(
    alice: Member,
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
) -> None:
    made = decide(as_member(moderators[0]), "member", alice.pk, "suspend", spam, suspension_days=7)
    assert made.status_code == 201, made.content
    assert made.json()["statement"]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    alices = as_member(alice)
    refused = alices.post("/notes", {"title": "Still here", "body": "", "media_ids": []})
    assert problem(refused, 403)["type"].endswith("account-suspended")
    assert alices.get("/accounts/me").status_code == 200
    assert alices.post("/accounts/me/export").status_code == 202  # their data stays theirs
    assert not visible_to(bob, english_note) and visible_to(alice, english_note)
    decision_id = alices.get("/accounts/me/decisions").json()["items"][0]["id"]
    appealed = alices.post(f"/decisions/{decision_id}/appeal", {"text": "I was hacked."})
    assert appealed.status_code == 201, appealed.content
    services.decide_appeal(
        moderator=moderators[1],
        appeal=queries.pending_appeals().get(),
        reverse=True,
        explanation="The account was taken over; it is back with its owner.",
    )
    assert not standing.is_suspended(Member.objects.get(pk=alice.pk))
    assert visible_to(bob, english_note)


@pytest.mark.django_db
def test_appeals_are_for_the_affected_member_once_within_the_window(
    alice: Member,
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
) -> None:
    decide(as_member(moderators[0]), "note", english_note.pk, "label", spam)
    decision = Decision.objects.get()
    problem(as_member(bob).post(f"/decisions/{decision.pk}/appeal", {"text": "x"}), 404)
    alices = as_member(alice)
    assert alices.post(f"/decisions/{decision.pk}/appeal", {"text": "ok"}).status_code == 201
    problem(alices.post(f"/decisions/{decision.pk}/appeal", {"text": "again"}), 409)
    empty = alices.post(f"/decisions/{decision.pk}/appeal", {"text": "   "})
    assert empty.status_code in {409, 422}
    Decision.objects.filter(pk=decision.pk).update(
        created_at=decision.created_at - services.APPEAL_WINDOW * 2
    )
    decision.refresh_from_db()
    assert not queries.can_appeal(decision)


@pytest.mark.django_db
def test_a_keyword_match_hides_a_note_pending_review_and_says_automation_did_it(
    alice: Member, bob: Member, moderators: tuple[Member, Member], as_member: Login, spam: Rule
) -> None:
    KeywordPattern.objects.create(rule=spam, pattern="代开發票", language="zh", hides=True)
    screening.lists_changed()
    note = note_services.create_note(
        author=alice, fields=note_services.NoteFields(title="代开发票 加我", body="")
    )
    search_services.index_note(note.pk)
    screening.screen_note(note.pk)
    case = Case.objects.get()
    assert case.held and case.flag_count >= 1
    assert not visible_to(bob, note) and visible_to(alice, note)
    hold = Decision.objects.get()
    assert hold.moderator is None and hold.automated_decision == "AUTOMATED_DECISION_FULLY"
    assert hold.decision_visibility == "DECISION_VISIBILITY_CONTENT_DISABLED"
    assert as_member(alice).get("/accounts/me/decisions").json()["items"][0]["action"] == "hold"
    flags = as_member(moderators[0]).get(f"/moderation/cases/{case.pk}").json()["flags"]
    assert flags[0]["source"] == "keyword"
    # A moderator finds no breach: dismissing restores it.
    assert decide(as_member(moderators[0]), "note", note.pk, "dismiss", spam).status_code == 201
    assert visible_to(bob, note)


@pytest.mark.django_db
def test_a_friendly_note_raises_no_flag(alice: Member) -> None:
    note = note_services.create_note(
        author=alice, fields=note_services.NoteFields(title="周末去 Shanghai citywalk", body="")
    )
    screening.screen_note(note.pk)
    assert not Case.objects.exists()


def media_services_url(media_id: int) -> str:
    from papercrane.media.models import Media
    from papercrane.notes.templatetags.notes_tags import media_url

    return media_url(Media.objects.get(pk=media_id), 360)


def _photo_bytes(pixels: np.ndarray, fmt: str = "PNG", **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_mirrored_copy_of_a_banned_photo_is_held(alice: Member, bob: Member, spam: Rule) -> None:
    original = photos.astronaut()
    BannedImage.objects.create(
        rule=spam,
        label="test photo",
        hashes=hashing.banned_image_hashes(_photo_bytes(original)),
        added_at=timezone.now(),
    )
    screening.lists_changed()
    mirrored = _photo_bytes(np.ascontiguousarray(original[:, ::-1]), "JPEG", quality=60)
    media = media_services.upload(owner=alice, data=mirrored)
    media_services.process(media.pk)
    note = note_services.create_note(
        author=alice, fields=note_services.NoteFields(title="Space", media_ids=[str(media.pk)])
    )
    screening.screen_note(note.pk)
    flag = Case.objects.get().flags.get()
    assert flag.source == "image_hash" and flag.high_confidence
    assert not visible_to(bob, note)
    # The moderator sees the hidden photo on the case page.
    moderator = account_services.grant_moderator(username=bob.username)
    browser = Client()
    browser.force_login(moderator)
    page = browser.get(f"/moderation/cases/{Case.objects.get().pk}").content.decode()
    assert 'class="case-photos"' in page and media_services_url(media.pk) in page


@pytest.mark.django_db
def test_a_limited_note_leaves_search_and_explore_but_keeps_its_link(
    alice: Member,
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
) -> None:
    search_services.index_note(english_note.pk)
    assert SearchDocument.objects.filter(note_id=english_note.pk).exists()
    decide(as_member(moderators[0]), "note", english_note.pk, "limit", spam)
    search_services.index_note(english_note.pk)  # the task the decision enqueued
    assert not SearchDocument.objects.filter(note_id=english_note.pk).exists()
    assert visible_to(bob, english_note)
    explore = as_member(bob).get("/feeds/explore").json()["items"]
    assert str(english_note.pk) not in {card["id"] for card in explore}


@pytest.mark.django_db
def test_the_audit_log_cannot_be_changed(alice: Member, english_note: Note, bob: Member) -> None:
    target = targets.load("note", english_note.pk)
    assert target is not None
    services.file_report(reporter=bob, target=target, rule=Rule.objects.get(code="spam"))
    entry = AuditEntry.objects.get()
    for change in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(action="x"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert AuditEntry.objects.get().action == "report.filed"


@pytest.mark.django_db
def test_transparency_report_and_dsa_export_carry_no_personal_data(
    alice: Member,
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
) -> None:
    report(as_member(bob), "note", english_note.pk)
    decide(
        as_member(moderators[0]),
        "note",
        english_note.pk,
        "remove",
        spam,
        explanation="alice (@alice) sells followers, see https://shop.example/alice",
    )
    period = queries.period_of(english_note.created_at)
    out = io.StringIO()
    call_command("transparency_report", "--period", period, stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["decisions"]["by_action"] == {"remove": 1}
    assert figures["reports"]["total"] == 1
    assert figures["decisions"]["by_source"] == {"SOURCE_ARTICLE_16": 1}
    assert figures["median_hours_to_decision"] is not None
    out = io.StringIO()
    call_command("transparency_report", "--period", period, "--statements", stdout=out)
    exported = out.getvalue()
    statement = json.loads(exported)["statements"][0]
    assert statement["category"] == "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"
    assert statement["automated_detection"] == "No"
    for personal in ("alice", "Alice", "bob", "mod_mei", "shop.example", "Cheap followers"):
        assert personal not in exported
    public = ApiClient().get(f"/transparency?period={period}")
    assert public.status_code == 200 and public.json()["decisions"]["total"] == 1
    problem(ApiClient().get("/transparency?period=2026-Q5"), 422)


@pytest.mark.django_db
def test_new_accounts_post_under_tighter_limits(
    alice: Member, bob: Member, as_member: Login, settings: Any
) -> None:
    settings.RATELIMIT_ENABLED = True
    Member.objects.filter(pk=alice.pk).update(date_joined=timezone.now() - dt.timedelta(days=30))
    newcomer, established = as_member(bob), as_member(alice)
    for number in range(note_services.NOTES_PER_NEW_MEMBER.limit):
        body = {"title": f"hello {number}", "body": "", "media_ids": []}
        assert newcomer.post("/notes", body).status_code == 201
        assert established.post("/notes", body).status_code == 201
    problem(newcomer.post("/notes", {"title": "one more", "body": "", "media_ids": []}), 429)
    assert established.post("/notes", {"title": "one more", "body": ""}).status_code == 201


@pytest.mark.django_db
def test_a_limited_note_is_not_found_by_meaning_either(
    bob: Member,
    moderators: tuple[Member, Member],
    english_note: Note,
    as_member: Login,
    spam: Rule,
    semantic_search: None,
) -> None:
    from papercrane.search import queries as search_queries

    search_services.index_note(english_note.pk)
    search_services.embed_note(english_note.pk)
    wanted = search_queries.NoteSearch(text="buying followers cheaply")
    found, _more = search_queries.search_notes(bob, wanted)
    assert english_note.pk in {note.pk for note in found}
    decide(as_member(moderators[0]), "note", english_note.pk, "limit", spam)
    search_services.index_note(english_note.pk)
    found, _more = search_queries.search_notes(bob, wanted)
    assert english_note.pk not in {note.pk for note in found}  # its vector is still there


@pytest.mark.django_db
def test_a_spam_wave_is_decided_in_bulk_each_with_its_statement(
    alice: Member,
    bob: Member,
    moderators: tuple[Member, Member],
    as_member: Login,
    spam: Rule,
) -> None:
    notes = [
        note_services.create_note(author=alice, fields=note_services.NoteFields(title=f"ad {i}"))
        for i in range(3)
    ]
    for note in notes:
        report(as_member(bob), "note", note.pk)
    case_ids = [str(pk) for pk in Case.objects.order_by("pk").values_list("pk", flat=True)]
    body = {
        "case_ids": case_ids,
        "action": "remove",
        "rule_id": str(spam.pk),
        "explanation": "The same advertisement posted again and again.",
    }
    problem(as_member(bob).post("/moderation/decisions/bulk", body), 403)
    decided = as_member(moderators[0]).post("/moderation/decisions/bulk", body)
    assert decided.status_code == 200, decided.content
    assert len(decided.json()["decided"]) == 3
    assert Decision.objects.filter(action="remove").count() == 3
    assert not any(visible_to(bob, note) for note in notes)
    again = as_member(moderators[0]).post("/moderation/decisions/bulk", body)
    assert again.json()["decided"] == []  # closed cases are skipped
    empty = as_member(moderators[0]).post("/moderation/decisions/bulk", {**body, "case_ids": []})
    assert "case_ids" in error_fields(problem(empty, 422))


@pytest.mark.django_db
def test_unknown_cases_and_appeals_are_not_found(
    bob: Member, moderators: tuple[Member, Member], as_member: Login
) -> None:
    mods = as_member(moderators[0])
    problem(mods.get("/moderation/cases/424242"), 404)
    problem(mods.get("/moderation/cases/not-a-case"), 404)
    problem(as_member(bob).get("/moderation/cases/1"), 403)
    outcome = {"outcome": "reverse", "explanation": "There is no such appeal here."}
    problem(mods.post("/moderation/appeals/424242/decision", outcome), 404)
    problem(as_member(bob).post("/decisions/424242/appeal", {"text": "why"}), 404)
