from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "papercrane.media"
    label = "media"
