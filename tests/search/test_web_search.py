"""Search on the web: notes, people and topics, sort and time, suggestions, trending, history.

Notes reach the index through the real background task after commit, so these tests commit
(``transaction=True``) and run the real worker.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from papercrane.accounts import services as account_services
from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.notes.models import Note
from papercrane.notes.services import NoteFields, create_note
from papercrane.search import analysis, queries, services
from papercrane.search.models import HistoryEntry, QueryCount
from papercrane.search.views import PAGE_SIZE

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true", "HX-Target": "note-pages"}  # what "Load more" sends
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def post(author: Member, title: str, body: str = "", **fields: Any) -> Note:
    return create_note(author=author, fields=NoteFields(title=title, body=body, **fields))


def index() -> None:
    worker(["--batch"])  # the real worker runs the indexing tasks the notes enqueued


def page(client: Client, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def card_titles(content: str) -> list[str]:
    found = re.findall(r'<h3 class="card-title"[^>]*>(.*?)</h3>', content, re.S)
    return [html.unescape(title) for title in found]


def signed_in(member: Member, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(member)
    return client


# --- Notes ----------------------------------------------------------------------------------


def test_notes_tab_finds_a_chinese_note_by_traditional_characters(alice: Member) -> None:
    post(alice, "台湾夜市小吃", "士林夜市的蚵仔煎")
    post(alice, "北京烤鸭", "全聚德")
    index()
    content = page(Client(), "/search?q=臺灣夜市")
    assert card_titles(content) == ["台湾夜市小吃"]
    assert 'value="臺灣夜市"' in content  # the box keeps what was typed


def test_english_words_are_stemmed(alice: Member) -> None:
    post(alice, "The best cafe in Lisbon", "Pastel de nata and coffee")
    post(alice, "Hiking in Sintra")
    index()
    assert card_titles(page(Client(), "/search?q=cafes")) == ["The best cafe in Lisbon"]


def test_notes_show_as_masonry_cards_with_the_tabs_and_controls(alice: Member) -> None:
    post(alice, "Brunch in Shanghai", "#brunch eggs benedict")
    index()
    content = page(Client(), "/search?q=brunch")
    assert 'class="masonry"' in content and 'class="card"' in content
    assert '<a href="/search?q=brunch" aria-current="page">Notes</a>' in content
    assert 'href="/search?q=brunch&amp;tab=users"' in content
    assert 'href="/search?q=brunch&amp;tab=topics"' in content
    assert 'href="/search?q=brunch&amp;sort=newest"' in content
    assert 'href="/search?q=brunch&amp;period=week"' in content
    assert '<a class="chip" href="/search?q=brunch" aria-current="true">Relevant</a>' in content


def test_no_match_says_so(alice: Member) -> None:
    post(alice, "Noodles")
    index()
    assert "No notes match “zebra”." in page(Client(), "/search?q=zebra")


def test_sort_by_newest_and_most_collected(alice: Member) -> None:
    older = post(alice, "Hotpot in Chongqing", "hotpot hotpot hotpot spicy")
    newer = post(alice, "Hotpot at home")
    Note.objects.filter(pk=older.pk).update(
        published_at=timezone.now() - dt.timedelta(days=3), collect_count=9
    )
    index()
    services.reindex_all()  # the index holds each note's publication time
    assert card_titles(page(Client(), "/search?q=hotpot&sort=newest")) == [
        newer.title,
        older.title,
    ]
    assert card_titles(page(Client(), "/search?q=hotpot&sort=collected"))[0] == older.title


def test_time_filter_leaves_out_older_notes(alice: Member) -> None:
    old = post(alice, "Dumplings from last year")
    recent = post(alice, "Dumplings tonight")
    Note.objects.filter(pk=old.pk).update(published_at=timezone.now() - dt.timedelta(days=40))
    services.reindex_all()
    assert card_titles(page(Client(), "/search?q=dumplings&period=week")) == [recent.title]
    assert sorted(card_titles(page(Client(), "/search?q=dumplings&period=year"))) == sorted(
        [old.title, recent.title]
    )
    content = page(Client(), "/search?q=dumplings&period=week")
    assert '<a class="chip" href="/search?q=dumplings&amp;period=week" aria-current="true">' in (
        content
    )


def test_topic_filter_keeps_notes_under_the_topic(alice: Member) -> None:
    post(alice, "Noodles in Chengdu", topics=["成都美食"])
    post(alice, "Noodles in Xi'an", topics=["西安"])
    index()
    content = page(Client(), "/search?q=noodles&topic=成都美食")
    assert card_titles(content) == ["Noodles in Chengdu"]
    assert "In #成都美食" in content
    assert card_titles(page(Client(), "/search?topic=西安")) == ["Noodles in Xi'an"]


def test_a_blocked_authors_notes_are_not_shown(alice: Member, bob: Member) -> None:
    post(bob, "Mooncakes 月饼")
    post(alice, "Mooncakes at home")
    index()
    account_services.block(member=alice, target=bob)
    assert card_titles(page(signed_in(alice), "/search?q=mooncakes")) == ["Mooncakes at home"]
    assert card_titles(page(signed_in(bob), "/search?q=mooncakes")) == ["Mooncakes 月饼"]
    assert len(card_titles(page(Client(), "/search?q=mooncakes"))) == 2
    assert "Mooncakes 月饼" not in page(signed_in(alice), "/search/suggest?q=mooncakes")


def test_load_more_pages_by_offset_and_appends_with_htmx(alice: Member, settings: Any) -> None:
    settings.RATELIMIT_ENABLED = False  # a new account posting 25 notes at once is throttled
    for number in range(PAGE_SIZE + 5):
        post(alice, f"Lantern {number}", "lantern festival")
    index()
    first = page(Client(), "/search?q=lantern")
    assert len(card_titles(first)) == PAGE_SIZE
    assert f'hx-get="/search?q=lantern&amp;offset={PAGE_SIZE}"' in first

    # Without script the link is a page of its own; with htmx, just the cards and a new button.
    assert len(card_titles(page(Client(), f"/search?q=lantern&offset={PAGE_SIZE}"))) == 5
    response = Client().get(f"/search?q=lantern&offset={PAGE_SIZE}", headers=HTMX)
    fragment = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert len(card_titles(fragment)) == 5
    assert "<html" not in fragment and 'id="search-q"' not in fragment
    assert '<div id="load-more" class="load-more" hx-swap-oob="true">' in fragment
    assert "hx-get" not in fragment.split('id="load-more"')[1]
    other_htmx = Client().get("/search?q=lantern", headers={"HX-Request": "true"}).content
    assert b'id="search-q"' in other_htmx  # only "Load more" gets a fragment
    seen = card_titles(first) + card_titles(fragment)
    assert len(set(seen)) == PAGE_SIZE + 5


def test_paging_stops_at_the_result_cap(alice: Member) -> None:
    post(alice, "Kite flying")
    index()
    content = page(Client(), f"/search?q=kite&offset={queries.MAX_RESULTS + 500}")
    assert card_titles(content) == []
    assert "hx-get" not in content.split('id="load-more"')[1]


# --- Users and topics -----------------------------------------------------------------------


def test_users_tab_lists_member_cards(alice: Member, bob: Member) -> None:
    content = page(Client(), "/search?q=ali&tab=users")
    assert 'class="member-card" href="/@alice"' in content
    assert "/@bob" not in content
    assert '<input type="hidden" name="tab" value="users">' in content  # searching again stays
    assert 'class="member-card" href="/@bob"' in page(Client(), "/search?q=小波&tab=users")
    assert "No one matches “zed”." in page(Client(), "/search?q=zed&tab=users")


def test_users_tab_leaves_out_blocked_members(alice: Member, bob: Member) -> None:
    account_services.block(member=bob, target=alice)
    assert "/@alice" not in page(signed_in(bob), "/search?q=ali&tab=users")
    assert "/@bob" not in page(signed_in(alice), "/search?q=bob&tab=users")


def test_topics_tab_links_topic_pages_with_public_note_counts(alice: Member) -> None:
    post(alice, "Mapo tofu", topics=["成都美食"])
    post(alice, "Dan dan noodles", topics=["成都美食", "面条"])
    post(alice, "Secret spot", topics=["成都美食"], visibility="private")
    index()
    content = page(Client(), "/search?q=成都&tab=topics")
    assert 'href="/topics/%E6%88%90%E9%83%BD%E7%BE%8E%E9%A3%9F"' in content
    assert "#成都美食" in content and "2 notes" in content
    assert "No topics match “xyz”." in page(Client(), "/search?q=xyz&tab=topics")


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "tab=evil&sort=<b>&period=century&offset=-5",
        "sort=random&period=DAY&offset=abc",
        "offset=99999999999999999999999",
        "offset=²",
        "tab=users&offset=1e9",
        "q=%00%01null&tab=topics",
        "q=%F0%9F%98%80%ED%A0%80",  # an emoji, then a lone surrogate's bytes
        "q=%23&topic=%00",
        "q=*%22(%29%20OR%20NEAR&sort=collected",
        "topic=" + "x" * 500,
    ],
)
def test_invalid_parameters_fall_back_to_defaults(alice: Member, query: str) -> None:
    post(alice, "Snow in Harbin")
    index()
    for path in (f"/search?{query}", f"/search/suggest?{query}"):
        assert Client().get(path).status_code == 200
        assert Client().get(path, headers=HTMX).status_code == 200


def test_unknown_values_render_the_defaults(alice: Member) -> None:
    content = page(Client(), "/search?q=snow&tab=evil&sort=worst&period=century")
    assert '<a href="/search?q=snow" aria-current="page">Notes</a>' in content
    assert '<a class="chip" href="/search?q=snow" aria-current="true">Relevant</a>' in content
    main = content.split('<main id="main"')[1]  # (the header's language switch keeps the path)
    assert "worst" not in main and "century" not in main


def test_queries_are_cut_to_the_maximum_length() -> None:
    content = page(Client(), "/search?q=" + "a" * 5000 + "&tab=users")
    main = content.split('<main id="main"')[1]
    assert 'value="' + "a" * analysis.MAX_QUERY_CHARS + '"' in main
    assert "a" * (analysis.MAX_QUERY_CHARS + 1) not in main


def test_the_search_page_only_answers_reads() -> None:
    assert Client().post("/search?q=x").status_code == 405
    assert Client().post("/search/suggest?q=x").status_code == 405
    assert Client().head("/search?q=x").status_code == 200
    assert not QueryCount.objects.exists()  # HEAD is not a search


@pytest.mark.parametrize("payload", [SCRIPT, ATTRIBUTE])
@pytest.mark.parametrize("tab", ["notes", "users", "topics"])
def test_the_query_comes_back_escaped(alice: Member, payload: str, tab: str) -> None:
    post(alice, "Anything at all", topics=["anything"])
    index()
    response = Client().get("/search", {"q": payload, "tab": tab})
    content = response.content.decode()
    assert response.status_code == 200
    assert payload not in content
    assert "<img src=x" not in content and "<script>alert" not in content
    assert html.escape(payload) in content or html.escape(payload, quote=False) in content


@pytest.mark.parametrize("payload", [SCRIPT, ATTRIBUTE])
def test_suggestions_are_escaped(alice: Member, payload: str) -> None:
    alice.keeps_search_history = True
    alice.save()
    post(alice, ATTRIBUTE, f"{payload} tasty")
    index()
    client = signed_in(alice)
    client.get("/search", {"q": payload})  # now in her history and among the counted queries
    for _ in range(queries.TRENDING_MIN_COUNT):
        Client().get("/search", {"q": payload})
    fragment = client.get("/search/suggest", {"q": payload[:4]}).content.decode()
    fragment += client.get("/search/suggest", {"q": "tasty"}).content.decode()
    fragment += client.get("/search/suggest", {"q": ""}).content.decode()
    assert 'role="option"' in fragment
    assert payload not in fragment and ATTRIBUTE not in fragment
    assert "<img src=x" not in fragment and "<script>alert" not in fragment
    assert "&lt;" in fragment and "&quot;&gt;&lt;img" in fragment
    start = page(client, "/search")
    assert "<script>alert" not in start and "<img src=x" not in start


# --- Suggestions ----------------------------------------------------------------------------


def test_suggestions_offer_topics_notes_and_recent_searches(alice: Member, bob: Member) -> None:
    post(bob, "火锅 tasting notes", topics=["火锅"])
    index()
    alice_client = signed_in(alice)
    alice_client.post("/search/history/keep", {"keep": "1"})
    alice_client.get("/search", {"q": "火锅 recipe"})
    fragment = alice_client.get("/search/suggest", {"q": "火锅"}).content.decode()
    options = re.findall(r'<li role="option"[^>]*data-value="([^"]*)"', fragment)
    assert options[0] == "火锅 recipe"  # her own history first
    assert "#火锅" in options and "火锅 tasting notes" in options
    assert re.search(r'class="suggestion suggestion-history".*?Recent', fragment, re.S)
    assert re.search(r'class="suggestion suggestion-topic".*?Topic', fragment, re.S)
    assert re.search(r'class="suggestion suggestion-note".*?Note', fragment, re.S)
    assert 'data-status="3 suggestions"' in fragment
    assert "<html" not in fragment
    response = alice_client.get("/search/suggest", {"q": "火锅"})
    assert "no-cache" in response["Cache-Control"] or "private" in response["Cache-Control"]

    # Someone else gets no one's history; nothing typed offers trending searches.
    others = Client().get("/search/suggest", {"q": "火锅"}).content.decode()
    assert "火锅 recipe" not in others
    empty = Client().get("/search/suggest", {"q": "zzzz"}).content.decode()
    assert 'role="option"' not in empty and 'data-status=""' in empty


def test_suggestions_are_not_counted_as_searches(alice: Member) -> None:
    post(alice, "Tea house")
    index()
    for _ in range(5):
        Client().get("/search/suggest", {"q": "tea"})
    assert not QueryCount.objects.exists()


# --- Trending and history -------------------------------------------------------------------


def test_trending_after_several_searches() -> None:
    for number in range(queries.TRENDING_MIN_COUNT):
        visitor = Client(REMOTE_ADDR=f"198.51.100.{number}")
        visitor.get("/search", {"q": "火鍋"})  # counted in Simplified form
        if number:  # one fewer visitor; however often each searches, each counts once
            visitor.get("/search", {"q": "rare words"})
            visitor.get("/search", {"q": "rare words"})
    content = page(Client(), "/search")
    assert "Trending searches" in content
    assert '<a href="/search?q=%E7%81%AB%E9%94%85">火锅</a>' in content
    assert "rare words" not in content
    assert "Keep my search history" not in content  # visitors keep none


def test_only_first_pages_of_new_searches_are_counted(alice: Member) -> None:
    post(alice, "Cherry blossoms")
    index()
    client = Client()
    client.get("/search", {"q": "cherry"})
    client.get("/search", {"q": "cherry", "offset": "20"})
    client.get("/search", {"q": "cherry", "offset": "20"}, headers=HTMX)
    client.get("/search", {"q": ""})
    client.get("/search", {"q": "   "})
    # Another tab, sort or time of the same search by the same person is not a new search.
    client.get("/search", {"q": "cherry", "tab": "users"})
    client.get("/search", {"q": "Cherry", "sort": "newest"})
    assert QueryCount.objects.get().count == 1
    client.get("/search", {"q": "plum"})
    Client(REMOTE_ADDR="198.51.100.7").get("/search", {"q": "cherry"})
    assert dict(QueryCount.objects.values_list("query", "count")) == {"cherry": 2, "plum": 1}


def test_history_is_kept_only_for_members_who_choose_it(alice: Member, bob: Member) -> None:
    page(signed_in(alice), "/search?q=secret+plans")
    assert not HistoryEntry.objects.exists()  # alice never opted in
    assert QueryCount.objects.get().query == "secret plans"  # counted without her name

    start = page(signed_in(alice), "/search")
    assert "Keep my search history" in start and "Recent searches" not in start
    assert "kept for you alone" in start
    assert "保留我的搜索记录" in page(signed_in(bob), "/search")  # in bob's language


def test_history_toggle_and_clear_are_csrf_protected_posts(alice: Member) -> None:
    client = signed_in(alice, enforce_csrf_checks=True)
    assert client.post("/search/history/keep", {"keep": "1"}).status_code == 403
    alice.refresh_from_db()
    assert not alice.keeps_search_history

    start = page(client, "/search")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', start)
    assert token is not None
    csrf = {"csrfmiddlewaretoken": token.group(1)}
    response = client.post("/search/history/keep", {"keep": "1", **csrf})
    assert response.status_code == 302 and response["Location"] == "/search"
    alice.refresh_from_db()
    assert alice.keeps_search_history

    client.get("/search", {"q": "Matcha Latte"})
    client.get("/search", {"q": "dim sum"})
    start = page(client, "/search")
    assert "Recent searches" in start
    assert '<a class="chip" href="/search?q=dim%20sum">dim sum</a>' in start
    assert "matcha latte" in start
    assert "checked" in start.split('name="keep"')[1].split(">")[0]

    assert client.post("/search/history/clear").status_code == 403
    assert HistoryEntry.objects.filter(member=alice).count() == 2
    response = client.post("/search/history/clear", csrf)
    assert response.status_code == 302
    assert not HistoryEntry.objects.filter(member=alice).exists()
    assert "Your search history is cleared." in page(client, "/search")

    client.get("/search", {"q": "dim sum"})
    client.post("/search/history/keep", csrf)  # the box unticked: off, and forgotten
    alice.refresh_from_db()
    assert not alice.keeps_search_history
    assert not HistoryEntry.objects.filter(member=alice).exists()
    client.get("/search", {"q": "dim sum"})
    assert not HistoryEntry.objects.filter(member=alice).exists()


def test_history_actions_need_a_member() -> None:
    for path in ("/search/history/keep", "/search/history/clear"):
        response = Client().post(path, {"keep": "1"})
        assert response.status_code == 302 and response["Location"].startswith("/login?next=")
        assert Client().get(path).status_code in {302, 405}


def test_header_search_link_points_at_the_search_page(alice: Member) -> None:
    assert re.search(r'<a href="/search"\s*>Search</a>', page(Client(), "/"))
    content = page(Client(), "/search?q=ali")
    assert '<a href="/search" aria-current="page">Search</a>' in content


def test_search_page_speaks_chinese() -> None:
    content = page(Client(), "/search?q=ali", **{"Accept-Language": "zh-CN"})
    assert "搜索" in content and "笔记" in content
