"""On PostgreSQL, a stored ranking (about 7 KB of JSON) and a member's day of notes seen (a few
KB by evening) are kept in their own rows, uncompressed, up to a full page: by default a
value over 2 KB is compressed and moved out of the row (TOAST). Every visit then read the
ranking through a second index and decompressed it, and every flush of what was shown
rewrote each member's day out of line: a tenth of the database's work for Explore. A longer
value is still compressed, and moved out of the row past a page. SQLite keeps values in
their rows already."""

from typing import Any

from django.db import migrations

# (model, field): the lists a visit reads and each flush rewrites
LISTS = [("Ranking", "items"), ("ShownDay", "note_ids")]
ROW_BYTES = 8160  # the most PostgreSQL takes for toast_tuple_target: a page less its header


def _alter(apps: Any, schema_editor: Any, storage: str, target: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, field_name in LISTS:
        model = apps.get_model("feed", model_name)
        table = schema_editor.quote_name(model._meta.db_table)
        column = schema_editor.quote_name(model._meta.get_field(field_name).column)
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE {storage}")
        schema_editor.execute(f"ALTER TABLE {table} {target}")


def keep_in_rows(apps: Any, schema_editor: Any) -> None:
    _alter(apps, schema_editor, "MAIN", f"SET (toast_tuple_target = {ROW_BYTES})")


def move_out_of_rows(apps: Any, schema_editor: Any) -> None:
    _alter(apps, schema_editor, "EXTENDED", "RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("feed", "0006_ranking_newest_ids")]

    operations = [migrations.RunPython(keep_in_rows, move_out_of_rows, elidable=False)]
