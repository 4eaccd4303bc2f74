from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "api_keys"
    verbose_name = "API keys"

    def ready(self) -> None:
        from api_keys import schema  # noqa: F401 - registers the OpenAPI security scheme
