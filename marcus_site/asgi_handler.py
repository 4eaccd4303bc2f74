"""Django's ASGI handler, tuned so that a request costs one hand-off to the sync thread.

A hand-off between the event loop and a worker thread costs about 0.28 ms on this project's
machines (docs/benchmarks.md). Django's own handler makes many per request: one per
``MiddlewareMixin`` hook in async mode, one each for the request_started and request_finished
signals and for closing the response, and it starts and joins a new thread per request
(``ThreadSensitiveContext``). A 404 took 3.4 ms instead of 0.5 ms under WSGI.

Here everything synchronous about a request (signals, the middleware chain built in sync mode,
the view, closing the response) runs in one hand-off, on the process's one long-lived sync
thread, which keeps its database connection. Sync views of one process then run one at a time,
as they do anyway under the GIL. Async views still work (the chain runs them with
``async_to_sync``); streaming responses are sent from the event loop and stop when the client
disconnects, as in Django.
"""

import asyncio
import contextlib

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase, JsonResponse
from django.urls import set_script_prefix


def _declared_length(scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _too_large() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return JsonResponse(
        {"detail": f"The request body is larger than the server's limit of {limit} bytes."},
        status=413,
    )


class SingleHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send) -> None:
        if _declared_length(scope) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            # Refused before a byte of the body is read or buffered.
            await self.send_response(_too_large(), send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(
                scope, body_file, send
            )
            if response.streaming:
                await self._send_streaming(response, receive, send)
                await sync_to_async(response.close, thread_sensitive=True)()
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope, body_file, send) -> HttpResponseBase:
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            response = error_response
        else:
            # A streaming view can watch its client's backlog (cato_api.feed.Congestion).
            request.asgi_send = send
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # The body is rendered: closing now (request_finished, connection clean-up) saves
            # a second hand-off after sending.
            response.close()
        return response

    async def _send_streaming(self, response: HttpResponseBase, receive, send) -> None:
        sending = asyncio.create_task(self.send_response(response, send))
        listening = asyncio.create_task(self.listen_for_disconnect(receive))
        await asyncio.wait([sending, listening], return_when=asyncio.FIRST_COMPLETED)
        for task in (listening, sending):
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RequestAborted):
                await task
