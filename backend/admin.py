"""Telemetry batches in the admin: read-only, filtered by version, OS and period, with an
action that deletes every batch of the selected batches' installations."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from backend.models import TelemetryBatch
from backend.services import installation_delete
from marcus_site.admin_widgets import ReadOnlyAdmin, pretty_json


@admin.register(TelemetryBatch)
class TelemetryBatchAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "installation_id",
        "marcus_version",
        "os_type",
        "python_version",
        "period_start",
        "period_end",
    ]
    list_filter = ["marcus_version", "os_type", "period_start", "received_at"]
    search_fields = ["=installation_id"]
    date_hierarchy = "period_start"
    show_full_result_count = False
    list_per_page = 100
    actions = ["delete_installations"]
    fields = [
        "installation_id",
        "marcus_version",
        "python_version",
        "os_type",
        "period_start",
        "period_end",
        "received_at",
        "milestone_table",
        "raw_json",
    ]
    readonly_fields = fields

    @admin.display(description="milestones")
    def milestone_table(self, batch: TelemetryBatch) -> str:
        rows = batch.milestones.order_by("milestone_type")
        if not rows:
            return "none"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.milestone_type,
                    row.attempts,
                    row.completed,
                    row.failed,
                    f"{row.duration_total_seconds / row.completed:.3f}" if row.completed else "-",
                )
                for row in rows
            ),
        )
        return format_html(
            "<table><tr><th>type</th><th>attempts</th><th>completed</th><th>failed</th>"
            "<th>mean duration (s)</th></tr>{}</table>",
            body,
        )

    @admin.display(description="raw batch")
    def raw_json(self, batch: TelemetryBatch) -> str:
        return pretty_json(batch.raw)

    def has_installation_delete_permission(self, request) -> bool:
        return request.user.has_perm("backend.delete_telemetrybatch")

    @admin.action(
        description="Delete all data of the selected batches' installations",
        permissions=["installation_delete"],
    )
    def delete_installations(self, request, queryset):
        installations = sorted(
            set(queryset.order_by().values_list("installation_id", flat=True).distinct())
        )
        batches = rows = 0
        for installation_id in installations:
            deleted = installation_delete(installation_id=installation_id)
            batches += deleted.batches
            rows += deleted.milestone_rows
        self.message_user(
            request,
            f"Deleted {len(installations)} installation(s): {batches} batch(es) and "
            f"{rows} milestone row(s).",
            messages.SUCCESS,
        )
