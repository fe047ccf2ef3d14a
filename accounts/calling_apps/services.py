"""Writes and reads about calling apps: registering, deleting, revoking a person's grant.

Each write is atomic and leaves an audit event (``APP_REGISTERED``, ``TOKEN_REVOKED``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from accounts.calling_apps.models import CallingApp, redirect_uri_protected
from accounts.models import AuditEvent, User
from accounts.services import audit_record

GRANT_CLIENT_CREDENTIALS = CallingApp.GRANT_CLIENT_CREDENTIALS
GRANT_AUTHORIZATION_CODE = CallingApp.GRANT_AUTHORIZATION_CODE


@dataclass(frozen=True)
class Registration:
    """A new app and its client secret in clear: shown once, since only a hash is kept."""

    app: CallingApp
    client_secret: str


def app_register(
    *,
    developer: User,
    name: str,
    client_type: str,
    grant_types: set[str],
    redirect_uris: list[str],
    request: HttpRequest | None = None,
) -> Registration:
    """Register a calling app for ``developer``.

    Inputs: ``client_type`` ``"confidential"`` or ``"public"`` (RFC 6749 §2.1);
    ``grant_types`` a non-empty subset of ``{"authorization-code", "client-credentials"}``;
    ``redirect_uris`` absolute URIs, needed for the authorization code (§3.1.2).
    Output: the saved app and its client secret in clear (a public client's is unused).
    Raises ``django.core.exceptions.ValidationError`` for a combination RFC 6749 refuses
    (client credentials for a public client, §4.4) or a redirect URI
    django-oauth-toolkit refuses; nothing is saved then.
    """
    if not grant_types or not grant_types <= {GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS}:
        raise ValidationError(
            {"grant_types": [_("Choose client credentials, authorization code or both.")]}
        )
    if GRANT_CLIENT_CREDENTIALS in grant_types and client_type != CallingApp.CLIENT_CONFIDENTIAL:
        raise ValidationError(
            {
                "grant_types": [
                    _(
                        "Only a confidential client, which can keep a secret, may use "
                        "client credentials."
                    )
                ]
            }
        )
    plain = [uri for uri in redirect_uris if not redirect_uri_protected(uri)]
    if plain:
        raise ValidationError(
            {
                "redirect_uris": [
                    _(
                        "%(uri)s: a redirect URI must use https; plain http is allowed only "
                        "for this device (127.0.0.1, [::1] or localhost)."
                    )
                    % {"uri": plain[0]}
                ]
            }
        )
    main = (
        GRANT_AUTHORIZATION_CODE
        if GRANT_AUTHORIZATION_CODE in grant_types
        else GRANT_CLIENT_CREDENTIALS
    )
    app = CallingApp(
        user=developer,
        name=name,
        client_type=client_type,
        authorization_grant_type=main,
        client_credentials=GRANT_CLIENT_CREDENTIALS in grant_types,
        redirect_uris=" ".join(redirect_uris),
    )
    # The generated secret in clear: saving replaces it with its hash.
    client_secret = app.client_secret
    app.full_clean(exclude=["client_secret"])
    with transaction.atomic():
        app.save()
        audit_record(
            action=AuditEvent.Action.APP_REGISTERED,
            user=developer,
            request=request,
            app=app.client_id,
            app_name=app.name,
            grant_types=app.grant_types,
        )
    return Registration(app=app, client_secret=client_secret)


def app_delete(*, app: CallingApp) -> None:
    """Delete a calling app; its grants and tokens go with it (database cascade)."""
    app.delete()


def apps_of(developer: User) -> list[CallingApp]:
    """The apps ``developer`` registered, newest first."""
    return list(CallingApp.objects.filter(user=developer).order_by("-created", "-id"))


def apps_authorized_by(user: User) -> list[CallingApp]:
    """The apps holding a live access or refresh token that acts for ``user``, by name."""
    access = get_access_token_model().objects.filter(user=user).values("application_id")
    refresh = (
        get_refresh_token_model()
        .objects.filter(user=user, revoked__isnull=True)
        .values("application_id")
    )
    return list(CallingApp.objects.filter(pk__in=access.union(refresh)).order_by("name", "id"))


def authorization_revoke(*, user: User, app: CallingApp, request: HttpRequest | None = None) -> int:
    """Revoke every token ``app`` holds for ``user`` (access and refresh tokens alike).

    Output: how many tokens were revoked; 0 when the app held none, and then no audit
    event is written.
    """
    with transaction.atomic():
        refresh = list(
            get_refresh_token_model().objects.filter(
                user=user, application=app, revoked__isnull=True
            )
        )
        for token in refresh:
            token.revoke()
        access = get_access_token_model().objects.filter(user=user, application=app)
        count = len(refresh) + access.count()
        access.delete()
        if count:
            audit_record(
                action=AuditEvent.Action.TOKEN_REVOKED,
                user=user,
                request=request,
                app=app.client_id,
                app_name=app.name,
                by="person",
            )
    return count
