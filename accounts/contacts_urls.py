"""Address book and contact policy pages, mounted at ``/account/``."""

from django.urls import path

from accounts import contacts_views

app_name = "contacts"

urlpatterns = [
    path("contacts", contacts_views.contacts_page, name="list"),
    path("contacts/save", contacts_views.contact_save_view, name="save"),
    path("contacts/import", contacts_views.contacts_import_view, name="import"),
    path("contacts/<str:handle>/remove", contacts_views.contact_remove_view, name="remove"),
    path("entries/<str:handle>/policy", contacts_views.entry_policy_page, name="policy"),
]
