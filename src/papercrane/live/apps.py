from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "papercrane.live"
    label = "live"
