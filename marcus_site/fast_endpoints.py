"""Hot write endpoints served straight from ASGI, with group commit.

Django's sync views run one at a time on one thread per process, and each holds that thread
through its database round trips. The write endpoints that take batches from many clients
(research events, telemetry batches) are instead served here: the body is read and checked on
the event loop (or in a worker thread when large), and the write goes to a ``GroupWriter``
that commits many requests together. Everything else, including these paths' other methods,
goes to Django.

Each endpoint is one ``FastEndpoint``: the same object also answers through its DRF view
(``serve_sync``), which the OpenAPI schema documents and Django's test client reaches, so the
two ways in share every rule, message and status.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api_keys.authentication import CHALLENGE, KeyRejected, NoKey, api_key_check, bearer_key
from api_keys.cache import cached_key
from api_keys.models import hash_key
from marcus_site.domain import DomainError
from marcus_site.errors import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_ERRORS,
    domain_error_answer,
)
from marcus_site.group_commit import GroupWriter

logger = logging.getLogger(__name__)

NO_CREDENTIALS = "Authentication credentials were not provided."
# Bodies larger than this are parsed and validated off the event loop.
INLINE_PARSE_BYTES = 64 * 1024


@dataclass
class Outcome:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.outcome = Outcome(status, body, headers or {})


def parse_json(body: bytes) -> Any:
    """The body as JSON (an empty body is an empty object); 400 when it is not JSON."""
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from None


def check_content_type(content_type: str) -> None:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(415, {"detail": f'Unsupported media type "{content_type}" in request.'})


def check_length(length: int, limit: int) -> None:
    if length > limit:
        raise ApiError(
            413, {"detail": f"The request body is {length} bytes; the limit here is {limit} bytes."}
        )


def validation_error(error: ValidationError) -> ApiError:
    detail = error.detail
    return ApiError(400, detail if isinstance(detail, dict | list) else {"detail": str(detail)})


class FastEndpoint:
    """One hot write endpoint. Subclasses set ``path`` and the three steps."""

    path: str
    max_body_bytes: int = 1024 * 1024
    requires_key: bool = True
    max_group_weight: int = 2000

    def __init__(self):
        self._writer: GroupWriter | None = None

    # --- the three steps ---------------------------------------------------------------

    def prepare(self, body: bytes, client: tuple[str, int] | None) -> Any:
        """Parse and validate the body (no database); raise ``ApiError`` to refuse it."""
        raise NotImplementedError

    def write_group(self, payloads: list[Any]) -> list[Any]:
        """Store several prepared payloads in one transaction; one result each, in order."""
        raise NotImplementedError

    def respond(self, result: Any) -> Outcome:
        raise NotImplementedError

    def weight(self, payload: Any) -> int:
        return 1

    def before_body(self, client: tuple[str, int] | None) -> None:
        """A check before the body is read (a rate limit, say); raise ``ApiError``."""

    async def before_body_async(self, client: tuple[str, int] | None) -> None:
        """``before_body`` on the ASGI way in; override it where the check waits on I/O."""
        self.before_body(client)

    # --- the DRF view's way in (WSGI, the test client) ------------------------------------

    def serve_sync(self, request) -> Outcome:
        client = (request.META.get("REMOTE_ADDR", ""), 0)
        try:
            self.before_body(client)
            check_length(int(request.META.get("CONTENT_LENGTH") or 0), self.max_body_bytes)
            check_content_type(request.META.get("CONTENT_TYPE", ""))
            payload = self.prepare(request.body, client)
            (result,) = self.write_group([payload])
            return self.respond(result)
        except ApiError as error:
            return error.outcome

    def drf_response(self, request) -> Response:
        """What the endpoint's DRF view answers: the same as the ASGI way in."""
        outcome = self.serve_sync(request)
        return Response(outcome.body, status=outcome.status, headers=outcome.headers)

    # --- the ASGI way in ---------------------------------------------------------------

    def writer(self) -> GroupWriter:
        if self._writer is None:
            self._writer = GroupWriter(
                self.write_group,
                name=self.path.strip("/").replace("/", "-"),
                max_weight=self.max_group_weight,
                weight=self.weight,
            )
        return self._writer

    async def serve(self, scope, receive, send) -> None:
        headers = {
            name.decode("latin1").lower(): value.decode("latin1")
            for name, value in scope.get("headers", [])
        }
        client = scope.get("client")
        try:
            outcome = await self._handle(headers, client, receive)
        except ApiError as error:
            outcome = error.outcome
        except DomainError as error:
            outcome = Outcome(*domain_error_answer(error))
        except UNAVAILABLE_ERRORS as exc:
            logger.warning("database unavailable: %s", type(exc).__name__)
            outcome = Outcome(
                503, {"detail": DATABASE_UNAVAILABLE}, {"Retry-After": RETRY_AFTER_SECONDS}
            )
        except DatabaseError:
            logger.exception("database error on %s", self.path)
            outcome = Outcome(500, {"detail": "Internal server error."})
        await _send_json(send, outcome, origin=headers.get("origin"))

    async def _handle(self, headers: dict[str, str], client, receive) -> Outcome:
        if self.requires_key:
            await _authenticate(headers.get("authorization", ""))
        await self.before_body_async(client)
        check_length(int(headers.get("content-length") or 0), self.max_body_bytes)
        check_content_type(headers.get("content-type", ""))
        body = await _read_body(receive, self.max_body_bytes)
        if len(body) > INLINE_PARSE_BYTES:
            payload = await asyncio.to_thread(self.prepare, body, client)
        else:
            payload = self.prepare(body, client)
        result = await self.writer().submit(payload)
        return self.respond(result)


async def _authenticate(header_value: str) -> None:
    try:
        raw_key = bearer_key(header_value)
        if cached_key(hash_key(raw_key)) is None:
            await database_sync_to_async(api_key_check)(raw_key)
    except NoKey:
        raise ApiError(401, {"detail": NO_CREDENTIALS}, {"WWW-Authenticate": CHALLENGE}) from None
    except KeyRejected as rejection:
        raise ApiError(401, {"detail": str(rejection)}, {"WWW-Authenticate": CHALLENGE}) from None


async def _read_body(receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, {"detail": "The client disconnected."})
        chunk = message.get("body", b"")
        size += len(chunk)
        check_length(size, limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_json(send, outcome: Outcome, origin: str | None) -> None:
    body = orjson.dumps(outcome.body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        *((name.lower().encode(), value.encode()) for name, value in outcome.headers.items()),
    ]
    if origin and origin in settings.CORS_ALLOWED_ORIGINS:
        headers += [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FastRouter:
    """ASGI app: the fast endpoints' POSTs here, every other request to ``fallback``."""

    def __init__(self, fallback, endpoints: list[FastEndpoint]):
        self.fallback = fallback
        self.endpoints = {endpoint.path: endpoint for endpoint in endpoints}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.endpoints.get(scope["path"])
            if endpoint is not None:
                await endpoint.serve(scope, receive, send)
                return
        await self.fallback(scope, receive, send)
