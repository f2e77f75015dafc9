from django.urls import path

from papercrane.notifications.consumers import MemberEventsConsumer

websocket_urlpatterns = [path("ws/me/", MemberEventsConsumer.as_asgi())]
