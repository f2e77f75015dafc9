from django.urls import path

from papercrane.search import views

app_name = "search"

urlpatterns = [
    path("search", views.search, name="search"),
    path("search/suggest", views.suggest, name="suggest"),
    path("search/history/clear", views.clear_history, name="clear_history"),
    path("search/history/keep", views.keep_history, name="keep_history"),
]
