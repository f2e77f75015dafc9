from django.urls import path

from papercrane.moderation import views

app_name = "moderation"

urlpatterns = [
    path("rules", views.rules, name="rules"),
    path("report/<str:target_type>/<str:target_id>", views.report, name="report"),
    path("me/reports", views.my_reports, name="my_reports"),
    path("me/decisions", views.my_decisions, name="my_decisions"),
    path("decisions/<int:decision_id>/appeal", views.appeal, name="appeal"),
    path("moderation/", views.queue, name="queue"),
    path("moderation/cases/<int:case_id>", views.case, name="case"),
    path("moderation/appeals", views.appeals, name="appeals"),
    path(
        "moderation/appeals/<int:appeal_id>/decision",
        views.decide_appeal,
        name="decide_appeal",
    ),
    path("moderation/audit", views.audit, name="audit"),
    path("transparency", views.transparency, name="transparency"),
]
