from django.urls import path

from papercrane.notes import views

app_name = "notes"

urlpatterns = [
    path("post", views.compose, name="compose"),
    path("notes/<int:note_id>", views.detail, name="detail"),
    path("notes/<int:note_id>/edit", views.edit, name="edit"),
    path("notes/<int:note_id>/delete", views.delete, name="delete"),
    path("topics/<str:name>", views.topic, name="topic"),
]
