"""Request body limits: a 413 before the body is parsed."""

from rest_framework import status
from rest_framework.exceptions import APIException


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def enforce_body_limit(request, max_bytes: int) -> None:
    """Refuse a body over ``max_bytes`` by its Content-Length, before reading it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes:
        raise PayloadTooLarge(
            f"The request body is {length} bytes; the limit here is {max_bytes} bytes."
        )
