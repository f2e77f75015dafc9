from django.urls import path

from papercrane.feed import views as feed_views
from papercrane.notifications import views as notification_views
from papercrane.web import views

app_name = "web"

urlpatterns = [
    path("", feed_views.explore, name="home"),
    path("notifications", notification_views.notifications, name="notifications"),
    path(
        "notifications/requests/<str:username>/approve",
        views.approve_follow_request,
        name="approve_follow_request",
    ),
    path(
        "notifications/requests/<str:username>/decline",
        views.decline_follow_request,
        name="decline_follow_request",
    ),
    path("signup", views.signup, name="signup"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("language", views.set_language, name="set_language"),
    path("settings", views.settings_profile, name="settings"),
    path("settings/tokens", views.settings_tokens, name="tokens"),
    path("@<str:username>", views.profile, name="profile"),
    path("@<str:username>/follow", views.follow_toggle, name="follow"),
    path("@<str:username>/mute", views.mute_toggle, name="mute"),
    path("@<str:username>/block", views.block_toggle, name="block"),
]
