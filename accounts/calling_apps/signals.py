"""Audit events for what django-oauth-toolkit does on its own: granting tokens."""

from __future__ import annotations

from django.dispatch import receiver
from oauth2_provider.signals import app_authorized

from accounts.models import AuditEvent
from accounts.services import audit_record


@receiver(app_authorized, dispatch_uid="calling_apps.token_granted")
def token_granted(sender, request, token, **kwargs) -> None:
    """Record ``TOKEN_GRANTED`` when the token endpoint issues an access token for a
    grant: an authorization code or client credentials. A refresh (RFC 6749 §6) renews
    what was granted already, every few minutes, so it is not recorded again.

    A client-credentials token has no user: the event then names only the app.
    """
    if request.POST.get("grant_type") == "refresh_token":
        return
    audit_record(
        action=AuditEvent.Action.TOKEN_GRANTED,
        user=token.user,
        request=request,
        app=token.application.client_id,
        app_name=token.application.name,
        scope=token.scope,
    )
