from django.urls import path

from papercrane.live import views

app_name = "live"

urlpatterns = [
    path("live", views.index, name="index"),
    path("live/new", views.create, name="create"),
    path("live/<str:room_id>", views.room, name="room"),
    path("live/<str:room_id>/start", views.start, name="start"),
    path("live/<str:room_id>/end", views.end, name="end"),
    path("live/<str:room_id>/settings", views.update, name="update"),
    path("live/<str:room_id>/cohosts", views.invite, name="invite"),
    path("live/<str:room_id>/cohosts/<str:username>/remove", views.remove_cohost, name="remove"),
    path("live/<str:room_id>/invitation", views.answer, name="answer"),
    path("live/<str:room_id>/restrictions/<str:username>/lift", views.lift, name="lift"),
    path(
        "live/<str:room_id>/messages/<str:message_id>/<str:action>",
        views.message_action,
        name="message_action",
    ),
]
