"""Trust and safety in the browser: reporting, statements of reasons and appeals, the
moderators' queue, cases and appeals, the suspended page and the transparency report."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from papercrane.accounts.models import Member
from papercrane.moderation import services, targets
from papercrane.moderation.models import (
    Appeal,
    AppealStatus,
    Case,
    Category,
    Decision,
    Report,
    ReportOutcome,
    Rule,
)
from papercrane.notes import services as note_services
from papercrane.notes.models import Note

pytestmark = pytest.mark.django_db

EXPLANATION = "Repeated advertising links to an unrelated shop."


@pytest.fixture
def spam_rule() -> Rule:
    return Rule.objects.create(
        code="shop-spam",
        title_en="No spam",
        title_zh="禁止垃圾广告",
        body_en="Do not post advertising or repeated links.",
        body_zh="不要发布广告或重复的链接。",
        category=Category.SCAMS,
        severity=2,
    )


@pytest.fixture
def sensitive_rule() -> Rule:
    return Rule.objects.create(
        code="graphic-injury",
        title_en="Graphic content",
        title_zh="血腥画面",
        body_en="Warn people before showing injuries.",
        body_zh="展示伤口之前请先提醒大家。",
        category=Category.VIOLENCE,
        severity=1,
        position=1,
    )


@pytest.fixture
def carol(make_member: Callable[..., Member]) -> Member:
    return make_member("carol", display_name="Carol")


@pytest.fixture
def moderator(make_member: Callable[..., Member]) -> Member:
    member = make_member("mod_one", display_name="Moderator One")
    Member.objects.filter(pk=member.pk).update(is_moderator=True)
    member.refresh_from_db()
    return member


@pytest.fixture
def other_moderator(make_member: Callable[..., Member]) -> Member:
    member = make_member("mod_two", display_name="Moderator Two")
    Member.objects.filter(pk=member.pk).update(is_moderator=True)
    member.refresh_from_db()
    return member


@pytest.fixture
def bobs_note(bob: Member) -> Note:
    return note_services.create_note(
        author=bob,
        fields=note_services.NoteFields(title="限时特价", body="Buy now at my shop!!!"),
    )


def browser(member: Member | None = None) -> Client:
    client = Client()
    if member is not None:
        client.force_login(member)
    return client


def page(response: Any) -> str:
    return str(response.content.decode())


def file_report(reporter: Member, note: Note, rule: Rule) -> Case:
    target = targets.load("note", note.pk)
    assert target is not None
    services.file_report(reporter=reporter, target=target, rule=rule, details="")
    return Case.objects.get(target_type="note", target_id=note.pk)


def decide(moderator: Member, note: Note, rule: Rule, action: str, **extra: Any) -> Decision:
    target = targets.load("note", note.pk)
    assert target is not None
    request = services.DecisionRequest(
        action=action, rule=rule, explanation=EXPLANATION, suspension_days=extra.get("days")
    )
    return services.decide(moderator=moderator, target=target, request=request)


def test_member_reports_a_note_and_sees_it_in_my_reports(
    carol: Member, bobs_note: Note, spam_rule: Rule, sensitive_rule: Rule
) -> None:
    client = browser(carol)
    form = client.get(f"/report/note/{bobs_note.pk}")
    assert form.status_code == 200
    assert "No spam" in page(form) and "Do not post advertising" in page(form)
    assert 'name="csrfmiddlewaretoken"' in page(form)

    sent = client.post(f"/report/note/{bobs_note.pk}", {"reason": "shop-spam", "details": "shop"})
    assert sent.status_code == 200
    assert "The moderators will review it" in page(sent) and "My reports" in page(sent)
    assert "already reported" not in page(sent)
    report = Report.objects.get(reporter=carol)
    assert report.rule == spam_rule and report.details == "shop"

    again = client.post(f"/report/note/{bobs_note.pk}", {"reason": "graphic-injury"})
    assert "You had already reported this" in page(again)
    assert Report.objects.filter(reporter=carol).count() == 1

    mine = client.get("/me/reports")
    assert mine.status_code == 200
    assert "限时特价" in page(mine) and "Graphic content" in page(mine)
    assert "Under review" in page(mine)


def test_report_form_refuses_bad_input_and_missing_items(
    carol: Member, bob: Member, bobs_note: Note, spam_rule: Rule
) -> None:
    client = browser(carol)
    missing_rule = client.post(f"/report/note/{bobs_note.pk}", {"reason": "", "details": "x"})
    assert missing_rule.status_code == 422
    assert "Choose one of the community rules." in page(missing_rule)
    too_long = client.post(
        f"/report/note/{bobs_note.pk}", {"reason": "shop-spam", "details": "x" * 1001}
    )
    assert too_long.status_code == 422 and "at most 1000 characters" in page(too_long)
    assert not Report.objects.exists()

    assert client.get("/report/note/999999").status_code == 404
    assert client.get(f"/report/planet/{bobs_note.pk}").status_code == 404
    own = browser(bob).post(f"/report/note/{bobs_note.pk}", {"reason": "shop-spam"})
    assert own.status_code == 422
    anonymous = browser().get(f"/report/note/{bobs_note.pk}")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_only_moderators_see_the_moderation_pages(carol: Member, moderator: Member) -> None:
    for path in ("/moderation/", "/moderation/appeals", "/moderation/audit"):
        refused = browser(carol).get(path)
        assert refused.status_code == 403, path
        assert "Only moderators can see this page." in page(refused)
    assert browser(moderator).get("/moderation/").status_code == 200
    assert 'href="/moderation/"' in page(browser(moderator).get("/rules"))
    assert 'href="/moderation/"' not in page(browser(carol).get("/rules"))


def test_decision_statement_appeal_and_reversal(
    carol: Member,
    bob: Member,
    bobs_note: Note,
    spam_rule: Rule,
    moderator: Member,
    other_moderator: Member,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = file_report(carol, bobs_note, spam_rule)
    mod = browser(moderator)
    queue = mod.get("/moderation/")
    assert f"/moderation/cases/{case.pk}" in page(queue) and "shop-spam" in page(queue)

    context = mod.get(f"/moderation/cases/{case.pk}")
    assert context.status_code == 200
    assert "Buy now at my shop!!!" in page(context)
    assert 'value="limit"' in page(context) and 'value="hold"' not in page(context)
    short = mod.post(
        f"/moderation/cases/{case.pk}",
        {"action": "remove", "rule_id": spam_rule.pk, "explanation": "no"},
    )
    assert short.status_code == 422 and "Explain the decision in 10 to 2000 characters." in page(
        short
    )

    with django_capture_on_commit_callbacks(execute=True):
        decided = mod.post(
            f"/moderation/cases/{case.pk}",
            {"action": "remove", "rule_id": spam_rule.pk, "explanation": EXPLANATION},
        )
    assert decided.status_code == 302
    decision = Decision.objects.get(action="remove")
    bobs_note.refresh_from_db()
    assert bobs_note.moderation_state == "removed"
    assert browser(carol).get(f"/notes/{bobs_note.pk}").status_code == 404
    assert "Action taken" in page(browser(carol).get("/me/reports"))

    author = browser(bob)  # bob reads in Chinese
    statement = author.get("/me/decisions")
    text = page(statement)
    assert statement.status_code == 200
    assert f'id="decision-{decision.pk}"' in text
    assert "禁止垃圾广告" in text and "不要发布广告或重复的链接。" in text
    assert "移除" in text and "Remove" not in text
    assert EXPLANATION in text
    assert f'action="/decisions/{decision.pk}/appeal"' in text
    own_note = author.get(f"/notes/{bobs_note.pk}")
    assert own_note.status_code == 200 and "/me/decisions" in page(own_note)
    notifications = page(author.get("/notifications"))
    assert f"/me/decisions#decision-{decision.pk}" in notifications

    empty = author.post(f"/decisions/{decision.pk}/appeal", {"text": "  "})
    assert empty.status_code == 422
    appealed = author.post(
        f"/decisions/{decision.pk}/appeal", {"text": "这是我自己的店，不是垃圾广告。"}
    )
    assert appealed.status_code == 302 and appealed["Location"].endswith(f"#decision-{decision.pk}")
    appeal = Appeal.objects.get(decision=decision)
    assert "这是我自己的店" in page(author.get("/me/decisions"))

    # The moderator who decided may not decide the appeal.
    own = mod.get("/moderation/appeals")
    assert "another moderator must decide it" in page(own)
    assert f'action="/moderation/appeals/{appeal.pk}/decision"' not in page(own)
    refused = mod.post(
        f"/moderation/appeals/{appeal.pk}/decision",
        {"outcome": "reverse", "explanation": "I changed my mind."},
        follow=True,
    )
    assert "Another moderator must decide this appeal" in page(refused)
    assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.PENDING

    other = browser(other_moderator)
    assert f'action="/moderation/appeals/{appeal.pk}/decision"' in page(
        other.get("/moderation/appeals")
    )
    reversed_ = other.post(
        f"/moderation/appeals/{appeal.pk}/decision",
        {"outcome": "reverse", "explanation": "The shop belongs to the author, which is allowed."},
    )
    assert reversed_.status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).status == AppealStatus.REVERSED
    assert browser(carol).get(f"/notes/{bobs_note.pk}").status_code == 200
    assert browser().get(f"/notes/{bobs_note.pk}").status_code == 200
    assert "The shop belongs to the author, which is allowed." in page(author.get("/me/decisions"))

    audit = page(mod.get("/moderation/audit"))
    assert "appeal.reversed" in audit and "decision.remove" in audit
    assert Report.objects.get().outcome == ReportOutcome.ACTIONED


def test_bulk_decision_from_the_queue(
    carol: Member, bobs_note: Note, spam_rule: Rule, moderator: Member
) -> None:
    case = file_report(carol, bobs_note, spam_rule)
    mod = browser(moderator)
    missing = mod.post(
        "/moderation/",
        {"case_ids": [case.pk], "action": "label", "rule_id": "", "explanation": EXPLANATION},
    )
    assert missing.status_code == 422 and "Choose one of the community rules." in page(missing)
    done = mod.post(
        "/moderation/",
        {
            "case_ids": [case.pk],
            "action": "label",
            "rule_id": spam_rule.pk,
            "explanation": EXPLANATION,
        },
        follow=True,
    )
    assert "1 case decided." in page(done)
    assert Note.objects.get(pk=bobs_note.pk).moderation_state == "labelled"


def test_rule_text_is_escaped(carol: Member, bobs_note: Note) -> None:
    Rule.objects.create(
        code="xss",
        title_en="<script>alert('title')</script>",
        title_zh="<script>alert('标题')</script>",
        body_en="<script>alert('body')</script>",
        body_zh="<script>alert('正文')</script>",
        category=Category.SCOPE,
    )
    for path in ("/rules", f"/report/note/{bobs_note.pk}", "/signup"):
        client = browser(carol) if path.startswith("/report") else browser()
        text = page(client.get(path))
        assert "<script>alert(" not in text, path
        assert "&lt;script&gt;alert(" in text, path


def test_suspended_member_gets_the_suspended_page(
    bob: Member, carol: Member, spam_rule: Rule, moderator: Member, bobs_note: Note
) -> None:
    decide(moderator, bobs_note, spam_rule, "suspend", days=3)
    carols_note = note_services.create_note(
        author=carol, fields=note_services.NoteFields(title="Picnic", body="Sunny day")
    )
    author = browser(bob)
    refused = author.post(f"/notes/{carols_note.pk}/comments", {"body": "hello"})
    assert refused.status_code == 403
    assert "/me/decisions" in page(refused)
    assert "永久" not in page(refused)
    assert re.search(r"账号已被暂停", page(refused))
    assert not carols_note.comments.exists()

    Member.objects.filter(pk=bob.pk).update(suspended_until=targets.PERMANENT)
    forever = author.post(f"/notes/{carols_note.pk}/comments", {"body": "hello"})
    assert forever.status_code == 403 and "永久" in page(forever)
    decisions = page(author.get("/me/decisions"))
    assert "暂停账号" in decisions
    own_profile = page(author.get("/@bob"))
    assert "你的账号已被永久暂停。" in own_profile and "/me/decisions" in own_profile


def test_transparency_report(carol: Member, bobs_note: Note, spam_rule: Rule) -> None:
    file_report(carol, bobs_note, spam_rule)
    report = browser().get("/transparency")
    assert report.status_code == 200
    assert "Transparency report" in page(report) and "Scams and fraud" in page(report)
    assert browser().get("/transparency?period=2025-Q2").status_code == 200
    bad = browser().get("/transparency?period=2026-Q9")
    assert bad.status_code == 400 and "is not a quarter" in page(bad)
    assert browser().get("/transparency?period=<b>x</b>").status_code == 400


def test_content_warning_on_a_labelled_note(
    bob: Member, carol: Member, bobs_note: Note, sensitive_rule: Rule, moderator: Member
) -> None:
    decide(moderator, bobs_note, sensitive_rule, "label")
    note_page = page(browser(carol).get(f"/notes/{bobs_note.pk}"))
    assert "Content warning: Graphic content" in note_page
    assert f"/report/note/{bobs_note.pk}" in note_page
    anonymous = page(browser().get(f"/notes/{bobs_note.pk}"))
    assert "Content warning: Graphic content" in anonymous
    assert "/report/note/" not in anonymous
    profile = page(browser(carol).get("/@bob"))
    assert "badge-warning" in profile
    assert "/report/member/" in profile
