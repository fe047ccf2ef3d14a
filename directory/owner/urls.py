"""URLs of the owner pages, mounted at ``/account/`` (namespace ``owner``)."""

from django.urls import path

from directory.owner import views

app_name = "owner"

urlpatterns = [
    path("my-entry", views.my_entry, name="mine"),
]
