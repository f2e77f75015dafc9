"""Counters stay exact when many members like, collect and comment at the same moment.

Each thread has its own database connection; on SQLite the write lock queues them (IMMEDIATE
transactions, 20 s busy timeout), on PostgreSQL they really run at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from papercrane.accounts.models import Member
from papercrane.engagement import services
from papercrane.engagement.models import Board, BoardEntry, Collect, Comment, Like
from papercrane.notes.models import Note

pytestmark = pytest.mark.django_db(transaction=True)

MEMBERS = 12


def run_at_once(work: list[Callable[[], Any]]) -> list[BaseException]:
    """Start every callable in its own thread at the same moment; the errors they raised."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as error:  # collected and asserted on by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.fixture
def crowd(make_member: Callable[..., Member]) -> list[Member]:
    return [make_member(f"fan{number:02d}") for number in range(MEMBERS)]


def test_simultaneous_likes_and_unlikes_keep_the_count_exact(
    note: Note, crowd: list[Member]
) -> None:
    def flip(member: Member) -> None:
        services.like_note(member=member, note=note)
        services.unlike_note(member=member, note=note)
        services.like_note(member=member, note=note)

    def twice(member: Member) -> None:  # the same member on two devices at once
        services.like_note(member=member, note=note)

    work = [lambda m=m: flip(m) for m in crowd] + [lambda m=m: twice(m) for m in crowd[:4]]
    assert run_at_once(work) == []
    note.refresh_from_db()
    assert note.like_count == Like.objects.filter(note=note).count() == MEMBERS


def test_simultaneous_collects_keep_the_count_exact(note: Note, crowd: list[Member]) -> None:
    boards = {m.pk: services.create_board(owner=m, name="Trips") for m in crowd[:6]}

    def flip(member: Member) -> None:
        services.collect_note(member=member, note=note)
        services.uncollect_note(member=member, note=note)
        services.collect_note(member=member, note=note)

    def into_named_board(member: Member) -> None:
        services.collect_note(member=member, note=note, board=boards[member.pk])

    def out_of_everything(member: Member) -> None:
        services.uncollect_note(member=member, note=note)

    work = [lambda m=m: flip(m) for m in crowd]
    work += [lambda m=m: into_named_board(m) for m in crowd[:6]]
    work += [lambda m=m: out_of_everything(m) for m in crowd[6:9]]
    assert run_at_once(work) == []
    note.refresh_from_db()
    collectors = BoardEntry.objects.filter(collect__note=note).values("collect__member").distinct()
    assert note.collect_count == Collect.objects.filter(note=note).count() == collectors.count()
    assert not Collect.objects.filter(entries__isnull=True).exists()
    assert Board.objects.filter(is_default=True).count() == MEMBERS


def test_simultaneous_comments_replies_and_deletes_keep_counts_exact(
    note: Note, crowd: list[Member]
) -> None:
    threads = [services.add_comment(author=m, note=note, body="first!") for m in crowd[:3]]
    doomed = threads[0]

    def chat(member: Member, number: int) -> None:
        services.add_comment(author=member, note=note, body=f"hi {number}")
        parent = threads[number % 3]
        try:
            services.add_comment(author=member, note=note, body="re", parent=parent)
        except services.ValidationError:  # the thread was deleted first: nothing stored
            assert parent.pk == doomed.pk

    work: list[Callable[[], Any]] = [lambda m=m, n=n: chat(m, n) for n, m in enumerate(crowd)]
    work.append(lambda: services.delete_comment(comment=doomed))
    assert run_at_once(work) == []
    note.refresh_from_db()
    assert note.comment_count == Comment.objects.filter(note=note).count()
    for thread in Comment.objects.filter(note=note, parent__isnull=True):
        assert thread.reply_count == Comment.objects.filter(parent=thread).count()


def test_simultaneous_comment_likes_and_pins(
    note: Note, alice: Member, crowd: list[Member]
) -> None:
    comments = [services.add_comment(author=m, note=note, body="pick me") for m in crowd[:4]]
    target = comments[0]

    def flip(member: Member) -> None:
        services.like_comment(member=member, comment=target)
        services.unlike_comment(member=member, comment=target)
        services.like_comment(member=member, comment=target)

    work: list[Callable[[], Any]] = [lambda m=m: flip(m) for m in crowd]
    work += [lambda c=c: services.pin_comment(comment=c) for c in comments]
    assert run_at_once(work) == []
    target.refresh_from_db()
    assert target.like_count == target.likes.count() == MEMBERS
    assert target.score == target.like_count
    assert Comment.objects.filter(note=note, is_pinned=True).count() == 1
