"""``POST /v1/telemetry/batch``: public, served straight from ASGI with group commit.

Installations have no accounts, so the endpoint is protected by a per-client rate limit (before
the body is read), a 1 MB body limit (before it is parsed), the privacy check and the schema.
"""

from rest_framework.exceptions import ValidationError

from backend.rate_limit import rate_limit_hit, rate_limit_hit_async
from backend.services import StoreResult, telemetry_batch_store
from backend.validation import ValidBatch, validate_batch
from marcus_site.conf import marcus_setting
from marcus_site.fast_endpoints import (
    ApiError,
    FastEndpoint,
    Outcome,
    parse_json,
    validation_error,
)
from marcus_site.timestamps import iso_utc

RECEIVED = "Telemetry received"


def _counted(client) -> dict:
    return {
        "scope": "telemetry-batch",
        "client_address": client[0] if client else "",
        "rate": marcus_setting("TELEMETRY_RATE_LIMIT"),
    }


def _refuse_if_waiting(wait: int | None) -> None:
    if wait is not None:
        raise ApiError(
            429,
            {"detail": f"Too many telemetry batches; try again in {wait} seconds."},
            {"Retry-After": str(wait)},
        )


class TelemetryBatchIngest(FastEndpoint):
    path = "/v1/telemetry/batch"
    max_body_bytes = 1024 * 1024
    requires_key = False
    max_group_weight = 5000  # batches plus their milestone rows per transaction

    def before_body(self, client) -> None:
        _refuse_if_waiting(rate_limit_hit(**_counted(client)))

    async def before_body_async(self, client) -> None:
        _refuse_if_waiting(await rate_limit_hit_async(**_counted(client)))

    def prepare(self, body: bytes, client) -> ValidBatch:
        try:
            return validate_batch(parse_json(body))
        except ValidationError as error:
            raise validation_error(error) from None

    def weight(self, payload: ValidBatch) -> int:
        return 1 + len(payload.milestones)

    def write_group(self, payloads: list[ValidBatch]) -> list[StoreResult]:
        return telemetry_batch_store(batches=payloads)

    def respond(self, result: StoreResult) -> Outcome:
        return Outcome(
            200,
            {
                "success": True,
                "message": RECEIVED,
                "received_at": iso_utc(result.received_at),
                "duplicate": result.duplicate,
            },
        )


TELEMETRY_BATCH_INGEST = TelemetryBatchIngest()
