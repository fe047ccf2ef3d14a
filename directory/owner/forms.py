"""Forms of the owner pages. They check what a person typed and say what is wrong in
plain words; the services in :mod:`directory.services` decide, and their errors are
added beside the field they concern (:func:`add_service_error`)."""

from __future__ import annotations

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _

from directory.exceptions import NormalizationError, WorldbookError
from directory.models import Endpoint, Handle
from directory.normalization import (
    DIRECTORY_HANDLE_MAX,
    HandleKind,
    clean_display,
    normalize_directory_handle,
    normalize_endpoint_uri,
    normalize_handle,
    skeleton,
)
from directory.services import CAPABILITIES, NICKNAME_MAX

PREFERENCE_MAX = 32767

AUDIENCE_CHOICES = [
    (Endpoint.Audience.EVERYONE, _("Everyone")),
    (Endpoint.Audience.SIGNED_IN, _("People signed in to Worldbook")),
    (Endpoint.Audience.VERIFIED, _("Verified callers (their own entry has a verified handle)")),
    (Endpoint.Audience.CONTACTS, _("My contacts")),
    (Endpoint.Audience.NOBODY, _("Nobody (only me)")),
]
AUDIENCE_LABELS = dict(AUDIENCE_CHOICES)

CAPABILITY_CHOICES = [
    ("voice", _("Voice calls")),
    ("video", _("Video calls")),
    ("text", _("Messages")),
]
assert tuple(c for c, _label in CAPABILITY_CHOICES) == CAPABILITIES

HANDLE_KIND_CHOICES = [
    (HandleKind.EMAIL, _("Email address")),
    (HandleKind.DOMAIN, _("Domain name")),
    (HandleKind.WEB, _("Website")),
    (HandleKind.FEDIVERSE, _("Fediverse account (Mastodon and others)")),
    (HandleKind.ATPROTO, _("Bluesky / AT Protocol handle")),
    (HandleKind.MATRIX, _("Matrix ID")),
    (HandleKind.XMPP, _("XMPP address (JID)")),
    (HandleKind.GITHUB, _("GitHub username")),
    (HandleKind.X, _("X (Twitter) username")),
    (HandleKind.TELEGRAM, _("Telegram username")),
    (HandleKind.WHATSAPP, _("WhatsApp number")),
    (HandleKind.SIGNAL, _("Signal number or username")),
    (HandleKind.SIP, _("SIP address")),
    (HandleKind.SKYPE, _("Skype name")),
]
assert {k for k, _label in HANDLE_KIND_CHOICES} == set(HandleKind.ALL)

# How each kind of handle is written, shown as the value field's hint.
HANDLE_KIND_HINTS = {
    HandleKind.EMAIL: _("For example alice@example.org."),
    HandleKind.DOMAIN: _("A domain you control, for example alice.example or bücher.example."),
    HandleKind.WEB: _("The address of your page, for example https://alice.example/about."),
    HandleKind.FEDIVERSE: _("Your full address, for example @alice@mastodon.social."),
    HandleKind.ATPROTO: _("For example alice.bsky.social, or your own domain."),
    HandleKind.MATRIX: _("For example @alice:matrix.org."),
    HandleKind.XMPP: _("For example alice@jabber.example."),
    HandleKind.GITHUB: _("Your username, for example alice or @alice."),
    HandleKind.X: _("Your username, for example @alice."),
    HandleKind.TELEGRAM: _("Your username, for example @alice."),
    HandleKind.WHATSAPP: _("Your number in international form, for example +44 7700 900123."),
    HandleKind.SIGNAL: _("Your number (+44 7700 900123) or username (alice.01)."),
    HandleKind.SIP: _("For example alice@sip.example.org."),
    HandleKind.SKYPE: _("Your Skype name, for example live:alice."),
}

DIRECTORY_HANDLE_HINT = _(
    "2 to 30 letters or digits, of any script, with . _ or - inside. People find you by "
    "it: @alice. A handle that looks like a taken one is refused."
)


def add_service_error(form: forms.Form, exc: WorldbookError, field: str | None) -> None:
    """Put a service error on ``form``: on the fields its ``errors`` name when the form
    has them, otherwise on ``field`` (``None``: above the form)."""
    named = {k: v for k, v in exc.errors.items() if k in form.fields}
    if named:
        for name, messages in named.items():
            form.add_error(name, messages)
    else:
        form.add_error(field, exc.detail)


class _HintedSelect(forms.Select):
    """A select whose options carry ``data-hint``, which ``owner.js`` shows as the
    value field's hint when that option is chosen."""

    def __init__(self, hints, **kwargs):
        super().__init__(**kwargs)
        self.hints = hints

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        hint = self.hints.get(str(value))
        if hint:
            option["attrs"]["data-hint"] = str(hint)
        return option


def _nickname_field() -> forms.CharField:
    return forms.CharField(
        label=_("Nickname"),
        max_length=NICKNAME_MAX,
        help_text=_("The name people search for and see: Alice Liddell, Bob's Bakery."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


def _handle_field() -> forms.CharField:
    return forms.CharField(
        label=_("Handle"),
        # Room for invisible characters that cleaning drops; the 30-character rule
        # applies to what remains (as in the owner API).
        max_length=4 * DIRECTORY_HANDLE_MAX,
        help_text=DIRECTORY_HANDLE_HINT,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class _EntryFieldsMixin:
    def clean_nickname(self) -> str:
        value = self.cleaned_data["nickname"]
        shown = clean_display(value)
        if not shown:
            raise forms.ValidationError(_("A nickname needs at least one visible character."))
        if len(shown) > NICKNAME_MAX:
            raise forms.ValidationError(
                _("A nickname has at most %(max)d characters.") % {"max": NICKNAME_MAX}
            )
        return value

    def clean_handle(self) -> str:
        value = self.cleaned_data["handle"]
        try:
            normalize_directory_handle(value)
        except NormalizationError as exc:
            raise forms.ValidationError(exc.detail) from None
        return value


class EntryCreateForm(_EntryFieldsMixin, forms.Form):
    """A new entry: nickname, directory handle, listed in search or not."""

    nickname = _nickname_field()
    handle = _handle_field()
    discoverable = forms.BooleanField(
        label=_("List me in search results"),
        required=False,
        initial=True,
        help_text=_("Unlisted, you are still found by your exact handle."),
    )


class EntryEditForm(_EntryFieldsMixin, forms.Form):
    """An entry's nickname and directory handle."""

    nickname = _nickname_field()
    handle = _handle_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["handle"].help_text = _(
            "Changing it releases your old handle, which someone else may then take; "
            "links to your old page stop working."
        )


class _EndpointSettingsForm(forms.Form):
    label = forms.CharField(
        label=_("Label (optional)"),
        max_length=64,
        required=False,
        help_text=_("A word for callers: work, home, mobile."),
    )
    audience = forms.ChoiceField(
        label=_("Who may see and use it"),
        choices=AUDIENCE_CHOICES,
        initial=Endpoint.Audience.EVERYONE,
        widget=forms.RadioSelect,
    )
    capabilities = forms.MultipleChoiceField(
        label=_("What callers can do there"),
        choices=CAPABILITY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    preference = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        max_value=PREFERENCE_MAX,
        help_text=_("Lower comes first: callers try your endpoints in this order."),
        widget=forms.NumberInput(attrs={"class": "narrow", "inputmode": "numeric"}),
    )


class EndpointAddForm(_EndpointSettingsForm):
    """A new endpoint: its URI and settings."""

    uri = forms.CharField(
        label=_("Address"),
        max_length=Endpoint._meta.get_field("uri").max_length,
        help_text=_(
            "A URI: sip:alice@example.org, xmpp:alice@example.org, matrix:u/alice:matrix.org, "
            "mailto:alice@example.org, tel:+44 7700 900123, or an https call link."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    region = forms.CharField(
        label=_("Country of a national phone number (optional)"),
        required=False,
        min_length=2,
        max_length=2,
        help_text=_("Two letters (GB, US, DE), only for a tel: number written without +."),
        widget=forms.TextInput(attrs={"class": "narrow", "autocapitalize": "characters"}),
    )
    field_order = ["uri", "region", "label", "audience", "capabilities", "preference"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        caps = self.fields["capabilities"]
        caps.required = False
        caps.help_text = _("Leave all unticked to use what the address's network offers.")

    def clean_region(self) -> str | None:
        value = self.cleaned_data["region"].strip().upper()
        if not value:
            return None
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(
                _("%(value)s is not a two-letter country code.") % {"value": value}
            )
        return value

    def clean(self):
        data = super().clean()
        if "uri" in data and "region" in data:
            try:
                normal = normalize_endpoint_uri(data["uri"], region=data["region"])
            except NormalizationError as exc:
                self.add_error("uri", exc.detail)
            else:
                if len(normal.uri) > Endpoint._meta.get_field("uri").max_length:
                    self.add_error("uri", _("This address is too long."))
        return data


class EndpointEditForm(EndpointAddForm):
    """An endpoint's URI and settings; every capability choice is explicit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        caps = self.fields["capabilities"]
        caps.required = True
        caps.help_text = ""
        caps.error_messages["required"] = _("Tick at least one: voice calls, video or messages.")


class HandleAddForm(forms.Form):
    """An external handle to claim: its kind and its value."""

    kind = forms.ChoiceField(
        label=_("Kind of handle"),
        choices=[("", _("Choose…")), *HANDLE_KIND_CHOICES],
        widget=_HintedSelect(HANDLE_KIND_HINTS),
    )
    value = forms.CharField(
        label=_("Handle"),
        max_length=Handle._meta.get_field("raw").max_length,
        help_text=_(
            "As written on its platform: alice@example.org, @alice@mastodon.social, "
            "@alice:matrix.org, alice.example."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.data.get("kind") if self.is_bound else None
        if kind in HANDLE_KIND_HINTS:
            self.fields["value"].help_text = HANDLE_KIND_HINTS[kind]

    def clean(self):
        data = super().clean()
        if "kind" in data and "value" in data:
            try:
                normal = normalize_handle(data["kind"], data["value"])
            except NormalizationError as exc:
                self.add_error("value", exc.detail)
            else:
                too_long = len(normal.canonical) > Handle._meta.get_field("canonical").max_length
                if too_long or len(skeleton(normal.canonical)) > 1024:
                    self.add_error("value", _("This handle is too long."))
        return data


def audience_label(value: str) -> str:
    """The words the pages use for an audience value."""
    return str(AUDIENCE_LABELS.get(value, value))
