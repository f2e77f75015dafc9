"""The audit log is append-only in the database itself: updating or deleting a row is refused.
(Emptying the whole table with PostgreSQL's TRUNCATE, which needs the table owner's rights,
is left to the operator.)"""

from django.db import migrations

SQLITE = [
    "CREATE TRIGGER moderation_audit_no_update BEFORE UPDATE ON moderation_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER moderation_audit_no_delete BEFORE DELETE ON moderation_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS moderation_audit_no_update",
    "DROP TRIGGER IF EXISTS moderation_audit_no_delete",
]
POSTGRES = [
    "CREATE FUNCTION moderation_audit_refuse() RETURNS trigger AS $$ BEGIN "
    "RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER moderation_audit_append_only BEFORE UPDATE OR DELETE ON "
    "moderation_auditentry FOR EACH ROW EXECUTE FUNCTION moderation_audit_refuse()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS moderation_audit_append_only ON moderation_auditentry",
    "DROP FUNCTION IF EXISTS moderation_audit_refuse()",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
