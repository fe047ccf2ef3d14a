"""django-oauth-toolkit's request validator, with audit events for revocations."""

from __future__ import annotations

import hashlib

from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from accounts.models import AuditEvent
from accounts.services import audit_record


class AuditingOAuth2Validator(OAuth2Validator):
    """``OAUTH2_VALIDATOR_CLASS``: records ``TOKEN_REVOKED`` when an app revokes a live
    token of a person at the revocation endpoint (RFC 7009 §2.1)."""

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        application_pk = getattr(request.client, "pk", None)
        live = []
        if application_pk is not None:
            for model in (get_access_token_model(), get_refresh_token_model()):
                found = model.objects.filter(token_checksum=checksum, application_id=application_pk)
                if model is get_refresh_token_model():
                    found = found.filter(revoked__isnull=True)
                live.extend(found.select_related("user", "application"))
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        for revoked in live:
            if revoked.user is not None:
                audit_record(
                    action=AuditEvent.Action.TOKEN_REVOKED,
                    user=revoked.user,
                    app=revoked.application.client_id,
                    app_name=revoked.application.name,
                    by="app",
                )
