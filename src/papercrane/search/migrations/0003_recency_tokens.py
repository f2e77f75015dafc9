"""PostgreSQL: the indexed tsvector gains recency tokens (see ``backends.PostgresBackend``).

The generated column is dropped and added again, which rewrites the table and rebuilds its
GIN index: on a large index, run this when a few minutes of slower search are acceptable.
SQLite's index does not change.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from papercrane.search.backends import DOCUMENTS, backend_for


def rebuild(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    backend = backend_for(schema_editor.connection)
    for statement in [*backend.drop_schema(), *backend.schema()]:
        schema_editor.execute(statement)
    # The new column has no statistics until analysed, and without them the planner scans
    # the table backwards for rare words instead of asking the index.
    schema_editor.execute(f"ANALYZE {DOCUMENTS}")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_index_backends")]
    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
