from django.apps import AppConfig


class FeedConfig(AppConfig):
    name = "papercrane.feed"
    label = "feed"
