"""A log of what changed who may see which notes, written by the database itself, so every
way a row can change (a service, a bulk update, a cascade, a manual fix) is seen: a note's
audience, a member's (their notes', and what their tokens and settings show them), or, for an
emptied table, everything. The per-process records of notes everyone may see, and of tokens
checked, read it (``notes.discoverability``)."""

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
# Who sees the member's notes, and what Explore shows the member (a token stands for them).
MEMBER_CHANGED = " OR ".join(
    f"OLD.{column} IS DISTINCT FROM NEW.{column}"
    for column in (
        "is_private",
        "is_active",
        "suspended_until",
        "language",
        "time_zone",
        "feed_personalized",
        "records_reading",
    )
)
TOKEN_CHANGED = " OR ".join(
    f"OLD.{column} IS DISTINCT FROM NEW.{column}"
    for column in ("revoked_at", "member_id", "token_hash")
)
# (name, event, table, what changed: the log's column and the old row's value, condition)
TRIGGERS = [
    ("note_update", "UPDATE", "notes_note", "note_id", "OLD.id", NOTE_CHANGED),
    ("note_delete", "DELETE", "notes_note", "note_id", "OLD.id", ""),
    ("member_update", "UPDATE", "accounts_member", "member_id", "OLD.id", MEMBER_CHANGED),
    ("member_delete", "DELETE", "accounts_member", "member_id", "OLD.id", ""),
    ("token_update", "UPDATE", "accounts_apitoken", "member_id", "OLD.member_id", TOKEN_CHANGED),
    ("token_delete", "DELETE", "accounts_apitoken", "member_id", "OLD.member_id", ""),
]
EMPTIED = ["notes_note", "accounts_member", "accounts_apitoken"]


def _sqlite_trigger(name: str, event: str, table: str, column: str, value: str, when: str) -> str:
    condition = f"WHEN {when.replace('IS DISTINCT FROM', 'IS NOT')}" if when else ""
    return (
        f"CREATE TRIGGER notes_visibility_{name} AFTER {event} ON {table} {condition} BEGIN "  # noqa: S608 - constants
        f"INSERT INTO notes_visibilitychange ({column}, seq, at_ms) "
        f"VALUES ({value}, {SQLITE_NEXT_SEQ}, {SQLITE_NOW_MS}); END"
    )


# SQLite runs DELETE without WHERE row by row when a table has triggers: no TRUNCATE to catch.
SQLITE = [_sqlite_trigger(*trigger) for trigger in TRIGGERS]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS notes_visibility_{trigger[0]}" for trigger in TRIGGERS]


def _postgres_trigger(name: str, event: str, table: str, column: str, value: str, when: str) -> str:
    condition = f"WHEN ({when})" if when else ""
    return (
        f"CREATE TRIGGER notes_visibility_{name} AFTER {event} ON {table} FOR EACH ROW "
        f"{condition} EXECUTE FUNCTION notes_visibility_changed('{column}', '{value}')"
    )


POSTGRES = [
    # TG_ARGV: the log's column and which of the old row's columns goes there (its id, or
    # a token's member); none for an emptied table: everything.
    "CREATE FUNCTION notes_visibility_changed() RETURNS trigger AS $$ BEGIN "  # noqa: S608 - constants
    "IF TG_NARGS = 0 THEN "
    f"INSERT INTO notes_visibilitychange (seq, at_ms) VALUES ({POSTGRES_SEQ}, {POSTGRES_NOW_MS}); "
    "ELSIF TG_ARGV[0] = 'note_id' THEN "
    "INSERT INTO notes_visibilitychange (note_id, seq, at_ms) "
    f"VALUES (OLD.id, {POSTGRES_SEQ}, {POSTGRES_NOW_MS}); "
    "ELSIF TG_ARGV[1] = 'OLD.member_id' THEN "
    "INSERT INTO notes_visibilitychange (member_id, seq, at_ms) "
    f"VALUES (OLD.member_id, {POSTGRES_SEQ}, {POSTGRES_NOW_MS}); "
    "ELSE INSERT INTO notes_visibilitychange (member_id, seq, at_ms) "
    f"VALUES (OLD.id, {POSTGRES_SEQ}, {POSTGRES_NOW_MS}); "
    "END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
    *(_postgres_trigger(*trigger) for trigger in TRIGGERS),
    *(
        f"CREATE TRIGGER notes_visibility_emptied AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION notes_visibility_changed()"
        for table in EMPTIED
    ),
]
POSTGRES_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS notes_visibility_{name} ON {table}"
        for name, _, table, *_ in TRIGGERS
    ),
    *(f"DROP TRIGGER IF EXISTS notes_visibility_emptied ON {table}" for table in EMPTIED),
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
                ("member_id", models.BigIntegerField(null=True)),
                ("seq", models.BigIntegerField(db_index=True)),
                ("at_ms", models.BigIntegerField(db_index=True)),
            ],
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
