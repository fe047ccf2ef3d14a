"""HTTP Basic authentication for the API that cannot get around a second factor."""

from __future__ import annotations

from django_otp import user_has_device
from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication


class PasswordOnlyBasicAuthentication(BasicAuthentication):
    """HTTP Basic (RFC 7617) for accounts that sign in with a password alone.

    An account with a confirmed second factor is refused here: a password sent in a
    header would otherwise skip the factor the person chose. Such accounts use the API
    through a web session or an app they authorized with OAuth2. Raises
    ``AuthenticationFailed`` (401 problem document) for them.
    """

    def authenticate_credentials(self, userid, password, request=None):
        user, auth = super().authenticate_credentials(userid, password, request)
        if user_has_device(user, confirmed=True):
            raise exceptions.AuthenticationFailed(
                "This account has a second factor, so the API does not take its password "
                "alone: use a signed-in web session or an app you authorized (OAuth2)."
            )
        return user, auth


class PasswordOnlyBasicScheme(BasicScheme):
    """Describes :class:`PasswordOnlyBasicAuthentication` in the OpenAPI schema."""

    target_class = "accounts.authentication.PasswordOnlyBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        definition = super().get_security_definition(auto_schema)
        definition["description"] = (
            "HTTP Basic, for accounts without a second factor; the others use a web "
            "session or OAuth2."
        )
        return definition
