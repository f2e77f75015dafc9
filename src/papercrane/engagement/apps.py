from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "papercrane.engagement"
    label = "engagement"
