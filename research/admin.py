"""Research events in the admin: a read-only log with filters, search and export."""

import io

from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone

from marcus_site.admin_widgets import ReadOnlyAdmin, pretty_json
from research.export import csv_row, csv_writer, jsonl_line
from research.models import EVENT_FIELDS, ResearchEvent
from research.serializers import event_record


def _records(queryset) -> list[dict]:
    return [event_record(row) for row in queryset.order_by("-timestamp", "-feed_id").values()]


def _download(content: bytes, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="research-events-{stamp}.{extension}"'
    return response


@admin.register(ResearchEvent)
class ResearchEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["timestamp", "event_type", "agent_id", "task_id", "session_id"]
    list_filter = ["event_type", "agent_id", "timestamp"]
    search_fields = ["session_id", "agent_id", "task_id"]
    date_hierarchy = "timestamp"
    show_full_result_count = False
    list_per_page = 100
    actions = ["export_csv", "export_jsonl"]
    fields = [*EVENT_FIELDS[:-1], "event_data_json"]
    readonly_fields = fields

    @admin.display(description="event data")
    def event_data_json(self, event: ResearchEvent) -> str:
        return pretty_json(event.event_data)

    @admin.action(description="Export selected events as CSV")
    def export_csv(self, request, queryset):
        buffer = io.StringIO()
        writer = csv_writer(buffer)
        for record in _records(queryset):
            writer.writerow(csv_row(record))
        return _download(buffer.getvalue().encode(), "text/csv; charset=utf-8", "csv")

    @admin.action(description="Export selected events as JSON Lines")
    def export_jsonl(self, request, queryset):
        lines = b"".join(jsonl_line(record) for record in _records(queryset))
        return _download(lines, "application/x-ndjson", "jsonl")
