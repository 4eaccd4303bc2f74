"""Fixtures shared by every test: API clients with real keys, and the channel layer."""

import pytest
from rest_framework.test import APIClient

from api_keys.services import api_key_create


@pytest.fixture
def api_key(db) -> str:
    return api_key_create(name="tests").raw_key


@pytest.fixture
def admin_api_key(db) -> str:
    return api_key_create(name="tests-admin", is_admin=True).raw_key


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_with_key(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def admin_client_with_key(admin_api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_api_key}")
    return client


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a fresh channel layer (the in-memory one keeps messages between tests)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Password hashing is made slow on purpose; tests log users in, they do not test that."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _forget_cached_api_keys():
    """Every test starts with the per-process key cache empty."""
    from api_keys import cache

    cache._active.clear()
    yield
    cache._active.clear()
