from django.urls import path

from papercrane.privacy import views

app_name = "privacy"

urlpatterns = [
    path("me/data", views.my_data, name="my_data"),
    path("me/data/export", views.request_export, name="request_export"),
    path("me/data/exports/<str:export_id>", views.download_export, name="download_export"),
    path("me/data/delete", views.delete_account, name="delete_account"),
    path("me/data/delete/cancel", views.cancel_deletion, name="cancel_deletion"),
    path("settings/sessions", views.sessions, name="sessions"),
    path("settings/sessions/others/end", views.end_other_sessions, name="end_other_sessions"),
    path("settings/sessions/<str:sign_in_id>/end", views.end_session, name="end_session"),
    path("privacy", views.privacy_policy, name="policy"),
    path("terms", views.terms, name="terms"),
]
