from django.urls import path

from papercrane.language import views

app_name = "language"
urlpatterns = [
    path(
        "comments/<int:comment_id>/translation",
        views.comment_translation,
        name="comment_translation",
    ),
]
