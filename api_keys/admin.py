from django.contrib import admin, messages
from django.template.response import TemplateResponse

from api_keys.models import ApiKey
from api_keys.services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "is_admin", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["is_admin", ("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "is_admin"]
        return ["name", "is_admin", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A key's rights are fixed when it is issued; issue a new key to change them.
        return ["is_admin", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = api_key_create(name=obj.name, is_admin=obj.is_admin)
        obj.pk = issued.api_key.pk
        obj.__dict__.update(issued.api_key.__dict__)
        # Kept on the request only, to be rendered once by response_add; never stored.
        request._issued_raw_key = issued.raw_key

    def response_add(self, request, obj, post_url_continue=None):
        raw_key = getattr(request, "_issued_raw_key", None)
        if raw_key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "api_key": obj,
            "raw_key": raw_key,
            "title": "API key created",
        }
        response = TemplateResponse(request, "admin/api_keys/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected API keys")
    def revoke_keys(self, request, queryset):
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=api_key)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)
