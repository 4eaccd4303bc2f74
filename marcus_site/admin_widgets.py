"""Admin display helpers shared by the apps."""

import json

from django.utils.html import format_html


def pretty_json(value) -> str:
    """A JSON value as indented, escaped text for a read-only admin field."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return format_html('<pre style="white-space: pre-wrap; margin: 0;">{}</pre>', text)
