import pytest


@pytest.fixture(autouse=True)
def _generous_rate_limit(settings):
    """The batch endpoint counts requests per client address in the cache, which outlives a
    test; only the rate limit's own tests set a small limit (and their own addresses)."""
    settings.MARCUS = {**settings.MARCUS, "TELEMETRY_RATE_LIMIT": "1000000/minute"}
