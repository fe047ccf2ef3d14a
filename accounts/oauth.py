"""Calling apps on the REST API: OAuth2 bearer authentication and scope checks.

A request with ``Authorization: Bearer <token>`` (RFC 6750 §2.1) is authenticated by
django-oauth-toolkit. A client-credentials token has no user, so its caller is
anonymous to the contact policy; an authorization-code token acts for its user. Scopes
bind only bearer callers: a person signed in with a session or Basic credentials is not
limited by them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from oauth2_provider.contrib.rest_framework import OAuth2Authentication as _DotAuthentication
from oauth2_provider.contrib.rest_framework import TokenHasScope
from oauth2_provider.www_authenticate import build_bearer_challenge
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import SAFE_METHODS

SCOPE_LOOKUP = "lookup"
SCOPE_CONTACTS_READ = "contacts:read"
SCOPE_ENTRY_WRITE = "entry:write"


def bearer_given(request) -> bool:
    """Whether the request carries an ``Authorization: Bearer`` header (RFC 6750 §2.1)."""
    scheme, _, _ = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer"


def is_bearer_request(request) -> bool:
    """Whether a DRF ``request`` was authenticated by an OAuth2 access token."""
    return isinstance(request.successful_authenticator, _DotAuthentication)


class OAuth2Authentication(_DotAuthentication):
    """django-oauth-toolkit's bearer authentication, with three differences.

    - A token without a user (client credentials, RFC 6749 §4.4) gives ``request.user``
      an ``AnonymousUser``, never ``None``, so every check treats the app as anonymous.
    - A bearer token that is unknown, expired or revoked is refused with 401
      (RFC 6750 §3.1 ``invalid_token``) instead of letting the request through as
      anonymous, so an app learns at once that it must get a new token.
    - A request without credentials is challenged with both schemes the API accepts,
      ``Basic`` and ``Bearer`` (RFC 9110 §11.6.1 allows several challenges).
    """

    def authenticate(self, request):
        if not bearer_given(request):
            return None
        found = super().authenticate(request)
        if found is None:
            raise exceptions.AuthenticationFailed(
                "The access token is unknown, expired or revoked; get a new one."
            )
        user, token = found
        if user is None:
            return AnonymousUser(), token
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The account this token acts for is closed.")
        return user, token

    def authenticate_header(self, request) -> str:
        if bearer_given(request):
            return build_bearer_challenge(
                request,
                oauth2_error=getattr(request, "oauth2_error", None) or {"error": "invalid_token"},
                realm=self.www_authenticate_realm,
                resource_metadata_url=None,
            )
        basic = BasicAuthentication().authenticate_header(request)
        return f'{basic}, Bearer realm="{self.www_authenticate_realm}"'


class TokenHasScopeOrSession(TokenHasScope):
    """A DRF permission: bearer callers need the scopes; other callers pass.

    Inputs: ``required_scopes`` (scope names, e.g. ``["lookup"]``) needed for every
    method, or for the safe methods (GET, HEAD, OPTIONS) only when ``write_scopes`` is
    given; ``write_scopes`` then applies to the other methods. A token missing one is
    refused with 403 and ``WWW-Authenticate: Bearer error="insufficient_scope"``
    (RFC 6750 §3.1). Session, Basic and anonymous callers are left to the view's other
    permissions.

    Use an instance where DRF expects a class, e.g.
    ``permission_classes = [IsAuthenticated, TokenHasScopeOrSession(["contacts:read"])]``:
    calling the instance returns it. drf-spectacular's django-oauth-toolkit extension
    reads the scopes of each operation from :meth:`get_scopes`.
    """

    def __init__(
        self, required_scopes: Iterable[str] = (), *, write_scopes: Iterable[str] | None = None
    ) -> None:
        self.required_scopes = list(required_scopes)
        self.write_scopes = None if write_scopes is None else list(write_scopes)

    def __call__(self) -> TokenHasScopeOrSession:
        return self

    def get_scopes(self, request, view) -> list[str]:
        if self.write_scopes is None or request.method in SAFE_METHODS:
            return self.required_scopes
        return self.write_scopes

    def has_permission(self, request, view) -> bool:
        if not is_bearer_request(request):
            return True
        scopes = self.get_scopes(request, view)
        if request.auth.allow_scopes(scopes):
            return True
        named = " ".join(scopes)
        refused = exceptions.PermissionDenied(
            f"This access token was not granted the scope this operation needs: {named}."
        )
        refused.auth_header = build_bearer_challenge(
            request,
            oauth2_error={"error": "insufficient_scope", "scope": named},
            realm=_DotAuthentication.www_authenticate_realm,
            resource_metadata_url=None,
        )
        raise refused


LOOKUP = TokenHasScopeOrSession([SCOPE_LOOKUP])
ENTRY_WRITE = TokenHasScopeOrSession([SCOPE_ENTRY_WRITE])
# Reading contacts needs contacts:read; saving or removing one changes the person's own
# data, which entry:write covers.
CONTACTS = TokenHasScopeOrSession([SCOPE_CONTACTS_READ], write_scopes=[SCOPE_ENTRY_WRITE])


class OAuth2Scheme(DjangoOAuthToolkitScheme):
    """OpenAPI: document :class:`OAuth2Authentication` as django-oauth-toolkit's own
    (an ``oauth2`` security scheme with the flows and scopes the settings name)."""

    target_class = "accounts.oauth.OAuth2Authentication"
