"""Errors in the shape of api.md: ``{"detail": ...}`` with the status that fits, never a 500 for
input, and 503 when a dependency (the database) is down."""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from marcus_site.domain import Conflict, Invalid, NotFound, Unavailable

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly."
RETRY_AFTER_SECONDS = "5"

# Raised when the server cannot reach or use its database (refused, timed out, locked).
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


def _log_unavailable(exc: Exception) -> None:
    # The class name is enough to diagnose; messages can carry connection details.
    logger.warning("database unavailable: %s", type(exc).__name__)


def domain_error_answer(exc: Exception) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) for a service's DomainError; None for anything else."""
    if isinstance(exc, NotFound):
        return status.HTTP_404_NOT_FOUND, {"detail": str(exc)}, {}
    if isinstance(exc, Conflict):
        return status.HTTP_409_CONFLICT, {"detail": str(exc)}, {}
    if isinstance(exc, Unavailable):
        retry = {"Retry-After": RETRY_AFTER_SECONDS}
        return status.HTTP_503_SERVICE_UNAVAILABLE, {"detail": str(exc)}, retry
    if isinstance(exc, Invalid):
        body = {exc.field: [str(exc)]} if exc.field else {"detail": str(exc)}
        return status.HTTP_400_BAD_REQUEST, body, {}
    return None


def _domain_response(exc: Exception) -> Response | None:
    answer = domain_error_answer(exc)
    if answer is None:
        return None
    code, body, headers = answer
    return Response(body, status=code, headers=headers)


def api_exception_handler(exc, context):
    response = _domain_response(exc) or exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, UNAVAILABLE_ERRORS):
        _log_unavailable(exc)
        return Response(
            {"detail": DATABASE_UNAVAILABLE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    return None


class DatabaseUnavailableMiddleware:
    """The same 503 for views outside Django REST framework (admin, health, pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UNAVAILABLE_ERRORS):
            _log_unavailable(exception)
            response = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
            response["Retry-After"] = RETRY_AFTER_SECONDS
            return response
        return None


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/v1/", "/health"))


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)
