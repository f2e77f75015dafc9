from django.apps import AppConfig


class LanguageConfig(AppConfig):
    name = "papercrane.language"
    label = "language"
