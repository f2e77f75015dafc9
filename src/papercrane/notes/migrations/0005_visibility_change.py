"""A log of notes, and members' notes, whose audience may have changed, written by the
database itself: every way a row can change (a service, a bulk update, a cascade, a manual
fix) is seen. Explore's per-process record of what everyone may see reads it
(``notes.discoverability``)."""

from django.db import migrations, models

SQLITE_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
SQLITE_NEXT_SEQ = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM notes_visibilitychange)"
POSTGRES_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
POSTGRES_SEQ = "pg_current_xact_id()::text::bigint"
NOTE_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status OR OLD.visibility IS DISTINCT FROM NEW.visibility "
    "OR OLD.moderation_state IS DISTINCT FROM NEW.moderation_state "
    "OR OLD.author_id IS DISTINCT FROM NEW.author_id"
)
MEMBER_CHANGED = (
    "OLD.is_private IS DISTINCT FROM NEW.is_private OR OLD.is_active IS DISTINCT FROM "
    "NEW.is_active OR OLD.suspended_until IS DISTINCT FROM NEW.suspended_until"
)
TRIGGERS = ("note_update", "note_delete", "member_update", "member_delete")


def _sqlite_trigger(name: str, event: str, table: str, column: str, when: str = "") -> str:
    return (
        f"CREATE TRIGGER notes_visibility_{name} AFTER {event} ON {table} {when} BEGIN "  # noqa: S608 - constants
        f"INSERT INTO notes_visibilitychange ({column}, seq, at_ms) "
        f"VALUES (OLD.id, {SQLITE_NEXT_SEQ}, {SQLITE_NOW_MS}); END"
    )


# SQLite runs DELETE without WHERE row by row when a table has triggers: no TRUNCATE to catch.
SQLITE = [
    _sqlite_trigger(
        "note_update",
        "UPDATE",
        "notes_note",
        "note_id",
        f"WHEN {NOTE_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}",
    ),
    _sqlite_trigger("note_delete", "DELETE", "notes_note", "note_id"),
    _sqlite_trigger(
        "member_update",
        "UPDATE",
        "accounts_member",
        "author_id",
        f"WHEN {MEMBER_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}",
    ),
    _sqlite_trigger("member_delete", "DELETE", "accounts_member", "author_id"),
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS notes_visibility_{name}" for name in TRIGGERS]


def _postgres_trigger(name: str, event: str, table: str, argument: str, when: str = "") -> str:
    return (
        f"CREATE TRIGGER notes_visibility_{name} AFTER {event} ON {table} "
        f"FOR EACH {'STATEMENT' if event == 'TRUNCATE' else 'ROW'} {when} "
        f"EXECUTE FUNCTION notes_visibility_changed('{argument}')"
    )


POSTGRES = [
    # TG_ARGV[0] says what changed: a note, a member's notes, or (a table emptied) everything.
    # OLD is the row before an update or delete; its id is the same after an update.
    "CREATE FUNCTION notes_visibility_changed() RETURNS trigger AS $$ BEGIN "  # noqa: S608 - constants
    "IF TG_ARGV[0] = 'everything' THEN "
    f"INSERT INTO notes_visibilitychange (seq, at_ms) VALUES ({POSTGRES_SEQ}, {POSTGRES_NOW_MS}); "
    "ELSIF TG_ARGV[0] = 'note' THEN "
    "INSERT INTO notes_visibilitychange (note_id, seq, at_ms) "
    f"VALUES (OLD.id, {POSTGRES_SEQ}, {POSTGRES_NOW_MS}); "
    "ELSE INSERT INTO notes_visibilitychange (author_id, seq, at_ms) "
    f"VALUES (OLD.id, {POSTGRES_SEQ}, {POSTGRES_NOW_MS}); "
    "END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
    _postgres_trigger("note_update", "UPDATE", "notes_note", "note", f"WHEN ({NOTE_CHANGED})"),
    _postgres_trigger("note_delete", "DELETE", "notes_note", "note"),
    _postgres_trigger(
        "member_update", "UPDATE", "accounts_member", "author", f"WHEN ({MEMBER_CHANGED})"
    ),
    _postgres_trigger("member_delete", "DELETE", "accounts_member", "author"),
    _postgres_trigger("note_truncate", "TRUNCATE", "notes_note", "everything"),
    _postgres_trigger("member_truncate", "TRUNCATE", "accounts_member", "everything"),
]
POSTGRES_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS notes_visibility_{name} ON notes_note"
        for name in ("note_update", "note_delete", "note_truncate")
    ),
    *(
        f"DROP TRIGGER IF EXISTS notes_visibility_{name} ON accounts_member"
        for name in ("member_update", "member_delete", "member_truncate")
    ),
    "DROP FUNCTION IF EXISTS notes_visibility_changed()",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("notes", "0004_moderation"),
        ("accounts", "0008_member_privacy_settings"),
    ]

    operations = [
        migrations.CreateModel(
            name="VisibilityChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("note_id", models.BigIntegerField(null=True)),
                ("author_id", models.BigIntegerField(null=True)),
                ("seq", models.BigIntegerField(db_index=True)),
                ("at_ms", models.BigIntegerField(db_index=True)),
            ],
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
