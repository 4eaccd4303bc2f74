"""On PostgreSQL, one function takes the feed's write-order lock and reserves feed ids, so
that a write reserves them in one round trip (cato_api.services.live_events)."""

from django.db import migrations

LOCK_KEY = 331808392021  # cato_api.services.live_events.WRITE_ORDER_LOCK

CREATE = f"""
CREATE OR REPLACE FUNCTION marcus_feed_ids(how_many integer) RETURNS SETOF bigint AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    RETURN QUERY SELECT nextval(pg_get_serial_sequence('cato_api_liveevent', 'id'))
                 FROM generate_series(1, how_many);
END;
$$ LANGUAGE plpgsql;
"""
DROP = "DROP FUNCTION IF EXISTS marcus_feed_ids(integer);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cato_api", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
