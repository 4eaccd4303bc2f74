"""``POST /api/cato/events/``: system events, served with group commit.

The events of all requests in a group are applied in the order the requests arrived, in one
transaction; if one request is refused (an unknown id, an impossible transition), the group is
retried request by request, so each gets its own answer, exactly as if applied alone.
"""

from typing import Any

from rest_framework.exceptions import ValidationError

from cato_api.services.system_events import system_event_groups_apply
from cato_api.validation import validate_system_events
from marcus_site.fast_endpoints import FastEndpoint, Outcome, parse_json, validation_error


class SystemEventsIngest(FastEndpoint):
    path = "/api/cato/events/"
    max_body_bytes = 10 * 1024 * 1024
    max_group_weight = 1000  # events per transaction

    def prepare(self, body: bytes, client) -> tuple[list[Any], bool]:
        try:
            return validate_system_events(parse_json(body))
        except ValidationError as error:
            raise validation_error(error) from None

    def weight(self, payload: tuple[list[Any], bool]) -> int:
        return len(payload[0])

    def write_group(self, payloads: list[tuple[list[Any], bool]]) -> list[tuple[list, bool]]:
        stored = system_event_groups_apply(groups=payloads)
        return [(events, batch) for events, (_, batch) in zip(stored, payloads, strict=True)]

    def respond(self, result: tuple[list[dict], bool]) -> Outcome:
        applied, batch = result
        if batch:
            return Outcome(201, {"applied": len(applied), "events": applied})
        return Outcome(201, applied[0])


SYSTEM_EVENTS_INGEST = SystemEventsIngest()
