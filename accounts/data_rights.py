"""Data rights: a person exports everything Worldbook holds about them, or deletes it all.

The export answers the right of access and to data portability (GDPR Art. 15 and 20); the
deletion the right to erasure (GDPR Art. 17).

What the export leaves out, and why:

- *who saved the person* as a contact belongs to the address books of those people, so only
  their number is given (``saved_by_count``); the people the person saved are listed by
  directory handle, the person's own address book;
- secrets are never exported: no password hash, no second-factor keys, no OAuth2 client
  secrets or token strings; a file with them would let whoever finds it sign in;
- an audit event's moderator is not named (``by_moderator`` says one acted).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import AuditEvent, Contact, User
from accounts.services import audit_record
from directory.exceptions import Forbidden, WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.vcard_export import entry_vcard

EXPORT_FORMAT = "worldbook.export"
EXPORT_VERSION = 1


class PasswordNotConfirmed(Forbidden):
    """The password given to confirm an account deletion is not the account's."""

    slug = "password-not-confirmed"
    title = "The password is not correct"


class PasswordTriesExhausted(WorldbookError):
    """Too many wrong passwords: the sign-in brute-force lock holds the account.

    ``retry_after``: seconds until the lock ends (the lock's cool-off), or ``None``.
    """

    status = 429
    slug = "rate-limited"
    title = "Too many wrong passwords"

    def __init__(self, detail: str = "", *, retry_after: int | None = None):
        super().__init__(detail)
        self.retry_after = retry_after


def _lock_seconds() -> int | None:
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    return int(cooloff.total_seconds()) if isinstance(cooloff, timedelta) else None


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def _owned_entries(user: User) -> list[Entry]:
    return list(
        Entry.objects.filter(owner=user)
        .order_by("created_at", "pk")
        .prefetch_related(
            Prefetch("handles", queryset=Handle.objects.order_by("created_at", "pk")),
            Prefetch("endpoints", queryset=Endpoint.objects.order_by("preference", "pk")),
            Prefetch(
                "contacts",
                queryset=Contact.objects.select_related("saved").order_by("created_at", "pk"),
            ),
        )
    )


def _entry_export(entry: Entry) -> dict[str, Any]:
    return {
        "handle": entry.at_handle,
        "acct": entry.acct_uri,
        "url": entry.profile_url,
        "nickname": entry.nickname,
        "status": entry.status,
        "discoverable": entry.discoverable,
        "findable_by_number": entry.findable_by_number,
        "created_at": _when(entry.created_at),
        "updated_at": _when(entry.updated_at),
        "handles": [
            {
                "kind": handle.kind,
                "raw": handle.raw,
                "canonical": handle.canonical,
                "status": handle.status,
                "verified_at": _when(handle.verified_at),
                "checked_at": _when(handle.checked_at),
                "created_at": _when(handle.created_at),
                "updated_at": _when(handle.updated_at),
            }
            for handle in entry.handles.all()
        ],
        "endpoints": [
            {
                "uri": endpoint.uri,
                "scheme": endpoint.scheme,
                "service": endpoint.service,
                "capabilities": endpoint.capabilities,
                "preference": endpoint.preference,
                "label": endpoint.label,
                "audience": endpoint.audience,
                "created_at": _when(endpoint.created_at),
                "updated_at": _when(endpoint.updated_at),
            }
            for endpoint in entry.endpoints.all()
        ],
        "contacts": {
            "saved": [
                {
                    "handle": contact.saved.at_handle,
                    "note": contact.note,
                    "saved_at": _when(contact.created_at),
                }
                for contact in entry.contacts.all()
            ],
            "saved_by_count": Contact.objects.filter(saved=entry).count(),
        },
    }


def _second_factors(user: User) -> list[dict[str, Any]]:
    from django_otp import devices_for_user

    return [
        {"kind": device._meta.verbose_name, "name": device.name, "confirmed": device.confirmed}
        for device in devices_for_user(user, confirmed=None)
    ]


def _oauth_export(user: User) -> dict[str, list[dict[str, Any]]]:
    if not apps.is_installed("oauth2_provider"):
        return {"applications": [], "tokens": [], "grants": []}
    from oauth2_provider.models import (
        get_access_token_model,
        get_application_model,
        get_grant_model,
    )

    return {
        "applications": [
            {
                "name": app.name,
                "client_id": app.client_id,
                "client_type": app.client_type,
                "authorization_grant_type": app.authorization_grant_type,
                "redirect_uris": app.redirect_uris.split(),
                "created_at": _when(app.created),
                "updated_at": _when(app.updated),
            }
            for app in get_application_model().objects.filter(user=user).order_by("pk")
        ],
        "tokens": [
            {
                "application": token.application.name if token.application else None,
                "scope": token.scope.split(),
                "created_at": _when(token.created),
                "expires_at": _when(token.expires),
            }
            for token in get_access_token_model()
            .objects.filter(user=user)
            .select_related("application")
            .order_by("pk")
        ],
        "grants": [
            {
                "application": grant.application.name,
                "scope": grant.scope.split(),
                "created_at": _when(grant.created),
                "expires_at": _when(grant.expires),
            }
            for grant in get_grant_model()
            .objects.filter(user=user)
            .select_related("application")
            .order_by("pk")
        ],
    }


def _phone_numbers_export(user: User) -> list[dict[str, Any]]:
    from directory.numbers.selectors import numbers_export

    return numbers_export(user)


def account_export(*, user: User, request: HttpRequest | None = None) -> dict[str, Any]:
    """Everything Worldbook holds about ``user``, as a JSON-serializable dict.

    Inputs: the signed-in ``user``; ``request`` (for the audit event's IP address).
    Output, format ``worldbook.export`` version 1 (times are ISO 8601 with offset, lists
    oldest first):

    - ``format``, ``version``, ``exported_at``;
    - ``account``: ``username``, ``email``, ``first_name``, ``last_name``,
      ``date_joined``, ``last_login``;
    - ``entries``: each owned entry with ``handle`` (``@alice``), ``acct`` (RFC 7565),
      ``url``, ``nickname``, ``status``, ``discoverable``, ``findable_by_number``,
      timestamps, ``handles`` (every verification status, raw and canonical), ``endpoints``
      (every audience) and ``contacts`` (``saved``: the handles this entry saved, with
      note and time; ``saved_by_count``: how many entries saved it);
    - ``second_factors``: ``kind``, ``name``, ``confirmed`` of each OTP device;
    - ``audit_events``: ``action``, ``created_at``, ``ip_address``, ``data``,
      ``by_moderator`` of each event about the person, newest first;
    - ``apps``: OAuth2 (RFC 6749) ``applications`` the person registered, ``tokens`` and
      ``grants`` the person gave apps (empty lists when OAuth2 is not installed).
    - ``phone_numbers``: each number linked to an owned entry, every state (see
      :func:`directory.numbers.selectors.numbers_export`).

    Leaves out third parties' data and secrets (see the module docstring). Records a
    ``data_exported`` audit event. Raises nothing for a signed-in user.
    """
    entries = _owned_entries(user)
    export = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _when(timezone.now()),
        "account": {
            "username": user.get_username(),
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "entries": [_entry_export(entry) for entry in entries],
        "second_factors": _second_factors(user),
        "audit_events": [
            {
                "action": event.action,
                "created_at": _when(event.created_at),
                "ip_address": event.ip_address,
                "data": event.data,
                "by_moderator": event.actor_id is not None and event.actor_id != user.pk,
            }
            for event in AuditEvent.objects.filter(user=user)
        ],
        "apps": _oauth_export(user),
        # Phone numbers (directory.numbers): the person's own, in clear until purged.
        "phone_numbers": _phone_numbers_export(user),
    }
    audit_record(action=AuditEvent.Action.DATA_EXPORTED, user=user, request=request, format="json")
    return export


def account_export_vcard(*, user: User, request: HttpRequest | None = None) -> str:
    """The entries of ``user`` as vCard 4.0 (RFC 6350), one card after another.

    Each card is the owner's view (:func:`directory.vcard_export.entry_vcard` with the
    owner as caller): every endpoint, whatever its audience. Output: the text, CRLF line
    ends; empty when the person has no entry. Records a ``data_exported`` audit event.
    """
    cards = "".join(entry_vcard(entry, user) for entry in _owned_entries(user))
    audit_record(action=AuditEvent.Action.DATA_EXPORTED, user=user, request=request, format="vcard")
    return cards


def _user_sessions(user: User) -> list[str]:
    """Keys of the stored sessions signed in as ``user``.

    Sessions are keyed by a random string, not by account, so every unexpired one is
    decoded; deletions are rare enough to afford the scan.
    """
    user_id = str(user.pk)
    return [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get("_auth_user_id")) == user_id
    ]


def _sign_in_records(user: User) -> None:
    """Delete django-axes sign-in records naming the account (they key by username)."""
    if not apps.is_installed("axes"):
        return
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    names = Q(username__iexact=user.get_username())
    if user.email:
        names |= Q(username__iexact=user.email)
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(names).delete()


def account_delete(*, user: User, password: str, request: HttpRequest | None = None) -> int:
    """Delete ``user``'s account and everything that names them, in one transaction.

    Inputs: the signed-in ``user``; ``password``, the account's password again; ``request``
    when the person calls over the web: the password is then checked through
    ``authenticate``, so the sign-in brute-force limits count wrong guesses.

    Removes the user, their entries with handles and endpoints, contacts in both
    directions, OTP devices, OAuth2 applications, tokens and grants, sessions, sign-in
    records and admin log lines about those objects. Audit events about
    the person keep only their action and time (user, IP address and data emptied); then an
    ``account_deleted`` event without personal data is recorded. After commit one
    ``search.remove_entries`` task purges the deleted entries from the search index.

    Output: the number of entries deleted. Raises :class:`PasswordNotConfirmed` (HTTP 403)
    for a wrong password, :class:`PasswordTriesExhausted` (HTTP 429) once the sign-in lock
    holds the account; any error rolls the whole deletion back.
    """
    # Checked before the transaction opens, so a failed guess the brute-force limits
    # record is not rolled back with the refused deletion.
    if request is None:
        confirmed = user.check_password(password)
    else:
        found = authenticate(request, username=user.get_username(), password=password)
        confirmed = found is not None and found.pk == user.pk
        if not confirmed and getattr(request, "axes_locked_out", False):
            raise PasswordTriesExhausted(
                "Too many wrong passwords: try again later.", retry_after=_lock_seconds()
            )
    if not confirmed:
        raise PasswordNotConfirmed("Enter the account's current password to delete it.")
    return _account_delete(user_id=user.pk)


@transaction.atomic
def _account_delete(*, user_id: int) -> int:
    user = User.objects.select_for_update().get(pk=user_id)
    entry_ids = list(Entry.objects.filter(owner=user).values_list("pk", flat=True))
    handle_ids = list(Handle.objects.filter(entry__in=entry_ids).values_list("pk", flat=True))
    endpoint_ids = list(Endpoint.objects.filter(entry__in=entry_ids).values_list("pk", flat=True))

    # Admin log lines keep object_repr (``@alice``) after their object is gone.
    admin_objects = Q()
    for model, ids in (
        (User, [user.pk]),
        (Entry, entry_ids),
        (Handle, handle_ids),
        (Endpoint, endpoint_ids),
    ):
        if ids:
            admin_objects |= Q(
                content_type=ContentType.objects.get_for_model(model),
                object_id__in=[str(pk) for pk in ids],
            )
    LogEntry.objects.filter(admin_objects).delete()

    Session.objects.filter(session_key__in=_user_sessions(user)).delete()
    _sign_in_records(user)
    # Moderation snapshots of the person's entries go too (directory.moderation).
    AuditEvent.objects.filter(user=user).update(
        user=None, ip_address=None, data={}, before=None, after=None
    )
    # Events this person caused about someone else keep their data, not the person's IP.
    AuditEvent.objects.filter(actor=user).update(actor=None, ip_address=None)
    Contact.objects.filter(Q(owner__in=entry_ids) | Q(saved__in=entry_ids)).delete()
    # Report cases outlive the entries (without the reported values); a suspended
    # entry's handle stays reserved and its open appeals are closed.
    from directory.moderation.services.departures import entries_departing

    entries_departing(entry_ids, erased=True)
    Entry.objects.filter(pk__in=entry_ids).delete()
    # Cascades to OTP devices and to OAuth2 applications, tokens and grants.
    user.delete()
    audit_record(action=AuditEvent.Action.ACCOUNT_DELETED, entries=len(entry_ids))
    if entry_ids:
        from directory.outbox import outbox_enqueue

        outbox_enqueue("search.remove_entries", args=[list(entry_ids)])
    return len(entry_ids)
