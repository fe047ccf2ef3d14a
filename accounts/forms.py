"""Forms of the account pages: sign-up, sign-in (two steps) and second factors."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.services import email_in_use


class SignUpForm(forms.Form):
    """Email address and password; nothing else, and never a phone number."""

    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email_in_use(email):
            # The same words as the service's EmailTaken, which decides a race.
            raise forms.ValidationError(
                _("An account with this email address exists. Sign in, or reset its password.")
            )
        return email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first and cleaned.get("email"):
            model = get_user_model()
            probe = model(username=cleaned["email"].lower(), email=cleaned["email"])
            try:
                password_validation.validate_password(first, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignInForm(AuthenticationForm):
    """Django's sign-in form (it passes the request to ``authenticate``, as django-axes
    needs), asking for the email address."""

    username = forms.CharField(
        label=_("Email address"),
        max_length=254,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "username",
                "inputmode": "email",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email address and password do not match an account."),
    }


class CodeForm(forms.Form):
    """A second-factor code: 6 digits from an app or an email, or an 8-character backup
    code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
