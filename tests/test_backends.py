"""The run really uses the database and channel layer its environment names.

CI's second run sets MARCUS_EXPECT_BACKENDS=postgresql+redis: this test then proves that the
tests talked to PostgreSQL and that channel messages went through Redis.
"""

import os

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection


def expected_backends() -> tuple[str, str]:
    declared = os.environ.get("MARCUS_EXPECT_BACKENDS")
    if declared:
        database, layer = declared.split("+")
        return database, layer
    database = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    return database, "redis" if os.environ.get("REDIS_URL") else "memory"


@pytest.mark.django_db
def test_the_database_is_the_one_the_environment_names():
    database, _ = expected_backends()
    assert connection.vendor == database
    with connection.cursor() as cursor:
        if database == "postgresql":
            cursor.execute("SELECT version()")
            assert "PostgreSQL" in cursor.fetchone()[0]
        else:
            cursor.execute("SELECT sqlite_version()")
            assert cursor.fetchone()[0]


def test_the_channel_layer_is_the_one_the_environment_names():
    _, layer_kind = expected_backends()
    layer = get_channel_layer()
    if layer_kind == "memory":
        assert type(layer).__name__ == "InMemoryChannelLayer"
        return
    import redis

    assert type(layer).__name__ == "RedisChannelLayer"

    async def send_and_peek():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "backend.probe"})
        return channel

    channel = async_to_sync(send_and_peek)()
    # The message now sits in Redis, under the layer's prefix, until someone receives it.
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = client.keys(f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}*")
    assert keys, "no channel-layer key found in Redis"
    received = async_to_sync(layer.receive)(channel)
    assert received == {"type": "backend.probe"}
