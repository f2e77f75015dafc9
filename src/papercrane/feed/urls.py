from django.urls import path

from papercrane.feed import views

app_name = "feed"

urlpatterns = [
    path("following", views.following, name="following"),
    path("nearby", views.nearby, name="nearby"),
    path("explore/feedback", views.feedback, name="feedback"),
    path("explore/topics", views.choose_topics, name="topics"),
]
