"""``POST /api/research/events/``: the research ingest endpoint, served with group commit."""

from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from marcus_site.fast_endpoints import FastEndpoint, Outcome, parse_json, validation_error
from research.services import LogResult, research_events_log
from research.validation import ValidEvent, validate_body


class ResearchIngest(FastEndpoint):
    path = "/api/research/events/"
    max_body_bytes = 10 * 1024 * 1024
    max_group_weight = 2000  # events per transaction

    def prepare(self, body: bytes, client) -> list[ValidEvent]:
        try:
            return validate_body(parse_json(body))
        except ValidationError as error:
            raise validation_error(error) from None

    def weight(self, payload: list[ValidEvent]) -> int:
        return len(payload)

    def write_group(self, payloads: list[list[ValidEvent]]) -> list[LogResult]:
        if len(payloads) == 1:
            return [research_events_log(events=payloads[0])]
        with transaction.atomic():
            combined = research_events_log(events=[e for events in payloads for e in events])
        return combined.split([len(events) for events in payloads])

    def respond(self, result: LogResult) -> Outcome:
        body: dict[str, Any] = {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "event_ids": result.event_ids,
        }
        return Outcome(201, body)


RESEARCH_INGEST = ResearchIngest()
