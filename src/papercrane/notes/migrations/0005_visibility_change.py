"""A log of notes, and members' notes, whose audience may have changed, written by the
database itself: every way a row can change (a service, a bulk update, a cascade, a manual
fix) is seen. Explore's per-process record of what everyone may see reads it
(``notes.discoverability``)."""

from django.db import migrations, models

SQLITE_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
POSTGRES_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
NOTE_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status OR OLD.visibility IS DISTINCT FROM NEW.visibility "
    "OR OLD.moderation_state IS DISTINCT FROM NEW.moderation_state "
    "OR OLD.author_id IS DISTINCT FROM NEW.author_id"
)
MEMBER_CHANGED = (
    "OLD.is_private IS DISTINCT FROM NEW.is_private OR OLD.is_active IS DISTINCT FROM "
    "NEW.is_active OR OLD.suspended_until IS DISTINCT FROM NEW.suspended_until"
)


def _sqlite_trigger(name: str, event: str, table: str, column: str, when: str = "") -> str:
    return (
        f"CREATE TRIGGER {name} AFTER {event} ON {table} {when} BEGIN "  # noqa: S608 - constants
        f"INSERT INTO notes_visibilitychange ({column}, at_ms) VALUES (OLD.id, {SQLITE_NOW_MS}); "
        "END"
    )


SQLITE = [
    _sqlite_trigger(
        "notes_visibility_note_update",
        "UPDATE OF status, visibility, moderation_state, author_id",
        "notes_note",
        "note_id",
        f"WHEN {NOTE_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}",
    ),
    _sqlite_trigger("notes_visibility_note_delete", "DELETE", "notes_note", "note_id"),
    _sqlite_trigger(
        "notes_visibility_member_update",
        "UPDATE OF is_private, is_active, suspended_until",
        "accounts_member",
        "author_id",
        f"WHEN {MEMBER_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')}",
    ),
    _sqlite_trigger("notes_visibility_member_delete", "DELETE", "accounts_member", "author_id"),
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS notes_visibility_{name}"
    for name in ("note_update", "note_delete", "member_update", "member_delete")
]
POSTGRES = [
    # TG_ARGV[0]: the column that names what changed. OLD is the row before an update or
    # delete; its id is the same after an update.
    "CREATE FUNCTION notes_visibility_changed() RETURNS trigger AS $$ BEGIN "  # noqa: S608 - constants
    "IF TG_ARGV[0] = 'note' THEN "
    f"INSERT INTO notes_visibilitychange (note_id, at_ms) VALUES (OLD.id, {POSTGRES_NOW_MS}); "
    "ELSE "
    f"INSERT INTO notes_visibilitychange (author_id, at_ms) VALUES (OLD.id, {POSTGRES_NOW_MS}); "
    "END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER notes_visibility_note_update AFTER UPDATE OF status, visibility, "
    f"moderation_state, author_id ON notes_note FOR EACH ROW WHEN ({NOTE_CHANGED}) "
    "EXECUTE FUNCTION notes_visibility_changed('note')",
    "CREATE TRIGGER notes_visibility_note_delete AFTER DELETE ON notes_note FOR EACH ROW "
    "EXECUTE FUNCTION notes_visibility_changed('note')",
    "CREATE TRIGGER notes_visibility_member_update AFTER UPDATE OF is_private, is_active, "
    f"suspended_until ON accounts_member FOR EACH ROW WHEN ({MEMBER_CHANGED}) "
    "EXECUTE FUNCTION notes_visibility_changed('author')",
    "CREATE TRIGGER notes_visibility_member_delete AFTER DELETE ON accounts_member "
    "FOR EACH ROW EXECUTE FUNCTION notes_visibility_changed('author')",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS notes_visibility_note_update ON notes_note",
    "DROP TRIGGER IF EXISTS notes_visibility_note_delete ON notes_note",
    "DROP TRIGGER IF EXISTS notes_visibility_member_update ON accounts_member",
    "DROP TRIGGER IF EXISTS notes_visibility_member_delete ON accounts_member",
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
                ("at_ms", models.BigIntegerField(db_index=True)),
            ],
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
