"""API routes of the address book, included in ``directory.api.urls`` under ``/api/v1/``."""

from django.urls import path

from accounts.contacts_api import ContactApi, ContactImportApi, ContactsApi

urlpatterns = [
    path("contacts", ContactsApi.as_view(), name="contacts"),
    # Before the handle route, so "import" reaches the import operation; an entry whose
    # handle is "import" is removed as /contacts/@import.
    path("contacts/import", ContactImportApi.as_view(), name="contacts-import"),
    path("contacts/<str:handle>", ContactApi.as_view(), name="contact"),
]
