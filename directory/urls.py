"""Worldbook URL map: web pages, the REST API v1, WebFinger, OpenAPI docs, admin."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

# An unhandled exception under /api/ answers a problem document, elsewhere the 500 page.
handler500 = "directory.exceptions.server_error"
# So do a Host not served, too many fields, an unknown path and a refusal (directory.edge).
handler400 = "directory.edge.bad_request"
handler403 = "directory.edge.permission_denied"
handler404 = "directory.edge.page_not_found"

# The documentation pages are read-only; OPTIONS on them has no template to render.
READ_ONLY = ["get", "head"]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(http_method_names=READ_ONLY), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=READ_ONLY),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        # Redoc styles itself with <style> elements it makes at run time (no nonce).
        csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema", http_method_names=READ_ONLY)
        ),
        name="api-redoc",
    ),
    # OAuth2 for calling apps (authorize, token, revoke, introspect), and their developers.
    path("o/", include("accounts.calling_apps.oauth_urls")),
    path("account/apps/", include("accounts.calling_apps.urls")),
    # Passkey ceremonies, in the namespace django-otp-webauthn's script looks up.
    path("account/passkeys/", include("accounts.passkeys")),
    # Moderation: report pages, owners' notices and appeals (directory.moderation).
    path("", include("directory.moderation.urls")),
    path("account/", include("accounts.urls")),
    # The owner's pages for their own entries (directory.owner).
    path("account/", include("directory.owner.urls")),
    path("api/", include("directory.api.urls")),
    # The transparency log: its key and signed checkpoints (transparency).
    path("log/", include("transparency.urls")),
    # Sign-in and sign-out links of the browsable API.
    path("api-auth/", include("accounts.drf_urls")),
    path("account/", include("accounts.data_urls")),
    path("account/", include("accounts.contacts_urls")),
    # Proving handles (directory.verification): the owner's page.
    path("account/", include("directory.verification.urls")),
    # Phone numbers: the owner's numbers and contact discovery (directory.numbers).
    path("", include("directory.numbers.urls")),
    path("", include("search.urls")),
    path("", include("directory.web_urls")),
]
