"""Helpers of the moderation services: reasons, permissions, snapshots and labels."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.conf import settings

from directory.exceptions import Forbidden, WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.moderation.models import ModerationAction
from directory.normalization import clean_display

REASON_MAX = 2000
Kind = ModerationAction.Kind


PHONE_NUMBER_REDACTED = "[phone number]"


def redact_phone_numbers(text: str) -> str:
    """``text`` with every phone number libphonenumber finds in it replaced by
    ``[phone number]``: international ones (``+41 44 668 18 00``) always, national ones
    too when ``DEFAULT_PHONE_REGION`` is set. Reasons and statements end up in the audit
    trail, the admin and emails, where no number may appear in clear."""
    region = settings.DEFAULT_PHONE_REGION
    matches = list(
        phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    )
    for match in reversed(matches):
        text = text[: match.start] + PHONE_NUMBER_REDACTED + text[match.end :]
    return text


def clean_text(text: str | None, what: str, limit: int = REASON_MAX) -> str:
    """``text`` as shown (:func:`clean_display`: NFKC, invisible characters dropped),
    phone numbers redacted (:func:`redact_phone_numbers`).

    Inputs: the text, ``what`` it is (``"A reason"``, for the message) and its ``limit``
    in characters. Raises :class:`WorldbookError` (400, error on ``reason``) when nothing
    visible is left or the text is longer than ``limit``.
    """
    cleaned = redact_phone_numbers(clean_display(text or ""))
    if not cleaned:
        raise WorldbookError(f"{what} is required.", errors={"reason": [f"{what} is required."]})
    if len(cleaned) > limit:
        raise WorldbookError(
            f"{what} has at most {limit} characters.",
            errors={"reason": [f"{what} has at most {limit} characters."]},
        )
    return cleaned


def require_permission(moderator, codename: str) -> None:
    """Raise :class:`Forbidden` unless ``moderator`` holds ``moderation.<codename>``."""
    if moderator is None or not moderator.has_perm(f"moderation.{codename}"):
        raise Forbidden(f"This action needs the permission moderation.{codename}.")


# --------------------------------------------------------------------------------------
# Snapshots: what the audit trail keeps of a target (never a phone number in clear)


def entry_snapshot(entry: Entry) -> dict[str, Any]:
    """The moderated fields of an entry: ``{"handle", "nickname", "status", "discoverable"}``."""
    return {
        "handle": entry.handle,
        "nickname": entry.nickname,
        "status": entry.status,
        "discoverable": entry.discoverable,
    }


def handle_snapshot(handle: Handle) -> dict[str, Any]:
    """``{"kind", "status", "verified_at"}`` of a handle. The value is left out: a
    WhatsApp or Signal handle is a phone number."""
    return {
        "kind": handle.kind,
        "status": handle.status,
        "verified_at": handle.verified_at.isoformat() if handle.verified_at else None,
    }


def endpoint_snapshot(endpoint: Endpoint) -> dict[str, Any]:
    """``{"scheme", "service", "audience"}`` of an endpoint; the URI is left out, since a
    ``tel:`` URI is a phone number."""
    return {
        "scheme": endpoint.scheme,
        "service": endpoint.service,
        "audience": endpoint.audience,
    }


def handle_label(handle: Handle) -> str:
    """How a handle is named to moderators and owners: ``github:alice``, or only its
    kind for a phone-number handle (``whatsapp number``)."""
    if handle.canonical.startswith("+"):
        return f"{handle.kind} number of @{handle.entry.handle}"
    return f"{handle.kind}:{handle.canonical}"


def endpoint_label(endpoint: Endpoint) -> str:
    """How an endpoint is named to moderators and owners; a ``tel:`` endpoint by its
    label, never its number."""
    if endpoint.scheme == "tel":
        return f"phone endpoint {endpoint.label or endpoint.pk} of @{endpoint.entry.handle}"
    return endpoint.uri
