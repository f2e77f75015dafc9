from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "papercrane.accounts"
    label = "accounts"
