from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "papercrane.notifications"
    label = "notifications"
