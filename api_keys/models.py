"""API keys: only a hash and a short display prefix are stored, never the key itself."""

import hashlib

from django.db import models

KEY_PREFIX = "mk_"


def hash_key(raw_key: str) -> str:
    """SHA-256 of the key. Keys are 256 random bits, so a fast hash is safe (no brute force)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    name = models.CharField(max_length=100, help_text="Who or what uses this key.")
    prefix = models.CharField(
        max_length=16, editable=False, help_text="The start of the key, to recognise it."
    )
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    is_admin = models.BooleanField(
        default=False, help_text="May also delete installation data from the telemetry backend."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        state = " (revoked)" if self.revoked_at else ""
        return f"{self.name} [{self.prefix}…]{state}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKeyUser:
    """The ``request.user`` of a request authenticated by an API key (not a Django user)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.pk = None
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return self.username
