"""URL map of the REST API, mounted at ``/api/``; versioned in the path (``/api/v1/``)."""

from django.urls import include, path, re_path

from accounts import data_api
from directory.api import views
from directory.moderation.api import ReportApi

app_name = "api"

v1 = [
    path("resolve", views.ResolveApi.as_view(), name="resolve"),
    path("search", views.SearchApi.as_view(), name="search"),
    path("entries", views.EntryCreateApi.as_view(), name="entries"),
    path("entries/<str:handle>", views.EntryApi.as_view(), name="entry"),
    path("entries/<str:handle>/handles", views.HandlesApi.as_view(), name="entry-handles"),
    path(
        "entries/<str:handle>/handles/<int:handle_id>",
        views.HandleRemoveApi.as_view(),
        name="entry-handle",
    ),
    path("entries/<str:handle>/endpoints", views.EndpointsApi.as_view(), name="entry-endpoints"),
    path(
        "entries/<str:handle>/endpoints/<int:endpoint_id>",
        views.EndpointApi.as_view(),
        name="entry-endpoint",
    ),
    path("me", data_api.MeApi.as_view(), name="me"),
    path("me/export", data_api.MeExportApi.as_view(), name="me-export"),
    path("me/export.vcf", data_api.MeExportVcardApi.as_view(), name="me-export-vcard"),
    path("", include("accounts.contacts_api_urls")),
    # Handle verification (directory.verification): start, check now, email code, evidence.
    path("", include("directory.verification.api_urls")),
    # Phone numbers: lookup, discovery, the owner's numbers (directory.numbers).
    path("", include("directory.numbers.api_urls")),
    # Moderation: reports (directory.moderation).
    path("reports", ReportApi.as_view(), name="reports"),
]

urlpatterns = [
    re_path(r"^(?P<version>v1)/", include(v1)),
    # Last: any other path under /api/ answers with a problem document, not HTML.
    re_path(r"", views.ApiNotFound.as_view(), name="not-found"),
]
