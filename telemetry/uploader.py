"""The opt-in uploader: this installation's anonymized figures of the last interval, sent as one
batch to the central telemetry backend (api.md, Uploader).

Off unless ``TELEMETRY_UPLOAD_ENABLED=true``; ``DO_NOT_TRACK=1`` always wins. The batch holds
counts and averages only, is checked with the same privacy module and schema as the backend
(a batch the backend would refuse is never sent), and is POSTed with retries: 429 (honouring
``Retry-After``), 5xx and connection errors are retried with exponential backoff; a 400 or 413
never is. The installation id (a hash of a random secret) and the last period sent are kept in
the data folder, so a second run in the same interval sends nothing new.
"""

import email.utils
import hashlib
import os
import platform
import re
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from django.conf import settings
from django.db.models import Avg, Count, Q
from django.db.models.fields.json import KT
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from backend.models import OsType
from backend.schemas import (
    ERROR_TYPE_PATTERN,
    FEATURE_PATTERN,
    MAX_CONTEXTS,
    MAX_ERROR_GROUPS,
    MAX_FEATURES,
    MAX_MILESTONE_TYPES,
    MAX_PERIOD,
)
from backend.validation import parse_batch
from cato_api.models import LiveEvent
from marcus_site.conf import marcus_setting
from marcus_site.timestamps import iso_utc
from research.models import ResearchEvent, ResearchEventType
from telemetry import privacy
from telemetry.models import Milestone, MilestoneStatus

SECRET_FILE = "telemetry_installation_secret"
STATE_FILE = "telemetry_upload_state.json"
CONTEXTS_PER_ERROR = 3
CONTEXT_CHARS = 200
_EXCEPTION_NAME = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception|Timeout|Exit|Interrupt|Failure))\b"
)

Say = Callable[[str], None]


class UploadRefused(Exception):
    """Nothing was sent; the message says why (a setting, the data, or the endpoint)."""


@dataclass(frozen=True)
class UploadConfig:
    enabled: bool
    do_not_track: bool
    endpoint: str
    interval: timedelta
    marcus_version: str
    max_attempts: int
    backoff_seconds: float
    max_wait_seconds: float
    timeout_seconds: float

    @classmethod
    def from_settings(cls) -> "UploadConfig":
        values = marcus_setting("TELEMETRY_UPLOAD")
        hours = values["INTERVAL_HOURS"]
        if not 1 <= hours <= MAX_PERIOD.total_seconds() // 3600:
            raise UploadRefused(f"TELEMETRY_UPLOAD_INTERVAL_HOURS must be 1..168, not {hours}.")
        return cls(
            enabled=values["ENABLED"],
            do_not_track=values["DO_NOT_TRACK"],
            endpoint=values["ENDPOINT"],
            interval=timedelta(hours=hours),
            marcus_version=values["MARCUS_VERSION"],
            max_attempts=max(1, values["MAX_ATTEMPTS"]),
            backoff_seconds=values["BACKOFF_SECONDS"],
            max_wait_seconds=values["MAX_WAIT_SECONDS"],
            timeout_seconds=values["TIMEOUT_SECONDS"],
        )


# --- what is kept between runs, in the data folder ---------------------------------------


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _id_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def installation_id(data_dir: Path) -> str:
    """16 hex digits of the SHA-256 of a random secret made once and kept in ``data_dir``."""
    path = data_dir / SECRET_FILE
    secret = path.read_text().strip() if path.exists() else ""
    # An id that happens to look like personal data (16 digits that pass as a card number)
    # would get every batch refused: draw another secret.
    while not secret or privacy.detect(_id_of(secret)):
        secret = secrets.token_hex(32)
        _write_private(path, secret + "\n")
    return _id_of(secret)


def last_period_end(data_dir: Path) -> datetime | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        return datetime.fromisoformat(orjson.loads(path.read_bytes())["period_end"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None  # unreadable: as if nothing had been sent


def remember_period(data_dir: Path, start: datetime, end: datetime) -> None:
    state = {"period_start": start.isoformat(), "period_end": end.isoformat()}
    _write_private(data_dir / STATE_FILE, orjson.dumps(state).decode() + "\n")


def period_to_send(
    *, now: datetime, interval: timedelta, last_end: datetime | None, force: bool
) -> tuple[datetime, datetime] | None:
    """The last interval, starting no earlier than the end of the last period sent; None when
    that period ended less than an interval ago (unless ``force``) or nothing is left."""
    start = now - interval
    if last_end is not None:
        if not force and now < last_end + interval:
            return None
        start = max(start, last_end)
    return (start, now) if start < now else None


# --- the batch ----------------------------------------------------------------------------


def os_type() -> str:
    if sys.platform.startswith("linux"):
        return OsType.LINUX
    if sys.platform == "darwin":
        return OsType.DARWIN
    if sys.platform in ("win32", "cygwin", "msys"):
        return OsType.WIN32
    raise UploadRefused(f"The backend knows linux, darwin and win32, not {sys.platform}.")


def _top(counts: dict, limit: int) -> dict:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


def _milestones(start: datetime, end: datetime) -> dict:
    completed = Q(status=MilestoneStatus.COMPLETED)
    rows = (
        Milestone.objects.filter(started_at__gte=start, started_at__lt=end)
        .values("milestone_type")
        .order_by("milestone_type")
        .annotate(
            attempts=Count("*"),
            completed=Count("pk", filter=completed),
            failed=Count("pk", filter=Q(status=MilestoneStatus.FAILED)),
            avg=Avg("duration_seconds", filter=completed),
        )
    )
    figures = {
        row["milestone_type"]: {
            "attempts": row["attempts"],
            "completed": row["completed"],
            "failed": row["failed"],
            "avg_duration_seconds": float(row["avg"] or 0.0),
        }
        for row in rows
    }
    kept = _top({name: f["attempts"] for name, f in figures.items()}, MAX_MILESTONE_TYPES)
    return {name: figures[name] for name in sorted(kept)}


def _feature_usage(start: datetime, end: datetime) -> dict:
    counts: dict[str, int] = {}
    for model in (ResearchEvent, LiveEvent):
        rows = (
            model.objects.filter(timestamp__gte=start, timestamp__lt=end)
            .values("event_type")
            .order_by()
            .annotate(n=Count("*"))
        )
        for row in rows:
            if re.fullmatch(FEATURE_PATTERN, row["event_type"]):
                counts[row["event_type"]] = counts.get(row["event_type"], 0) + row["n"]
    return dict(sorted(_top(counts, MAX_FEATURES).items()))


def _context(text: str) -> str:
    clean = " ".join(privacy.sanitize(text.replace("\x00", "")).split())
    return clean if len(clean) <= CONTEXT_CHARS else clean[: CONTEXT_CHARS - 1] + "…"


def _as_error_type(text: str | None, fallback: str) -> str:
    token = re.sub(r"[^A-Za-z0-9_.:-]+", "_", privacy.sanitize(text or "")).strip("_")[:100]
    if not re.fullmatch(ERROR_TYPE_PATTERN, token) or privacy.detect(token):
        return fallback
    return token


def _errors(start: datetime, end: datetime) -> list[dict]:
    """Failed milestones (by the exception name their message starts with) and research
    failure events (by failure type), with a few sanitized contexts each."""
    groups: dict[str, dict] = {}

    def add(error_type: str, count: int, context: str) -> None:
        group = groups.setdefault(error_type, {"count": 0, "contexts": {}})
        group["count"] += count
        group["contexts"][context] = group["contexts"].get(context, 0) + count

    failed = (
        Milestone.objects.filter(
            started_at__gte=start, started_at__lt=end, status=MilestoneStatus.FAILED
        )
        .values("milestone_type", "error_message")
        .order_by()
        .annotate(n=Count("*"))
    )
    for row in failed:
        match = _EXCEPTION_NAME.match(row["error_message"])
        error_type = _as_error_type(match and match.group(1), "MilestoneFailed")
        add(error_type, row["n"], _context(f"{row['milestone_type']}: {row['error_message']}"))
    failures = (
        ResearchEvent.objects.filter(
            timestamp__gte=start, timestamp__lt=end, event_type=ResearchEventType.FAILURE_EVENT
        )
        .values(
            failure_type=KT("event_data__failure_type"),
            component=KT("event_data__component"),
            message=KT("event_data__error_message"),
        )
        .order_by()
        .annotate(n=Count("*"))
    )
    for row in failures:
        error_type = _as_error_type(row["failure_type"], "FailureEvent")
        add(error_type, row["n"], _context(f"{row['component']}: {row['message']}"))
    errors = [
        {
            "error_type": error_type,
            "count": group["count"],
            "contexts": list(_top(group["contexts"], min(CONTEXTS_PER_ERROR, MAX_CONTEXTS))),
        }
        for error_type, group in groups.items()
    ]
    errors.sort(key=lambda error: (-error["count"], error["error_type"]))
    return errors[:MAX_ERROR_GROUPS]


def build_batch(
    *, installation: str, marcus_version: str, period_start: datetime, period_end: datetime
) -> dict:
    """The batch of api.md from the local milestones, research and live events of a period."""
    return {
        "installation_id": installation,
        "marcus_version": marcus_version,
        "python_version": platform.python_version(),
        "os_type": os_type(),
        "period_start": iso_utc(period_start),
        "period_end": iso_utc(period_end),
        "milestones": _milestones(period_start, period_end),
        "feature_usage": _feature_usage(period_start, period_end),
        "errors": _errors(period_start, period_end),
    }


def check_batch(batch: dict) -> None:
    """Refuse what the backend would refuse: personal data anywhere, then any field."""
    finding = privacy.first_finding(batch)
    if finding is not None:
        raise UploadRefused(f"The batch would be rejected: {finding}. Nothing was sent.")
    try:
        parse_batch(batch)
    except ValidationError as error:
        raise UploadRefused(
            f"The batch does not fit the backend's schema: {error.detail}. Nothing was sent."
        ) from None


# --- sending ------------------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def send_batch(
    body: bytes, config: UploadConfig, *, say: Say, sleep: Callable[[float], None] = time.sleep
) -> dict:
    """POST the batch; the backend's answer. Retries 429, 5xx and connection errors."""
    headers = {"Content-Type": "application/json", "User-Agent": "marcus-telemetry-uploader"}
    with httpx.Client(timeout=config.timeout_seconds) as client:
        for attempt in range(1, config.max_attempts + 1):
            backoff = min(config.backoff_seconds * 2 ** (attempt - 1), config.max_wait_seconds)
            try:
                response = client.post(config.endpoint, content=body, headers=headers)
            except httpx.TransportError as exc:
                reason, wait = f"the endpoint could not be reached ({type(exc).__name__})", backoff
            else:
                if response.is_success:
                    try:
                        return response.json()
                    except ValueError:
                        return {}
                if response.status_code == 429:
                    reason = "the endpoint said 429 Too Many Requests"
                    retry_after = _retry_after(response)
                    wait = backoff if retry_after is None else retry_after
                elif response.status_code >= 500:
                    reason, wait = f"the endpoint answered {response.status_code}", backoff
                else:
                    raise UploadRefused(
                        f"The endpoint refused the batch ({response.status_code}: "
                        f"{response.text[:300]}); not retried."
                    )
            if attempt == config.max_attempts:
                raise UploadRefused(f"Gave up after {attempt} attempts: {reason}.")
            wait = min(wait, config.max_wait_seconds)
            next_try = f"attempt {attempt + 1} of {config.max_attempts}"
            say(f"{reason}; retrying in {wait:g} s ({next_try}).")
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


# --- one run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadOutcome:
    message: str
    batch_json: str | None = None  # what was (or, on a dry run, would have been) sent


def telemetry_upload(
    *,
    dry_run: bool = False,
    force: bool = False,
    say: Say = print,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> UploadOutcome:
    """Build, check and send this installation's batch of the last interval (see module doc).

    Raises ``UploadRefused`` when something stops it from sending what it should.
    """
    config = UploadConfig.from_settings()
    if config.do_not_track:
        return UploadOutcome("DO_NOT_TRACK is set, and it always wins: nothing was sent.")
    if not config.enabled:
        return UploadOutcome(
            "Telemetry upload is off: set TELEMETRY_UPLOAD_ENABLED=true to opt in (add "
            "--dry-run to see the batch without sending it). Nothing was sent."
        )
    if not dry_run and not re.match(r"^https?://[^\s/]+", config.endpoint):
        raise UploadRefused(
            "TELEMETRY_ENDPOINT must be the http(s) URL of the backend's /v1/telemetry/batch; "
            f"it is {config.endpoint!r}."
        )
    data_dir = Path(settings.DATA_DIR)
    now = (now or timezone.now()).astimezone(UTC)
    last_end = last_period_end(data_dir)
    period = period_to_send(now=now, interval=config.interval, last_end=last_end, force=force)
    if period is None:
        due = iso_utc(last_end + config.interval) if last_end else iso_utc(now)
        return UploadOutcome(
            f"Nothing new to send: the last batch covered up to {iso_utc(last_end or now)}; "
            f"the next is due after {due} (--force sends the time since then now)."
        )
    start, end = period
    batch = build_batch(
        installation=installation_id(data_dir),
        marcus_version=config.marcus_version,
        period_start=start,
        period_end=end,
    )
    check_batch(batch)
    body = orjson.dumps(batch)
    if dry_run:
        return UploadOutcome("Dry run: nothing was sent.", body.decode())
    answer = send_batch(body, config, say=say, sleep=sleep)
    remember_period(data_dir, start, end)
    stored = "already stored (a duplicate)" if answer.get("duplicate") else "received"
    return UploadOutcome(
        f"Sent the batch for {iso_utc(start)} to {iso_utc(end)}: {stored}.", body.decode()
    )
