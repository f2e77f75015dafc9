from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "papercrane.notes"
    label = "notes"
