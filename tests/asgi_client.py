"""Requests through the project's real ASGI application (marcus_site.routing), in-process."""

from dataclasses import dataclass
from urllib.parse import urlencode

from asgiref.testing import ApplicationCommunicator

from marcus_site.routing import build_application

_application = None


def application():
    global _application
    if _application is None:
        _application = build_application()
    return _application


@dataclass
class AsgiResponse:
    status: int
    headers: dict[bytes, bytes]
    chunks: list[bytes]

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


async def asgi_request(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    query: dict | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> AsgiResponse:
    header_list = [
        (b"host", b"127.0.0.1"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query or {}, doseq=True).encode(),
        "headers": header_list,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
    }
    communicator = ApplicationCommunicator(application(), scope)
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(timeout)
    chunks = []
    while True:
        message = await communicator.receive_output(timeout)
        if message.get("body"):
            chunks.append(message["body"])
        if not message.get("more_body"):
            break
    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(timeout)
    return AsgiResponse(start["status"], dict(start["headers"]), chunks)
