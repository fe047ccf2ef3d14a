"""Which scopes a calling app may be granted (django-oauth-toolkit's scopes backend)."""

from __future__ import annotations

from oauth2_provider.scopes import SettingsScopes

from accounts.oauth import SCOPE_LOOKUP

# A client-credentials token acts for no person (RFC 6749 §4.4), so the scopes about a
# person's own data would grant nothing it could use.
APP_LEVEL_SCOPES = frozenset({SCOPE_LOOKUP})


class CallingAppScopes(SettingsScopes):
    """``SCOPES_BACKEND_CLASS``: every scope in the settings for a token acting for a
    person; ``lookup`` only for a client-credentials token, so asking for more is
    refused with ``invalid_scope`` (RFC 6749 §5.2)."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        scopes = super().get_available_scopes(application, request, *args, **kwargs)
        if getattr(request, "grant_type", None) == "client_credentials":
            return [scope for scope in scopes if scope in APP_LEVEL_SCOPES]
        return scopes
