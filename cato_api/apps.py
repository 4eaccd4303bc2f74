from django.apps import AppConfig


class CatoApiConfig(AppConfig):
    name = "cato_api"
    verbose_name = "CATO dashboard API"
