"""Reads on API keys."""

from api_keys.models import ApiKey, hash_key


def api_key_find(*, raw_key: str) -> ApiKey | None:
    """The key matching ``raw_key`` (active or revoked), or None."""
    return ApiKey.objects.filter(hashed_key=hash_key(raw_key)).first()
