"""Developer pages for calling apps, mounted at ``/account/apps``."""

from django.urls import path

from accounts.calling_apps import views

app_name = "calling_apps"

urlpatterns = [
    path("", views.app_list, name="list"),
    path("new", views.app_register_page, name="register"),
    path("<int:pk>", views.app_detail, name="detail"),
    path("<int:pk>/delete", views.app_delete_page, name="delete"),
    path("authorized/<int:pk>/revoke", views.authorization_revoke_page, name="revoke"),
]
