"""How handles and endpoints are shown and linked on the public surfaces.

The entry page, the vCard export and WebFinger all present an entry the same way; this
module is the one place that says what a handle looks like to people (hosts as U-labels,
IDNA 2008), which URI identifies it (RFC 3986), and which handles stay private.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import phonenumbers
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext_lazy as _

from directory.models import Endpoint, Entry, Handle
from directory.normalization import HandleKind, domain_for_display
from directory.policy import caller_is_owner
from directory.uris import acct_uri, site_uri

# Handles of these kinds are phone numbers (or may be): they answer lookups, but the
# number itself is never shown to anyone but the owner.
_PHONE_KINDS = {HandleKind.WHATSAPP, HandleKind.SIGNAL}

# RFC 9554 §4.6 SERVICE-TYPE values: the names people know each network by.
SERVICE_NAMES = {
    HandleKind.EMAIL: "Email",
    HandleKind.DOMAIN: "Domain",
    HandleKind.FEDIVERSE: "Fediverse",
    HandleKind.ATPROTO: "Bluesky",
    HandleKind.MATRIX: "Matrix",
    HandleKind.XMPP: "XMPP",
    HandleKind.GITHUB: "GitHub",
    HandleKind.X: "X",
    HandleKind.TELEGRAM: "Telegram",
    HandleKind.WHATSAPP: "WhatsApp",
    HandleKind.SIGNAL: "Signal",
    HandleKind.SIP: "SIP",
    HandleKind.SKYPE: "Skype",
    HandleKind.WEB: "Web",
    # Endpoint services (Endpoint.service) that are not handle kinds.
    "phone": "Phone",
    "facetime": "FaceTime",
    "jitsi": "Jitsi Meet",
    "zoom": "Zoom",
    "teams": "Microsoft Teams",
    "google-meet": "Google Meet",
}


def entry_page_url(entry: Entry) -> str:
    """The absolute URL of the entry page (``{SITE_URL}/@{handle_canonical}``)."""
    return site_uri() + reverse("entry", kwargs={"handle": entry.handle_canonical})


def entry_vcard_url(entry: Entry) -> str:
    """The absolute URL of the entry's vCard (``{SITE_URL}/@{handle_canonical}.vcf``)."""
    return site_uri() + reverse("entry-vcard", kwargs={"handle": entry.handle_canonical})


def entry_api_url(entry: Entry) -> str:
    """The absolute URL of the entry's JSON in the REST API v1.

    The path, ``/api/v1/entries/{handle_canonical}``, is part of the published API
    contract, so it is written here rather than looked up by a route name.
    """
    return f"{site_uri()}/api/v1/entries/{quote(entry.handle_canonical, safe='')}"


def service_name(service: str) -> str:
    """The display name of a network (``"github"`` → ``"GitHub"``)."""
    return SERVICE_NAMES.get(service, service.replace("-", " ").title())


def _host_for_display(address: str, sep: str) -> str:
    local, found, host = address.rpartition(sep)
    if not found:
        return domain_for_display(address)
    host, colon, port = host.partition(":")
    return f"{local}{sep}{domain_for_display(host)}{colon}{port}"


def handle_is_phone_number(handle: Handle) -> bool:
    """Whether the handle's canonical value is an E.164 phone number."""
    return handle.kind in _PHONE_KINDS and handle.canonical.startswith("+")


def handle_display(handle: Handle) -> str:
    """The handle as people write it, hosts in their Unicode U-label form.

    Examples: ``@alice@bücher.example`` (fediverse), ``@alice:matrix.org`` (Matrix),
    ``@alice`` (GitHub, X, Telegram), ``https://alice.example/`` (web).
    """
    value = handle.canonical
    if handle.kind == HandleKind.FEDIVERSE:
        return "@" + _host_for_display(value, "@")
    if handle.kind in (HandleKind.EMAIL, HandleKind.XMPP, HandleKind.SIP):
        return _host_for_display(value, "@")
    if handle.kind == HandleKind.MATRIX:
        return _host_for_display(value, ":")
    if handle.kind in (HandleKind.DOMAIN, HandleKind.ATPROTO):
        return domain_for_display(value)
    if handle.kind in (HandleKind.X, HandleKind.GITHUB, HandleKind.TELEGRAM):
        return "@" + value
    return value


# The URI of each kind's profile, ``{}`` standing for the canonical handle.
_HANDLE_URI = {
    HandleKind.WEB: "{}",
    HandleKind.DOMAIN: "https://{}/",
    HandleKind.GITHUB: "https://github.com/{}",
    HandleKind.X: "https://x.com/{}",
    HandleKind.TELEGRAM: "https://t.me/{}",
    HandleKind.ATPROTO: "https://bsky.app/profile/{}",
    HandleKind.FEDIVERSE: "acct:{}",
    HandleKind.MATRIX: "https://matrix.to/#/{}",
    HandleKind.XMPP: "xmpp:{}",
    HandleKind.SIP: "sip:{}",
    HandleKind.EMAIL: "mailto:{}",
}


def handle_uri(handle: Handle) -> str | None:
    """A URI that identifies the handle's profile, or ``None`` when there is none.

    https profile URLs for web, domain, GitHub, X, Telegram and Bluesky handles;
    ``acct:`` (RFC 7565) for fediverse accounts, whose profile page only their server
    knows; matrix.to links; ``xmpp:`` (RFC 5122), ``sip:`` (RFC 3261) and ``mailto:``
    (RFC 6068) URIs. Skype names and phone-number handles have none.
    """
    template = _HANDLE_URI.get(handle.kind)
    if template is None:
        return None
    value = handle.canonical
    if handle.kind == HandleKind.FEDIVERSE:
        user, _at, host = value.lstrip("@").rpartition("@")
        return acct_uri(user, host)
    if handle.kind == HandleKind.MATRIX:
        value = quote(value, safe="@:")
    # A URI, not an IRI: any letter outside ASCII percent-encoded as UTF-8 (RFC 3987 §3.1).
    return iri_to_uri(template.format(value))


@dataclass(frozen=True)
class HandleView:
    """A handle as the public surfaces present it."""

    handle: Handle
    display: str
    uri: str | None
    service: str

    @property
    def is_verified(self) -> bool:
        return self.handle.is_verified

    @property
    def is_demo(self) -> bool:
        """Verified as demo data, not by a proof (``Handle.verified_by == "demo"``)."""
        return self.handle.is_demo

    @property
    def kind(self) -> str:
        return self.handle.kind

    @property
    def status_text(self) -> str:
        """What the verification status means to a reader, for claims not verified."""
        return _STATUS_TEXT.get(self.handle.status, self.handle.get_status_display())

    @property
    def is_https(self) -> bool:
        return bool(self.uri and self.uri.startswith("https://"))


_STATUS_TEXT = {
    Handle.Status.UNVERIFIED: _("claimed, not verified"),
    Handle.Status.PENDING: _("claimed, verification pending"),
    Handle.Status.STALE: _("claimed, proof expired"),
    Handle.Status.UNREACHABLE: _("claimed, could not be checked"),
    Handle.Status.FAILED: _("claimed, proof failed"),
    Handle.Status.REVOKED: _("claimed, verification revoked"),
}


def handles_for(entry: Entry, caller=None, *, verified_only: bool = False) -> list[HandleView]:
    """The entry's handles ``caller`` may see, verified ones first.

    Input: an entry (``handles`` prefetched to avoid a query) and the caller (a user,
    possibly anonymous, or ``None``). Phone-number handles are left out unless the
    caller owns the entry. Output: :class:`HandleView` items ordered verified first,
    then by service name and value.
    """
    owner = caller_is_owner(entry, caller)
    views = [
        HandleView(h, handle_display(h), handle_uri(h), service_name(h.kind))
        for h in entry.handles.all()
        if (owner or not handle_is_phone_number(h)) and (h.is_verified or not verified_only)
    ]
    views.sort(key=lambda v: (not v.is_verified, v.service.casefold(), v.display.casefold()))
    return views


def endpoint_display(endpoint: Endpoint) -> str:
    """The endpoint's address as people read it.

    ``tel:+15555550100;ext=12`` → ``+1 555-555-0100 ext. 12`` (libphonenumber
    international format); ``matrix:u/alice:matrix.org`` and matrix.to links →
    ``@alice:matrix.org``; ``sip:``, ``xmpp:``, ``mailto:`` and FaceTime URIs without the
    scheme, hosts as U-labels; https links as they are.
    """
    uri = endpoint.uri
    scheme, _, rest = uri.partition(":")
    if scheme == "tel":
        try:
            number = phonenumbers.parse(rest.replace(";ext=", " ext. "))
        except phonenumbers.NumberParseException:
            return rest
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if scheme == "matrix" or uri.startswith("https://matrix.to/#/"):
        mxid = endpoint.href[len("https://matrix.to/#/") :]
        return _host_for_display(mxid, ":")
    if scheme in ("sip", "sips", "xmpp", "mailto", "facetime", "facetime-audio"):
        return _host_for_display(rest, "@") if "@" in rest else rest
    return uri


def endpoint_matrix_uri(endpoint: Endpoint) -> str | None:
    """The ``matrix:u/…`` URI (the IANA-registered ``matrix`` scheme) of a Matrix
    endpoint, whether stored as ``matrix:`` or as a matrix.to link; else ``None``."""
    if endpoint.uri.startswith("matrix:"):
        return endpoint.uri
    prefix = "https://matrix.to/#/@"
    if endpoint.uri.startswith(prefix):
        return "matrix:u/" + endpoint.uri[len(prefix) :]
    return None
