from django.urls import path

from papercrane.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("search", views.search, name="search"),
    path("notifications", views.notifications, name="notifications"),
    path("signup", views.signup, name="signup"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("language", views.set_language, name="set_language"),
    path("settings", views.settings_profile, name="settings"),
    path("settings/tokens", views.settings_tokens, name="tokens"),
    path("@<str:username>", views.profile, name="profile"),
    path("@<str:username>/follow", views.follow_toggle, name="follow"),
]
