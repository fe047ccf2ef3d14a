"""The form a developer registers a calling app with."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.calling_apps.models import CallingApp
from accounts.calling_apps.services import GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS


class AppRegisterForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=255, help_text=_("Shown to people asked to approve it.")
    )
    client_type = forms.ChoiceField(
        choices=CallingApp.CLIENT_TYPES,
        initial=CallingApp.CLIENT_CONFIDENTIAL,
        widget=forms.RadioSelect,
        label=_("Client type"),
        help_text=_(
            "Confidential: runs on a server that keeps the client secret. Public: runs "
            "on people's devices (a phone or browser app), which cannot keep a secret."
        ),
    )
    grant_types = forms.MultipleChoiceField(
        choices=[
            (
                GRANT_CLIENT_CREDENTIALS,
                _(
                    "Client credentials — look people up as the app itself "
                    "(sees what anyone may see)"
                ),
            ),
            (
                GRANT_AUTHORIZATION_CODE,
                _("Authorization code with PKCE — act for a person who approves the app"),
            ),
        ],
        widget=forms.CheckboxSelectMultiple,
        label=_("Grant types"),
    )
    redirect_uris = forms.CharField(
        required=False,
        label=_("Redirect URIs"),
        widget=forms.Textarea(
            attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false", "inputmode": "url"}
        ),
        help_text=_("One per line; where people return after approving (authorization code only)."),
    )

    def clean_redirect_uris(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["redirect_uris"].splitlines() if line.strip()
        ]

    def clean(self):
        data = super().clean()
        if GRANT_AUTHORIZATION_CODE in data.get("grant_types", []) and not data.get(
            "redirect_uris"
        ):
            self.add_error("redirect_uris", _("The authorization code needs a redirect URI."))
        return data
