"""Querysets compiled once and run for many lists of ids (and a subject id): the same rows
as the ORM's, compiled once, and refused when the ids cannot be put in place."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError

from papercrane import compiled
from papercrane.accounts.models import Member
from papercrane.notes import services as note_services
from papercrane.notes.models import Note

pytestmark = pytest.mark.django_db


def publish(author: Member, title: str) -> Note:
    return note_services.create_note(author=author, fields=note_services.NoteFields(title=title))


def test_compiled_rows_match_the_orm_for_every_list_length(alice: Member) -> None:
    notes = [publish(alice, f"n{i}") for i in range(3)]
    known = [note.pk for note in notes]

    def build(ids: list[int], author_id: int | None) -> Any:
        return Note.objects.filter(pk__in=ids, author_id=author_id).values_list("pk", "title")

    for length in (1, 2, 3, 4, 33, 40_000):  # 40,000: more than SQLite takes parameters
        ids = [*known, *range(10**9, 10**9 + length)][:length]
        rows = compiled.rows("test rows", ids, build, subject=alice.pk)
        assert sorted(rows) == sorted(build(ids, alice.pk)), length
        assert rows and compiled.rows("test rows", ids, build, subject=alice.pk + 1) == []


def test_a_query_must_take_each_id_once() -> None:
    def twice(ids: list[int], _subject: int | None) -> Any:
        return Note.objects.filter(pk__in=ids).exclude(pk__in=ids).values_list("pk")

    def never(ids: list[int], _subject: int | None) -> Any:
        return Note.objects.values_list("pk")

    def no_subject(ids: list[int], _subject: int | None) -> Any:
        return Note.objects.filter(pk__in=ids).values_list("pk")

    with pytest.raises(ValueError, match="exactly once"):
        compiled.rows("twice", [1], twice)
    with pytest.raises(ValueError, match="exactly once"):
        compiled.rows("never", [1], never)
    with pytest.raises(ValueError, match="subject"):
        compiled.rows("no subject", [1], no_subject, subject=5)


def test_each_statement_is_compiled_once_per_key(alice: Member) -> None:
    builds: list[int] = []

    def build(ids: list[int], _subject: int | None) -> Any:
        builds.append(len(ids))
        return Note.objects.filter(pk__in=ids).values_list("pk")

    for ids in ([1], [1, 2, 3], list(range(1, 9)), list(range(1, 1000))):
        compiled.rows("counted", ids, build)
    assert builds == [len(compiled.STAND_INS), len(compiled.STAND_INS) + 1]  # and checked


def test_excluded_ids_match_the_orm(alice: Member) -> None:
    notes = [publish(alice, f"n{i}") for i in range(3)]

    def excluded(ids: list[int], _subject: int | None) -> Any:
        return Note.objects.exclude(pk__in=ids).values_list("pk")

    ids = [notes[0].pk, 10**9]
    assert sorted(compiled.rows("excluded", ids, excluded)) == sorted(excluded(ids, None))
    assert len(compiled.rows("excluded", ids, excluded)) == 2


def test_the_ids_must_be_one_in_list() -> None:
    def spread(ids: list[int], _subject: int | None) -> Any:
        return Note.objects.filter(pk=ids[0]).filter(author_id__in=ids[1:]).values_list("pk")

    with pytest.raises(ValueError, match="one IN list"):
        compiled.rows("spread", [1], spread)

    def limited(ids: list[int], _subject: int | None) -> Any:  # the stand-ins' count stays
        return Note.objects.filter(pk__in=ids).values_list("pk")[: len(ids)]

    with pytest.raises(ValueError, match="number of ids"):
        compiled.rows("limited", [1], limited)


def test_rows_come_through_the_fields_converters(alice: Member) -> None:
    note = publish(alice, "converted")

    def build(ids: list[int], _subject: int | None) -> Any:
        return Note.objects.filter(pk__in=ids).values_list("pk", "created_at", "language_chosen")

    [row] = compiled.rows("converted", [note.pk], build)
    assert row == build([note.pk], None).get()
    assert row[1] == note.created_at and row[2] is False


def test_a_lookup_is_compiled_once_for_every_subject(alice: Member, bob: Member) -> None:
    builds: list[object] = []

    def by_name(_ids: list[int], username: str) -> Any:
        builds.append(username)
        return Member.objects.filter(username=username).values_list("pk", "is_active")

    assert compiled.lookup("by name", by_name, "alice") == [(alice.pk, True)]
    assert compiled.lookup("by name", by_name, "bob") == [(bob.pk, True)]
    assert compiled.lookup("by name", by_name, "alice' OR '1'='1") == []
    assert builds == [compiled.TEXT_SUBJECT, compiled.OTHER_TEXT_SUBJECT]  # compiled, checked

    def by_id(_ids: list[int], member_id: int) -> Any:
        return Member.objects.filter(pk=member_id).values_list("username")

    assert compiled.lookup("by id", by_id, bob.pk) == [("bob",)]


def test_a_lookup_must_take_its_subject() -> None:
    def ignores(_ids: list[int], _name: str) -> Any:
        return Member.objects.values_list("pk")

    with pytest.raises(ValueError, match="subject"):
        compiled.lookup("ignores", ignores, "alice")

    def derives(_ids: list[int], name: str) -> Any:  # its first letters, besides the name
        return Member.objects.filter(username=name, email__startswith=name[:3]).values_list("pk")

    with pytest.raises(ValueError, match="beyond taking it"):
        compiled.lookup("derives", derives, "alice")


def test_statements_run_on_the_driver_show_when_queries_are_counted(
    alice: Member, django_assert_num_queries: Any
) -> None:
    note = publish(alice, "counted")

    def build(ids: list[int], _subject: int | None) -> Any:
        return Note.objects.filter(pk__in=ids).values_list("pk")

    assert compiled.rows("counted", [note.pk], build) == [(note.pk,)]  # on the driver's cursor
    with django_assert_num_queries(2):  # watched: through Django's, logged
        assert compiled.rows("counted", [note.pk], build) == [(note.pk,)]
        assert compiled.fetch("SELECT %s", [7]) == [(7,)]


def test_hand_written_statements_keep_djangos_parameter_style_and_errors() -> None:
    assert compiled.fetch("SELECT '100%%', %s", ["%s"]) == [("100%", "%s")]
    with pytest.raises(DatabaseError):  # Django's error, not the driver's
        compiled.fetch("SELECT * FROM no_such_table WHERE id = %s", [1])


def test_statements_refuse_to_run_in_a_broken_transaction() -> None:
    with transaction.atomic():
        with pytest.raises(DatabaseError), transaction.atomic(savepoint=False):
            compiled.fetch("SELECT * FROM no_such_table", [])
        with pytest.raises(TransactionManagementError):
            compiled.fetch("SELECT %s", [1])


@pytest.mark.django_db(transaction=True)
def test_statements_run_on_after_their_connection_is_closed_and_opened_again(
    alice: Member,
) -> None:
    def by_id(_ids: list[int], member_id: int) -> Any:
        return Member.objects.filter(pk=member_id).values_list("username")

    for _ in range(7):  # past the runs after which PostgreSQL prepares a statement
        assert compiled.lookup("by id", by_id, alice.pk) == [("alice",)]
    connection.close()  # back to the pool (PostgreSQL), or closed (SQLite)
    assert compiled.lookup("by id", by_id, alice.pk) == [("alice",)]
    with connection.cursor() as cursor:  # the connection a statement kept a cursor on
        cursor.execute("SELECT 1")
    connection.close()
    assert compiled.lookup("by id", by_id, alice.pk) == [("alice",)]


def test_instances_hold_the_row_as_the_orm_loads_it(alice: Member) -> None:
    from papercrane.accounts.queries import MEMBER_FIELDS

    values = Member.objects.filter(pk=alice.pk).values_list(*MEMBER_FIELDS).get()
    made = compiled.instance(Member, MEMBER_FIELDS, values)
    loaded = Member.objects.get(pk=alice.pk)
    for name in MEMBER_FIELDS:
        assert getattr(made, name) == getattr(loaded, name), name
    assert type(made.avatar) is type(loaded.avatar)  # a file field reads as its file object
    assert not made._state.adding and made._state.db == loaded._state.db
    made.display_name = "Alice A."
    made.save(update_fields=["display_name"])  # saved as an update of the existing row
    assert Member.objects.get(pk=alice.pk).display_name == "Alice A."


def test_an_instance_with_some_fields_reads_the_others_when_touched(alice: Member) -> None:
    made = compiled.instance(Member, ("id", "username"), (alice.pk, alice.username))
    assert made.get_deferred_fields() >= {"display_name", "bio"}
    assert made.display_name == alice.display_name  # read from the database
    with pytest.raises(ValueError, match="fields and"):
        compiled.instance(Member, ("id", "username"), (alice.pk,))


def test_an_instance_takes_only_the_models_fields(alice: Member) -> None:
    with pytest.raises(ValueError, match="not fields of Member"):
        compiled.instance(Member, ("id", "karma"), (alice.pk, 3))
