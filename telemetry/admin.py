from django.contrib import admin

from marcus_site.admin_widgets import pretty_json
from telemetry.models import Milestone


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = [
        "milestone_name",
        "milestone_type",
        "status",
        "session_id",
        "started_at",
        "duration_seconds",
    ]
    list_filter = ["status", "milestone_type", "started_at"]
    search_fields = ["session_id", "milestone_name"]
    date_hierarchy = "started_at"
    show_full_result_count = False
    fields = [
        "id",
        "session_id",
        "milestone_name",
        "milestone_type",
        "status",
        "started_at",
        "ended_at",
        "duration_seconds",
        "metadata_json",
        "error_message",
    ]
    # Everything the server measured or sanitized is read-only; milestones change through the API.
    readonly_fields = [
        "id",
        "status",
        "started_at",
        "ended_at",
        "duration_seconds",
        "metadata_json",
        "error_message",
    ]

    @admin.display(description="metadata")
    def metadata_json(self, milestone: Milestone) -> str:
        return pretty_json(milestone.metadata)

    def has_add_permission(self, request) -> bool:
        return False
