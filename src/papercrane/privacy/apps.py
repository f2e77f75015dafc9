from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "papercrane.privacy"
    label = "privacy"
