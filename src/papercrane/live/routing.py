from django.urls import path

from papercrane.live.consumers import LiveRoomConsumer

websocket_urlpatterns = [path("ws/live/<str:room_id>/", LiveRoomConsumer.as_asgi())]
