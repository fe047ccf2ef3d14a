"""The calling app: django-oauth-toolkit's application, able to hold two grant types."""

from django.db import models
from oauth2_provider.models import AbstractApplication


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
