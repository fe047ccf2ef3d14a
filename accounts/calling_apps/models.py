"""The calling app: django-oauth-toolkit's application, able to hold two grant types."""

import ipaddress
from urllib.parse import urlsplit

from django.db import models
from oauth2_provider.models import AbstractApplication


def redirect_uri_protected(uri: str) -> bool:
    """Whether ``uri`` may receive authorization codes: any scheme but ``http``, or ``http``
    to a loopback host only (RFC 8252 §7.3; RFC 9700 §2.1 forbids plain http elsewhere).
    Whether the scheme itself is allowed is django-oauth-toolkit's check."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "http":
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CallingApp(AbstractApplication):
    """An API client a developer registered (``OAUTH2_PROVIDER_APPLICATION_MODEL``).

    django-oauth-toolkit gives an application one grant type. A calling app often needs
    two: app-level lookups with client credentials (RFC 6749 §4.4) and acting for a person
    with an authorization code (§4.1). ``authorization_grant_type`` holds the main one and
    ``client_credentials`` says whether the app may also use client credentials, which
    only a confidential client can (§2.1: a public client cannot keep a secret).
    """

    client_credentials = models.BooleanField(
        "also client credentials",
        default=False,
        help_text="The app may also get app-level tokens with its client id and secret.",
    )

    def natural_key(self) -> tuple[str]:
        return (self.client_id,)

    def get_allowed_schemes(self) -> list[str]:
        """The redirect URI schemes this app may use (django-oauth-toolkit asks at
        registration and at every authorization): the configured ones (https), and plain
        http too when every http redirect URI of the app points at this device (RFC 8252
        §7.3 loopback redirects of native apps; RFC 9700 §2.1 refuses http elsewhere)."""
        allowed = list(super().get_allowed_schemes())
        uris = self.redirect_uris.split()
        if "http" not in allowed and uris and all(redirect_uri_protected(u) for u in uris):
            allowed.append("http")
        return allowed

    def allows_grant_type(self, *grant_types: str) -> bool:
        """Whether the app may use any of ``grant_types`` (django-oauth-toolkit values,
        ``"authorization-code"``, ``"client-credentials"``…)."""
        if (
            self.client_credentials
            and self.client_type == self.CLIENT_CONFIDENTIAL
            and self.GRANT_CLIENT_CREDENTIALS in grant_types
        ):
            return True
        return super().allows_grant_type(*grant_types)

    @property
    def grant_types(self) -> list[str]:
        """The grant types the app may use, as django-oauth-toolkit names them."""
        kinds = [self.authorization_grant_type]
        if self.GRANT_CLIENT_CREDENTIALS not in kinds and self.allows_grant_type(
            self.GRANT_CLIENT_CREDENTIALS
        ):
            kinds.append(self.GRANT_CLIENT_CREDENTIALS)
        return kinds
