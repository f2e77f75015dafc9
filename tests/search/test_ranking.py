"""Ranking within a bounded candidate set: what is left out for speed never changes the order
of what is shown."""

from __future__ import annotations

import pytest
from django.utils import timezone

from papercrane.accounts.models import Member
from papercrane.notes.models import Note
from papercrane.search import analysis, ranking, services
from papercrane.search.queries import NoteSearch, lexical, search_notes

pytestmark = pytest.mark.django_db(transaction=True)


def publish(author: Member, texts: list[tuple[str, str]], **fields: int) -> list[Note]:
    """Published notes, indexed at once (as a bulk import would be)."""
    now = timezone.now()
    notes = Note.objects.bulk_create(
        Note(
            author=author,
            title=title,
            body=body,
            status=Note.Status.PUBLISHED,
            published_at=now,
            **fields,
        )
        for title, body in texts
    )
    services.reindex_all()
    return notes


def ids(text: str, limit: int, sort: str = "relevant") -> list[int]:
    return [note_id for note_id, _ in lexical(NoteSearch(text=text, sort=sort), limit)]


def test_a_short_list_is_the_head_of_the_long_one(alice: Member) -> None:
    # Relevance and engagement pull different ways, so engagement decides some places.
    texts = [
        (f"dumplings {'dumplings ' * (i % 4)}", f"{'soup ' * (i % 3)} night {i}") for i in range(16)
    ]
    notes = publish(alice, texts)
    for position, note in enumerate(notes):
        Note.objects.filter(pk=note.pk).update(
            like_count=(position * 37) % 200, collect_count=(position * 11) % 60
        )
    for sort in ("relevant", "newest", "collected"):
        everything = ids("dumplings soup", 100, sort)
        assert len(everything) == len(notes) or sort != "relevant"
        for limit in (1, 3, 5, 8):
            assert ids("dumplings soup", limit, sort) == everything[:limit], (sort, limit)


def test_the_most_engaging_of_equally_relevant_notes_still_comes_first(alice: Member) -> None:
    notes = publish(alice, [("Dumplings", "dumplings")] * 6)
    Note.objects.filter(pk=notes[2].pk).update(like_count=500, collect_count=200)
    assert ids("dumplings", 1) == [notes[2].pk]


def test_one_round_trip_reads_every_statistic(alice: Member) -> None:
    notes = publish(alice, [("Dumplings", "soup"), ("Noodles", "soup")])
    (dumplings,), (soup,), (unheard,) = (
        analysis.tokens(word) for word in ("dumplings", "soup", "unheard")
    )
    corpus = ranking.statistics([dumplings, soup, unheard])
    assert corpus.documents == 2
    assert corpus.frequencies == {dumplings: 1.0, soup: 2.0}
    assert corpus.ids == (notes[0].pk, notes[1].pk)


def _term(token: str, frequency: float) -> ranking.WeightedTerm:
    return ranking.WeightedTerm(token, 1.0, 1.0, frequency)


MILLION = ranking.Corpus(
    1_000_000,
    20.0,
    {"rare": 40, "medium": 5_000, "common": 100_000, "often": 20_000, "usual": 20_000},
    (1, 1_000_000),
)


def test_a_rare_term_s_holders_are_all_read_and_the_common_terms_share_the_rest() -> None:
    terms = [_term("common", 100_000), _term("rare", 40), _term("medium", 5_000)]
    # The rare term's 40 holders (of its third, 134) leave (400 - 40) / 2 to each other term.
    assert ranking.TERM_BUDGET == 400
    assert ranking._allotments(terms, MILLION, []) == [180, 134, 180]


def test_single_terms_get_few_candidates_when_notes_holding_all_fill_the_budget() -> None:
    terms = [_term("often", 20_000), _term("usual", 20_000)]  # 400 expected to hold both
    assert ranking._allotments(terms, MILLION, []) == [ranking.MIN_PER_TERM] * 2
    # All terms very common: no one looks for notes holding all, so each keeps its share.
    common = [_term("common", 100_000), _term("common", 100_000)]
    per_term = ranking.CANDIDATES_PER_TERM
    assert ranking._allotments(common, MILLION, []) == [per_term, per_term]
    assert ranking._allotments([_term("rare", 40)], MILLION, []) == [per_term]


def test_a_deeper_page_widens_the_candidates_to_what_it_asks_for() -> None:
    common = [_term("common", 100_000)]
    assert ranking._allotments(common, MILLION, [], limit=900) == [900]
    pair = [_term("common", 100_000), _term("usual", 100_000)]
    assert ranking._allotments(pair, MILLION, [], limit=900) == [900, 900]


def test_a_note_holding_every_term_is_found_behind_newer_notes_holding_one(
    alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking, "CANDIDATES_PER_TERM", 3)
    monkeypatch.setattr(ranking, "TERM_BUDGET", 4)
    monkeypatch.setattr(ranking, "MIN_PER_TERM", 1)
    (both,) = publish(alice, [("Lantern river walk", "")])
    publish(
        alice, [(f"Lantern {i}", "") for i in range(6)] + [(f"River {i}", "") for i in range(6)]
    )
    corpus = ranking.statistics([*analysis.tokens("lantern"), *analysis.tokens("river")])
    terms = [_term(token, frequency) for token, frequency in corpus.frequencies.items()]
    assert ranking._allotments(terms, corpus, []) == [1, 1]  # one newest holder of each
    assert ids("lantern river", 10)[0] == both.pk


def test_pages_beyond_the_first_pages_budget_still_find_every_match(
    alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking, "CANDIDATES_PER_TERM", 2)
    monkeypatch.setattr(ranking, "TERM_BUDGET", 2)
    notes = publish(alice, [(f"Lantern {i}", "") for i in range(8)])
    first, _ = search_notes(None, NoteSearch(text="lantern"), limit=3)
    second, more = search_notes(None, NoteSearch(text="lantern"), offset=3, limit=3)
    third, last = search_notes(None, NoteSearch(text="lantern"), offset=6, limit=3)
    shown = [note.pk for note in first + second + third]
    assert sorted(shown) == sorted(note.pk for note in notes)
    assert more and not last
