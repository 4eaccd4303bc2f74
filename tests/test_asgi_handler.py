"""The ASGI entry point (marcus_site.asgi) serves Django views, errors and streaming responses."""

import json

import pytest
from django.http import StreamingHttpResponse
from django.test import override_settings
from django.urls import path

from api_keys.services import api_key_create
from marcus_site.urls import urlpatterns as site_urlpatterns
from tests.asgi_client import asgi_request


async def request(method: str, path_: str, body: bytes = b"", headers=()) -> tuple:
    response = await asgi_request(
        method, path_, body=body, headers={k.decode(): v.decode() for k, v in headers}
    )
    return response.status, response.headers, response.body


@pytest.mark.django_db(transaction=True)
async def test_views_errors_and_writes_through_the_asgi_application():
    from asgiref.sync import sync_to_async

    key = (await sync_to_async(api_key_create)(name="asgi")).raw_key
    status, _, body = await request("GET", "/health")
    assert status == 200 and json.loads(body)["status"] == "healthy"

    status, _, body = await request("GET", "/api/nothing-here")
    assert status == 404 and json.loads(body) == {"detail": "Not found."}

    payload = json.dumps(
        {"session_id": "s", "milestone_name": "n", "milestone_type": "deployment"}
    ).encode()
    headers = [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json")]
    status, _, body = await request("POST", "/api/telemetry/milestones/", payload, headers)
    assert status == 201, body
    assert json.loads(body)["status"] == "started"


def _stream_view(request):
    return StreamingHttpResponse(f"part{i};".encode() for i in range(3))


async def _async_stream_view(request):
    async def parts():
        for i in range(3):
            yield f"apart{i};".encode()

    return StreamingHttpResponse(parts())


urlpatterns = [
    path("stream/", _stream_view),
    path("astream/", _async_stream_view),
    *site_urlpatterns,
]


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_streaming_responses_are_sent_whole():
    status, _, body = await request("GET", "/stream/")
    assert status == 200 and body == b"part0;part1;part2;"
    status, _, body = await request("GET", "/astream/")
    assert status == 200 and body == b"apart0;apart1;apart2;"
