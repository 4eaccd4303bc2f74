"""POST /v1/telemetry/batch through the ASGI application, where it is served straight from ASGI
with group commit: the same answers as the DRF view, a per-client rate limit, and concurrent
retries stored once."""

import asyncio
import json
import random

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from backend.models import BatchMilestone, TelemetryBatch
from backend.rate_limit import client_digest
from tests.asgi_client import application
from tests.backend.helpers import BATCH_URL, batch, installation

pytestmark = pytest.mark.django_db(transaction=True)


def random_address() -> str:
    """A documentation-range address of its own, so that no other test shares its count."""
    return f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"


async def post(body=None, *, raw: bytes | None = None, client=("127.0.0.1", 5000), **headers):
    payload = raw if raw is not None else json.dumps(body).encode()
    header_list = [
        (b"host", b"127.0.0.1"),
        (b"content-type", headers.pop("content_type", "application/json").encode()),
        (b"content-length", headers.pop("content_length", str(len(payload))).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "path": BATCH_URL,
        "raw_path": BATCH_URL.encode(),
        "query_string": b"",
        "headers": header_list,
        "client": client,
        "server": ("127.0.0.1", 80),
        "scheme": "http",
    }
    communicator = ApplicationCommunicator(application(), scope)
    await communicator.send_input({"type": "http.request", "body": payload})
    start = await communicator.receive_output(30)
    message = await communicator.receive_output(30)
    await communicator.wait(30)
    return start["status"], json.loads(message["body"]), dict(start["headers"])


def _drf_post(raw: bytes, content_type: str, address: str = "127.0.0.1"):
    return APIClient().post(BATCH_URL, raw, content_type=content_type, REMOTE_ADDR=address)


async def test_a_batch_is_stored_and_answered_as_the_seed_did():
    status, body, headers = await post(batch())
    assert status == 200
    assert headers[b"content-type"] == b"application/json"
    assert body["success"] is True and body["message"] == "Telemetry received"
    assert body["duplicate"] is False and body["received_at"].endswith("Z")
    assert await TelemetryBatch.objects.acount() == 1
    assert await BatchMilestone.objects.acount() == 2
    status, body, _ = await post(batch())
    assert status == 200 and body["duplicate"] is True
    assert await TelemetryBatch.objects.acount() == 1


async def test_answers_match_the_drf_view():
    """Each answer (refusals, and a duplicate) has the status and body the DRF view gives for
    the same request."""
    await sync_to_async(_drf_post)(json.dumps(batch()).encode(), "application/json")
    with_pii = batch()
    with_pii["feature_usage"]["bob@example.org"] = 1
    cases = [
        {"raw": json.dumps(batch()).encode()},  # a duplicate
        {"raw": json.dumps(with_pii).encode()},
        {"raw": json.dumps(batch(os_type="beos", marcus_version="x")).encode()},
        {"raw": json.dumps(batch(milestones={"a": {"attempts": 1}})).encode()},
        {"raw": b"[1, 2]"},
        {"raw": b"{broken"},
        {"raw": b"{}", "content_type": "text/plain"},
        {"raw": b" " * (1024 * 1024 + 1)},
    ]
    for case in cases:
        status, body, _ = await post(
            raw=case["raw"], content_type=case.get("content_type", "application/json")
        )
        drf = await sync_to_async(_drf_post)(
            case["raw"], case.get("content_type", "application/json")
        )
        assert status == drf.status_code, (case, body, drf.content)
        drf_body = drf.json()
        if "received_at" in body:
            assert body.pop("received_at") and drf_body.pop("received_at")
        if "JSON parse error" in str(body):
            assert drf_body["detail"].startswith("JSON parse error")
        else:
            assert body == drf_body, case
    assert await TelemetryBatch.objects.acount() == 1


async def test_an_oversized_declared_length_is_refused_before_the_body_is_read():
    status, body, _ = await post(raw=b"{}", content_length=str(5 * 1024 * 1024))
    assert status == 413 and "1048576" in body["detail"]


async def test_concurrent_retries_are_each_answered_and_stored_once():
    """Thirty requests at once: ten retries of one batch, and twenty batches of their own
    (some sent twice). Each gets its answer; each installation and period is stored once."""
    shared = batch(installation_id=installation(1))
    own = [batch(installation_id=installation(100 + number)) for number in range(20)]
    requests = [post(shared) for _ in range(10)] + [post(body) for body in own]
    requests += [post(body) for body in own[:5]]
    results = await asyncio.gather(*requests)
    assert [status for status, _, _ in results] == [200] * 35
    assert sum(not body["duplicate"] for _, body, _ in results[:10]) == 1
    assert sum(not body["duplicate"] for _, body, _ in results[10:]) == 20
    assert await TelemetryBatch.objects.acount() == 21
    assert await BatchMilestone.objects.acount() == 42


@pytest.fixture
def small_rate_limit(settings):
    settings.MARCUS = {**settings.MARCUS, "TELEMETRY_RATE_LIMIT": "3/minute"}


@pytest.mark.usefixtures("small_rate_limit")
async def test_the_rate_limit_counts_per_client_address():
    """Three batches a minute per address: the fourth gets a 429 with Retry-After (without a
    look at its body), another address is not affected, and the cache holds only a keyed
    hash of the address."""
    address, other = random_address(), random_address()
    for number in range(3):
        status, _, _ = await post(batch(installation_id=installation(number)), client=(address, 1))
        assert status == 200
    status, body, headers = await post(raw=b"not even json", client=(address, 2))
    assert status == 429
    retry_after = int(headers[b"retry-after"])
    assert 1 <= retry_after <= 60
    assert body == {"detail": f"Too many telemetry batches; try again in {retry_after} seconds."}
    assert (await post(batch(installation_id=installation(9)), client=(other, 1)))[0] == 200
    assert await TelemetryBatch.objects.acount() == 4
    keys = " ".join(cache_keys())
    assert client_digest(address) in keys and address not in keys


def cache_keys() -> list[str]:
    """Every key the cache holds (LocMem in-process, or Redis)."""
    backend = caches["default"]
    if isinstance(backend, LocMemCache):
        return [str(key) for key in backend._cache]
    client = backend._cache.get_client(None)
    return [key.decode() for key in client.scan_iter(match="*rate:telemetry-batch:*")]


@pytest.mark.usefixtures("small_rate_limit")
async def test_the_rate_limit_holds_through_the_drf_view_too():
    address = random_address()
    statuses = [
        (await sync_to_async(_drf_post)(b"{}", "application/json", address)).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    refused = await sync_to_async(_drf_post)(b"{}", "application/json", address)
    assert int(refused.headers["Retry-After"]) >= 1
