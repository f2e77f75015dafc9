from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "papercrane.moderation"
    label = "moderation"
