"""Search through the API: bilingual notes, filters, sorts, pages, visibility, bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.notes.models import Note
from papercrane.search import queries, services
from papercrane.search.models import HistoryEntry, QueryCount
from tests.helpers import ApiClient, error_fields, problem

pytestmark = pytest.mark.django_db(transaction=True)


def titles(response: object) -> list[str]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    return [item["title"] for item in response.json()["items"]]  # type: ignore[attr-defined]


@pytest.fixture
def corpus(alice: Member, bob: Member, post: Callable[..., Note]) -> dict[str, Note]:
    notes = {
        "hotpot": post(alice, "成都火锅攻略", "牛油锅底，毛肚鸭肠 #成都美食", index=False),
        "cafes": post(
            alice,
            "Best cafes in Chengdu",
            "Three cafes near Yulin Road",
            index=False,
            language="en",
        ),
        "taipei": post(bob, "臺北夜市", "士林夜市的小吃", index=False, language="zh-Hans"),
        "english_hotpot": post(bob, "Hotpot for beginners", "How to order hotpot", index=False),
    }
    worker(["--batch"])
    return notes


def test_search_notes_in_both_languages(api: ApiClient, corpus: dict[str, Note]) -> None:
    assert titles(api.get("/search/notes?q=火锅")) == ["成都火锅攻略"]
    assert titles(api.get("/search/notes?q=hotpot")) == ["Hotpot for beginners"]
    assert titles(api.get("/search/notes?q=台北")) == ["臺北夜市"]  # Traditional ↔ Simplified
    assert titles(api.get("/search/notes?q=臺北")) == ["臺北夜市"]
    assert titles(api.get("/search/notes?q=huoguo")) == ["成都火锅攻略"]  # pinyin
    assert titles(api.get("/search/notes?q=%23成都美食")) == ["成都火锅攻略"]  # topic token
    assert titles(api.get("/search/notes?q=cafes%20in%20chengdu"))[0] == "Best cafes in Chengdu"


def test_cards_match_the_contract(api: ApiClient, corpus: dict[str, Note]) -> None:
    body = api.get("/search/notes?q=hotpot").json()
    card = body["items"][0]
    assert set(card) >= {"id", "title", "cover", "author", "counts", "language"}
    assert card["id"] == str(corpus["english_hotpot"].pk)
    assert body["next_cursor"] is None


def test_filters_and_sorts(api: ApiClient, corpus: dict[str, Note], alice: Member) -> None:
    assert titles(api.get("/search/notes?topic=成都美食")) == ["成都火锅攻略"]
    assert titles(api.get("/search/notes?q=夜市&language=en")) == []
    assert titles(api.get("/search/notes?q=cafes&language=en")) == ["Best cafes in Chengdu"]
    old = timezone.now() - dt.timedelta(days=40)
    Note.objects.filter(pk=corpus["cafes"].pk).update(published_at=old)
    services.index_note(corpus["cafes"].pk)
    assert titles(api.get("/search/notes?q=cafes&period=month")) == []
    assert titles(api.get("/search/notes?q=cafes&period=year")) == ["Best cafes in Chengdu"]
    Note.objects.filter(pk=corpus["hotpot"].pk).update(collect_count=5)
    by_collects = titles(api.get("/search/notes?q=hotpot%20火锅&sort=collected"))
    assert by_collects[0] == "成都火锅攻略"
    newest = titles(api.get("/search/notes?q=hotpot%20火锅&sort=newest"))
    assert newest[0] == "Hotpot for beginners"


def test_engagement_lifts_an_equally_relevant_note(
    api: ApiClient, alice: Member, post: Callable[..., Note]
) -> None:
    first = post(alice, "Dumplings", "dumplings", index=False)
    post(alice, "Dumplings", "dumplings", index=False)
    worker(["--batch"])
    assert titles(api.get("/search/notes?q=dumplings")) == ["Dumplings", "Dumplings"]
    Note.objects.filter(pk=first.pk).update(collect_count=40, like_count=100)
    ids = [item["id"] for item in api.get("/search/notes?q=dumplings").json()["items"]]
    assert ids[0] == str(first.pk)


def test_pages_follow_the_cursor(api: ApiClient, alice: Member, post: Callable[..., Note]) -> None:
    for number in range(5):
        post(alice, f"Noodles {number}", "noodles", index=False)
    worker(["--batch"])
    seen: list[str] = []
    cursor = ""
    while True:
        body = api.get(f"/search/notes?q=noodles&limit=2&cursor={cursor}").json()
        seen += [item["id"] for item in body["items"]]
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    assert error_fields(problem(api.get("/search/notes?q=noodles&cursor=forged"), 400)) == {
        "cursor"
    }


def test_results_respect_blocks_privacy_and_drafts(
    api: ApiClient,
    alice: Member,
    bob: Member,
    make_member: Callable[..., Member],
    as_member: Callable[[Member], ApiClient],
    post: Callable[..., Note],
) -> None:
    post(alice, "Hotpot for followers", "hotpot", visibility="followers", index=False)
    post(alice, "Hotpot draft", "hotpot", draft=True, index=False)
    post(bob, "Hotpot by bob", "hotpot", index=False)
    worker(["--batch"])
    carol = make_member("carol")
    assert titles(api.get("/search/notes?q=hotpot")) == ["Hotpot by bob"]
    account_services.follow(member=carol, target=alice)
    assert set(titles(as_member(carol).get("/search/notes?q=hotpot"))) == {
        "Hotpot for followers",
        "Hotpot by bob",
    }
    account_services.block(member=bob, target=carol)
    assert titles(as_member(carol).get("/search/notes?q=hotpot")) == ["Hotpot for followers"]
    Member.objects.filter(pk=alice.pk).update(is_private=True)
    assert "Hotpot for followers" not in titles(api.get("/search/notes?q=hotpot"))


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "NEAR(hotpot chengdu)",
        "hot*",
        "-hotpot",
        "hotpot OR",
        "(((",
        "AND",
        "' OR 1=1; --",
        "%",
        "_",
        "\\",
        "🍲🔥",
        "火锅🍲hotpot",
        "ｈｏｔｐｏｔ",
        "hotpot:chengdu^2",
        "title:hotpot",
    ],
)
def test_query_syntax_is_never_an_error(
    api: ApiClient, corpus: dict[str, Note], query: str
) -> None:
    response = api.get("/search/notes", data={"q": query})
    assert response.status_code == 200, response.content


def test_hostile_queries_get_clear_errors(api: ApiClient, corpus: dict[str, Note]) -> None:
    assert error_fields(problem(api.get("/search/notes?q="), 422)) == {"q"}
    assert error_fields(problem(api.get("/search/notes?q=%20%20%20"), 422)) == {"q"}
    assert error_fields(problem(api.get("/search/notes", data={"q": "x" * 10_000}), 422)) == {"q"}
    assert error_fields(problem(api.get("/search/notes?q=a&sort=best"), 422)) == {"sort"}
    assert error_fields(problem(api.get("/search/notes?q=a&limit=1000"), 422)) == {"limit"}
    assert error_fields(problem(api.get("/search/notes?q=a&period=decade"), 422)) == {"period"}
    # A lone surrogate (%ED%A0%80 is not UTF-8) and NUL are just characters that match nothing.
    assert api.get("/search/notes?q=%ED%A0%80hotpot").status_code == 200
    assert api.get("/search/notes?q=hot%00pot").status_code == 200


def test_users_and_topics(
    api: ApiClient, alice: Member, bob: Member, corpus: dict[str, Note]
) -> None:
    users = api.get("/search/users?q=ali").json()["items"]
    assert [user["username"] for user in users] == ["alice"]
    assert [u["username"] for u in api.get("/search/users?q=小波").json()["items"]] == ["bob"]
    topics = api.get("/search/topics?q=成都").json()["items"]
    assert topics == [{"name": "成都美食", "notes": 1}]
    assert api.get("/search/topics?q=chengdu").json()["items"][0]["name"] == "成都美食"
    assert error_fields(problem(api.get("/search/users?q="), 422)) == {"q"}


def test_topics_of_private_notes_stay_private(
    api: ApiClient, alice: Member, post: Callable[..., Note]
) -> None:
    post(alice, "Diary", "#secretplace", visibility="private")
    assert api.get("/search/topics?q=secret").json()["items"] == []


def test_blocked_members_do_not_find_each_other(
    alice: Member, bob: Member, as_member: Callable[[Member], ApiClient]
) -> None:
    account_services.block(member=alice, target=bob)
    assert as_member(bob).get("/search/users?q=alice").json()["items"] == []


def visitor(number: int) -> ApiClient:
    return ApiClient(REMOTE_ADDR=f"198.51.100.{number}")


def test_trending_needs_several_searchers(api: ApiClient, corpus: dict[str, Note]) -> None:
    for number in range(queries.TRENDING_MIN_COUNT - 1):
        visitor(number).get("/search/notes?q=Hotpot")
    for _ in range(5):  # one person searching again (or paging) counts once
        visitor(0).get("/search/notes?q=hotpot")
    assert api.get("/search/trending").json()["items"] == []
    visitor(99).get("/search/notes?q=hotpot")  # the same query once normalised
    assert api.get("/search/trending").json()["items"] == ["hotpot"]
    assert QueryCount.objects.get().count == queries.TRENDING_MIN_COUNT


def test_suggestions_while_typing(api: ApiClient, corpus: dict[str, Note]) -> None:
    for number in range(queries.TRENDING_MIN_COUNT):
        visitor(number).get("/search/notes?q=成都火锅")
    items = api.get("/search/suggest?q=成都").json()["items"]
    assert {"kind": "topic", "text": "#成都美食", "note_id": None} in items
    assert {"kind": "query", "text": "成都火锅", "note_id": None} in items
    note = {"kind": "note", "text": "成都火锅攻略", "note_id": str(corpus["hotpot"].pk)}
    assert note in items
    assert api.get("/search/suggest?q=").json()["items"] == [
        {"kind": "query", "text": "成都火锅", "note_id": None}
    ]
    assert api.get("/search/suggest?q=%00").status_code == 200


def test_nul_and_control_characters_never_reach_the_database(
    api: ApiClient, corpus: dict[str, Note]
) -> None:
    for path in ("/search/users", "/search/topics", "/search/suggest", "/search/notes"):
        assert api.get(path, data={"q": "ali\x00ce\x1b"}).status_code == 200


def test_history_only_when_the_member_keeps_it(
    alice: Member, as_member: Callable[[Member], ApiClient], corpus: dict[str, Note]
) -> None:
    client = as_member(alice)
    client.get("/search/notes?q=hotpot")
    assert client.get("/search/history").json()["items"] == []
    assert not HistoryEntry.objects.exists()
    assert client.patch("/accounts/me", {"keeps_search_history": True}).json()[
        "keeps_search_history"
    ]
    client.get("/search/notes?q=hotpot")
    client.get("/search/notes?q=火锅")
    assert client.get("/search/history").json()["items"] == ["火锅", "hotpot"]
    suggested = client.get("/search/suggest?q=").json()["items"]
    assert {"kind": "history", "text": "火锅", "note_id": None} in suggested
    assert client.delete("/search/history").status_code == 204
    assert client.get("/search/history").json()["items"] == []
    client.get("/search/notes?q=hotpot")
    client.patch("/accounts/me", {"keeps_search_history": False})
    assert not HistoryEntry.objects.exists()  # turning it off forgets


def test_history_needs_a_member(api: ApiClient) -> None:
    problem(api.get("/search/history"), 401)
    problem(api.delete("/search/history"), 401)


def test_suggestions_complete_the_word_being_typed(
    api: ApiClient, alice: Member, post: Callable[..., Note]
) -> None:
    post(alice, "Lantern festival", "lanterns at night", index=False)
    post(alice, "50% off_sale [today]*", "deals", index=False)
    worker(["--batch"])
    items = api.get("/search/suggest?q=lant").json()["items"]
    assert [item["text"] for item in items if item["kind"] == "note"] == ["Lantern festival"]
    assert titles(api.get("/search/notes?q=lant")) == []  # a search wants whole words
    for typed in ("5", "50%", "off_", "[tod", "*", "_", "%"):
        assert api.get("/search/suggest", data={"q": typed}).status_code == 200
