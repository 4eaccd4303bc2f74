"""A GIN index on the raw batch, for ad-hoc questions (``raw @> '{"os_type": "win32"}'``,
``raw->'milestones' ? 'deployment'``). PostgreSQL only: SQLite has no GIN indexes and stores
JSON as text, so this migration does nothing there."""

from django.db import migrations

INDEX = "backend_batch_raw_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON backend_telemetrybatch USING gin (raw)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("backend", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
