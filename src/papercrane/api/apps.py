from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "papercrane.api"
    label = "api"
