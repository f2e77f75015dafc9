"""The index follows every change to notes, and its statistics stay exact."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from django.core.management import call_command

from papercrane.accounts.models import Member
from papercrane.cli import worker
from papercrane.notes import services as note_services
from papercrane.notes.models import Note
from papercrane.search import services
from papercrane.search.models import SearchDocument, SearchTerm
from papercrane.search.queries import NoteSearch, fuse, search_notes

pytestmark = pytest.mark.django_db(transaction=True)


def found(text: str, viewer: Member | None = None, **filters: str) -> list[str]:
    notes, _ = search_notes(viewer, NoteSearch(text=text, **filters))
    return [note.title for note in notes]


def statistics() -> dict[str, float]:
    return dict(SearchTerm.objects.exclude(df=0).values_list("term", "df"))


def test_create_edit_and_delete_reach_the_index(alice: Member, post: Callable[..., Note]) -> None:
    note = post(alice, "成都火锅", "周末吃了牛油锅底 #美食")
    assert found("火锅") == ["成都火锅"]
    note_services.update_note(
        note=note,
        fields=note_services.NoteFields(title="重庆小面", body="早餐"),
        changed={"title", "body"},
    )
    worker(["--batch"])
    assert found("火锅") == []
    assert found("小面") == ["重庆小面"]
    note_services.delete_note(note=Note.objects.get(pk=note.pk))
    worker(["--batch"])
    assert found("小面") == []
    assert not SearchDocument.objects.exists()
    assert statistics() == {}  # every count went back to zero


def test_drafts_are_not_indexed_until_published(alice: Member, post: Callable[..., Note]) -> None:
    draft = post(alice, "Secret plans", "hotpot", draft=True)
    assert found("hotpot", viewer=alice) == []
    note_services.update_note(
        note=draft, fields=note_services.NoteFields(title="Secret plans"), changed={"draft"}
    )
    worker(["--batch"])
    assert found("hotpot") == ["Secret plans"]


def test_incremental_statistics_equal_a_full_rebuild(
    alice: Member, bob: Member, post: Callable[..., Note]
) -> None:
    first = post(alice, "Hotpot in Chengdu", "Spicy broth, #food", index=False)
    post(bob, "成都火锅", "麻辣 #food @alice", index=False)
    post(alice, "臺北夜市", "小吃 hotpot", index=False)
    note_services.update_note(
        note=first,
        fields=note_services.NoteFields(title="Hotpot in Chongqing", body="Numbing"),
        changed={"title", "body"},
    )
    worker(["--batch"])
    incremental = statistics()
    documents = {d.note_id: d.title_terms + d.body_terms for d in SearchDocument.objects.all()}
    assert services.reindex_all() == 3
    assert statistics() == incremental
    assert {d.note_id: d.title_terms + d.body_terms for d in SearchDocument.objects.all()} == (
        documents
    )
    expected: Counter[str] = Counter()
    for terms in documents.values():
        expected.update(set(terms.split()))
    assert {term: df for term, df in incremental.items() if not term.startswith(" ")} == expected


def test_reindex_command_rebuilds_everything(alice: Member, post: Callable[..., Note]) -> None:
    post(alice, "Hotpot night", index=False)
    assert found("hotpot") == []  # the task has not run
    call_command("reindex")
    assert found("hotpot") == ["Hotpot night"]


def test_indexing_twice_changes_nothing(alice: Member, post: Callable[..., Note]) -> None:
    note = post(alice, "Hotpot night", "with friends")
    before = statistics()
    services.index_note(note.pk)
    services.index_note(note.pk)
    assert statistics() == before


def test_a_deleted_author_s_notes_leave_the_results(
    alice: Member, bob: Member, post: Callable[..., Note]
) -> None:
    post(alice, "Hotpot night")
    Member.objects.filter(pk=alice.pk).update(is_active=False)
    assert found("hotpot") == []


def test_score_fusion_rewards_agreement_and_keeps_strong_matches_first() -> None:
    assert fuse({"lexical": [(1, 1.0), (2, 0.5), (3, 0.1)]}) == [1, 2, 3]
    agreeing = {"lexical": [(1, 1.0), (2, 0.9), (3, 0.1)], "semantic": [(2, 1.0), (5, 0.8)]}
    assert fuse(agreeing)[:2] == [2, 1]
    # A far stronger word match stays first though the embedding prefers another note.
    rare_word = {"lexical": [(1, 1.0), (2, 0.1)], "semantic": [(2, 1.0), (1, 0.6)]}
    assert fuse(rare_word)[0] == 1
    assert set(fuse({"lexical": [(1, 1.0)], "semantic": [(4, 1.0)]})) == {1, 4}
    assert fuse({"lexical": [], "semantic": [(4, 1.0), (5, 0.7)]}) == [4, 5]
