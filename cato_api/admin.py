"""The observed system and the live-event log in the admin."""

from django.contrib import admin

from cato_api.models import (
    Agent,
    AgentTaskRecord,
    Feature,
    LiveEvent,
    Project,
    Task,
    TaskDependency,
)
from marcus_site.admin_widgets import pretty_json


class DependencyInline(admin.TabularInline):
    model = TaskDependency
    fk_name = "task"
    extra = 0
    autocomplete_fields = ["depends_on"]
    verbose_name = "dependency"
    verbose_name_plural = "depends on"


class AgentRecordInline(admin.TabularInline):
    model = AgentTaskRecord
    extra = 0
    fields = ["task", "outcome", "finished_at"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-finished_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "role", "status", "current_task", "updated_at"]
    list_filter = ["status", "role"]
    search_fields = ["id", "name", "role"]
    readonly_fields = ["registered_at", "updated_at"]
    autocomplete_fields = ["current_task"]
    inlines = [AgentRecordInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "created_at"]
    search_fields = ["id", "name"]
    date_hierarchy = "created_at"


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "project", "created_at"]
    list_filter = ["project"]
    search_fields = ["id", "name", "project__name"]
    autocomplete_fields = ["project"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "status", "priority", "assigned_to", "feature", "progress"]
    list_filter = ["status", "priority", "project", "feature"]
    search_fields = ["id", "name", "assigned_to__id", "assigned_to__name"]
    autocomplete_fields = ["project", "feature", "assigned_to"]
    readonly_fields = ["created_at", "updated_at", "completed_at"]
    inlines = [DependencyInline]
    list_select_related = ["assigned_to", "feature"]


@admin.register(LiveEvent)
class LiveEventAdmin(admin.ModelAdmin):
    """The log of system and milestone events (research events are in their own log)."""

    list_display = ["id", "event_type", "timestamp"]
    list_filter = ["event_type", "timestamp"]
    search_fields = ["event_type", "id"]
    date_hierarchy = "timestamp"
    show_full_result_count = False
    fields = ["id", "event_type", "timestamp", "event_data_json", "metadata_json"]
    readonly_fields = fields

    @admin.display(description="event data")
    def event_data_json(self, event: LiveEvent) -> str:
        return pretty_json(event.event_data)

    @admin.display(description="metadata")
    def metadata_json(self, event: LiveEvent) -> str:
        return pretty_json(event.metadata)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
