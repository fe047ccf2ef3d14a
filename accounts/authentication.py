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

# django-ratelimit groups of the failed-password counters and of all password checks,
# one of each per client address.
FAILURES_GROUP = "accounts.basic-auth-failures"
ATTEMPTS_GROUP = "accounts.basic-auth-attempts"


def _failures_rate(group: str, request) -> str:
    return settings.BASIC_AUTH_FAILURES_PER_IP


def _attempts_rate(group: str, request) -> str:
    return settings.BASIC_AUTH_PER_IP


class PasswordOnlyBasicAuthentication(BasicAuthentication):
    """HTTP Basic (RFC 7617) for accounts that sign in with a password alone.

    An account with a confirmed second factor is refused here: a password sent in a
    header would otherwise skip the factor the person chose. Such accounts use the API
    through a web session or an app they authorized with OAuth2. Raises
    ``AuthenticationFailed`` (401 problem document) for them.

    Per client address (:func:`directory.client_address.client_address`; IPv6 per /64),
    in the Django cache, before any password is hashed: every Basic request counts
    against ``settings.BASIC_AUTH_PER_IP`` ("120/min"), and wrong credentials against
    ``settings.BASIC_AUTH_FAILURES_PER_IP`` ("20/10min"); past either, the address's
    Basic requests are refused with ``Throttled`` (429 problem document with
    ``Retry-After``, RFC 6585 §4). Each check costs a password hash, and the
    database-kept sign-in limits of django-axes hold per username and address, so only
    these stop a caller who floods one address or tries a new username each time.
    """

    def authenticate_credentials(self, userid, password, request=None):
        if request is not None:
            attempts = get_usage(
                request, group=ATTEMPTS_GROUP, key="ip", rate=_attempts_rate, increment=True
            )
            if attempts is not None and attempts["should_limit"]:
                raise exceptions.Throttled(
                    wait=max(attempts["time_left"], 1),
                    detail="Too many password sign-ins from this address.",
                )
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
