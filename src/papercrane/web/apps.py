from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "papercrane.web"
    label = "web"
