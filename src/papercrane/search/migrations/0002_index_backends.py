"""The database-specific half of the index: FTS5 on SQLite, a tsvector + GIN on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from papercrane.search.backends import backend_for


def create(apps: Any, schema_editor: Any) -> None:
    for statement in backend_for(schema_editor.connection).schema():
        schema_editor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    for statement in backend_for(schema_editor.connection).drop_schema():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
