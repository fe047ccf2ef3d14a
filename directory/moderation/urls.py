"""Moderation pages: reporting an entry, an owner's notices and appeals."""

from django.urls import path

from directory.moderation import views

app_name = "moderation"

urlpatterns = [
    path("moderation/report/@<str:handle>", views.report_page, name="report"),
    path("account/notices", views.notices_page, name="notices"),
    path("account/notices/<int:action_id>/appeal", views.appeal_view, name="appeal"),
]
