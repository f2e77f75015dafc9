"""PostgreSQL narrows a frequent word's matches to recent notes inside the index, and reads
older notes when the recent ones hold too few."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from papercrane.accounts.models import Member
from papercrane.notes.models import Note
from papercrane.search import backends, ranking, services
from papercrane.search.backends import recency_token, recent_window
from papercrane.search.queries import NoteSearch, lexical, search_notes

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_window_when_every_match_is_cheap_to_read() -> None:
    assert recent_window(300, expected=500, ids=(1, 1_000_000)) == (0, [])


def test_a_frequent_word_looks_at_recent_blocks_only() -> None:
    start, tokens = recent_window(300, expected=100_000, ids=(1, 1_000_000))
    # 100,000 matches in a million ids: 1.5 x 300 of them lie in the newest ~4,500 ids.
    assert 1_000_000 - 8 * 1024 <= start <= 1_000_000 - 4_500
    assert tokens == [recency_token(10, block) for block in range(start >> 10, 977)]
    assert len(tokens) <= backends.MAX_RECENT_BLOCKS


def test_no_window_when_reading_every_match_costs_less_than_merging_one() -> None:
    # 1,500 matches are many times 50, but reading them all is cheaper than a window.
    assert recent_window(50, expected=1_500, ids=(1, 1_000_000)) == (0, [])
    assert recent_window(50, expected=3_000, ids=(1, 1_000_000))[1]


def test_no_window_when_it_would_hold_every_note() -> None:
    assert recent_window(300, expected=700, ids=(1, 2_000)) == (0, [])


def _skip_ids(count: int) -> None:
    """Let the next note id jump ahead, as deleted notes and drafts make it do."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('notes_note', 'id'), "
            "(SELECT MAX(id) FROM notes_note) + %s)",
            [count],
        )


def _published(author: Member, title: str, body: str = "") -> Note:
    """A published note, created directly: two dozen in a row would meet the posting limits
    of a new member."""
    return Note.objects.create(
        author=author,
        title=title,
        body=body,
        status=Note.Status.PUBLISHED,
        published_at=timezone.now(),
    )


@pytest.fixture
def old_and_new(alice: Member) -> tuple[list[Note], list[Note]]:
    if connection.vendor != "postgresql":
        pytest.skip("the recency window is PostgreSQL's")
    old = [_published(alice, f"lantern festival {i}") for i in range(12)]
    _skip_ids(5_000)
    new = [_published(alice, f"river walk {i}", "lantern" if i >= 9 else "") for i in range(12)]
    services.reindex_all()
    return old, new


def test_older_notes_are_read_when_the_window_holds_too_few(
    old_and_new: tuple[list[Note], list[Note]], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = old_and_new
    monkeypatch.setattr(ranking, "CANDIDATES_PER_TERM", 4)
    monkeypatch.setattr(backends, "WINDOW_MIN_MATCHES", 0)  # a window even for a few notes
    corpus = ranking.statistics(["lantern"])
    start, window = recent_window(4, corpus.expected_matches(["lantern"]), corpus.ids)
    assert window and start > old[-1].pk  # the window holds the three new lanterns only

    # Four asked for (a first page asks for more than it shows, and widens the candidates).
    found = [note_id for note_id, _score in lexical(NoteSearch(text="lantern", sort="newest"), 4)]

    assert found == [new[11].pk, new[10].pk, new[9].pk, old[11].pk]


def test_every_match_is_still_found_without_a_cap(
    old_and_new: tuple[list[Note], list[Note]],
) -> None:
    old, new = old_and_new
    notes, _ = search_notes(None, NoteSearch(text="lantern", sort="newest"))
    assert {note.pk for note in notes} == {note.pk for note in old + new[9:]}


def test_no_window_over_most_of_the_notes() -> None:
    # 800 matches in a million ids: 450 of them lie in the newest ~560,000, over half.
    assert recent_window(300, expected=800, ids=(1, 1_000_000)) == (0, [])
