"""Writes about people: audit events (and, as they arrive, sign-up, contacts, data rights)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEvent
from directory.exceptions import ConflictError


class EmailTaken(ConflictError):
    """An account with this email address exists (compared case-insensitively)."""

    slug = "email-taken"
    title = "An account with this email address exists"


def email_in_use(email: str) -> bool:
    """Whether an account has ``email`` as its address (compared case-insensitively) or,
    lowercased, as its username."""
    users = get_user_model()._default_manager
    return users.filter(Q(email__iexact=email) | Q(username=email.lower())).exists()


def _email_taken() -> EmailTaken:
    return EmailTaken(
        _("An account with this email address exists. Sign in, or reset its password.")
    )


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's IP address (:func:`directory.client_address.client_address`: the
    connection's, or the one a trusted proxy forwarded), or ``None``."""
    if request is None:
        return None
    from directory.client_address import client_address

    return client_address(request.META) or None


def audit_record(
    *,
    action: str,
    user=None,
    actor=None,
    request: HttpRequest | None = None,
    reason: str = "",
    target: tuple[str, object] | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **data: Any,
) -> AuditEvent:
    """Append an audit event.

    Inputs: ``action`` (an :class:`AuditEvent.Action` value), ``user`` (the account the
    event is about), ``actor`` (who acted, when not ``user`` itself), ``request`` (for the
    caller's IP address), for a moderator's action ``reason`` (why), ``target``
    (``(type, id)``, e.g. ``("entry", 42)``) and the target's ``before`` and ``after``
    snapshots (JSON-serializable dicts), and JSON-serializable ``data``. Output: the saved
    event. Raises ``ValueError`` for an unknown action.
    """
    if action not in AuditEvent.Action.values:
        raise ValueError(f"{action!r} is not an audit action")
    target_type, target_id = target if target is not None else ("", "")
    return AuditEvent.objects.create(
        action=action,
        user=user if user is not None and user.is_authenticated else None,
        actor=actor,
        ip_address=client_ip(request),
        data=data,
        reason=reason,
        target_type=target_type,
        target_id=str(target_id),
        before=before,
        after=after,
    )


def user_sign_up(*, email: str, password: str, request: HttpRequest | None = None):
    """Create a person's account from an email address and a password (no phone number).

    Inputs: ``email`` (already validated; stored as given, compared case-insensitively),
    ``password`` (already checked by the password validators). Output: the new user, whose
    username is the lowercased email address and whose email is not yet confirmed. Writes
    a ``sign_up`` audit event in the same transaction. Raises :class:`EmailTaken` when an
    account has this address (as its email or, lowercased, its username), also when
    another sign-up took it at the same moment: the database's unique constraints decide
    that race, and nothing of this sign-up is kept.
    """
    if email_in_use(email):
        raise _email_taken()
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=email.lower(), email=email, password=password
            )
            audit_record(action=AuditEvent.Action.SIGN_UP, user=user, request=request)
    except IntegrityError:
        # Both sign-ups passed the check above; the constraint let one through.
        raise _email_taken() from None
    return user


def user_confirm_email(*, user, request: HttpRequest | None = None) -> bool:
    """Mark ``user.email`` confirmed (compare-and-set, so two clicks confirm once).

    Output: True when this call confirmed it and wrote an ``email_confirmed`` audit event,
    False when it already was confirmed.
    """
    now = timezone.now()
    with transaction.atomic():
        changed = (
            get_user_model()
            .objects.filter(pk=user.pk, email_confirmed_at=None)
            .update(email_confirmed_at=now)
        )
        if changed:
            user.email_confirmed_at = now
            audit_record(action=AuditEvent.Action.EMAIL_CONFIRMED, user=user, request=request)
    return bool(changed)
