"""Writes on API keys."""

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from api_keys.cache import forget_key
from api_keys.models import KEY_PREFIX, ApiKey, hash_key


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw_key: str  # shown once to whoever asked for it, never stored


def api_key_create(*, name: str, is_admin: bool = False) -> IssuedKey:
    """Create a key; the raw key is returned once and only its hash is stored."""
    name = name.strip()
    if not name:
        raise ValueError("An API key needs a name.")
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name,
        prefix=raw_key[: len(KEY_PREFIX) + 8],
        hashed_key=hash_key(raw_key),
        is_admin=is_admin,
    )
    return IssuedKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    forget_key(api_key.hashed_key)


@transaction.atomic
def api_key_rotate(*, name: str, is_admin: bool = False) -> IssuedKey:
    """Revoke the active keys of this name and issue a new one (the run script's local key)."""
    for api_key in ApiKey.objects.filter(name=name.strip(), revoked_at__isnull=True):
        api_key_revoke(api_key=api_key)
    return api_key_create(name=name, is_admin=is_admin)


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Record use at most once a minute, so that reads do not turn into writes."""
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
