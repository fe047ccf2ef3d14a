"""HTTP Basic authentication for the API that cannot get around a second factor."""

from __future__ import annotations

from django.conf import settings
from django_otp import user_has_device
from django_ratelimit.core import get_usage as _get_usage
from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from directory.cache import with_local_fallback

# Counted per process while Redis is down (directory.cache.with_local_fallback).
get_usage = with_local_fallback(_get_usage)

# django-ratelimit group of the failed-password counters, one per client address.
FAILURES_GROUP = "accounts.basic-auth-failures"


def _failures_rate(group: str, request) -> str:
    return settings.BASIC_AUTH_FAILURES_PER_IP


class PasswordOnlyBasicAuthentication(BasicAuthentication):
    """HTTP Basic (RFC 7617) for accounts that sign in with a password alone.

    An account with a confirmed second factor is refused here: a password sent in a
    header would otherwise skip the factor the person chose. Such accounts use the API
    through a web session or an app they authorized with OAuth2. Raises
    ``AuthenticationFailed`` (401 problem document) for them.

    Wrong credentials are counted per client address (``REMOTE_ADDR``; IPv6 per /64) in
    the Django cache. Once an address has had ``settings.BASIC_AUTH_FAILURES_PER_IP``
    failures ("20/10min") within the current window, its Basic requests are refused with
    ``Throttled`` (429 problem document with ``Retry-After``, RFC 6585 §4) before any
    password is hashed: the database-kept sign-in limits of django-axes hold per username
    and address, so only this stops a caller who tries a new username each time, and
    each try costs a password hash.
    """

    def authenticate_credentials(self, userid, password, request=None):
        if request is not None:
            failures = get_usage(request, group=FAILURES_GROUP, key="ip", rate=_failures_rate)
            if failures is not None and failures["count"] >= failures["limit"]:
                raise exceptions.Throttled(
                    wait=max(failures["time_left"], 1),
                    detail="Too many wrong passwords from this address.",
                )
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            if request is not None:
                get_usage(
                    request, group=FAILURES_GROUP, key="ip", rate=_failures_rate, increment=True
                )
            raise
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
