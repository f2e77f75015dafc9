from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "papercrane.search"
    label = "search"
