"""Admin display helpers shared by the apps."""

import json

from django.utils.html import format_html


def pretty_json(value) -> str:
    """A JSON value as indented, escaped text for a read-only admin field."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre style="white-space: pre-wrap; margin: 0;">{}</pre>', text)


class ReadOnlyAdmin:
    """For a ModelAdmin of rows that record what happened (a log, a received batch): they are
    looked at, filtered and exported, never added or edited by hand. Deleting, where allowed,
    goes through an action of the admin."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
