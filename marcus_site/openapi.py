"""Shared OpenAPI pieces: the error shapes of api.md, by status."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer("Error", {"detail": serializers.CharField()})

_DESCRIPTIONS = {
    400: 'Bad input: {"detail": ...} or {"field": ["message", ...]}',
    401: "No API key, or an unknown or revoked one",
    403: "The key or login may not do this",
    404: "Unknown id",
    409: "The action does not fit the current state",
    413: "The body is too large",
    415: "The body is not JSON",
    429: "Too many requests; see Retry-After",
    503: "A dependency (the database) is down; see Retry-After",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for the given error statuses."""
    responses = {}
    for status in statuses:
        # 400 bodies name fields as keys, so their shape is an open object.
        schema = OpenApiTypes.OBJECT if status == 400 else ErrorSerializer
        responses[status] = OpenApiResponse(schema, description=_DESCRIPTIONS[status])
    return responses


READ_ERRORS = (400, 401, 403, 503)
WRITE_ERRORS = (400, 401, 403, 415, 503)
