"""Writes about people: audit events (and, as they arrive, sign-up, contacts, data rights)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's IP address as Django sees it (``REMOTE_ADDR``), or ``None``."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    user=None,
    actor=None,
    request: HttpRequest | None = None,
    **data: Any,
) -> AuditEvent:
    """Append an audit event.

    Inputs: ``action`` (an :class:`AuditEvent.Action` value), ``user`` (the account the
    event is about), ``actor`` (who acted, when not ``user`` itself), ``request`` (for the
    caller's IP address) and JSON-serializable ``data``. Output: the saved event.
    Raises ``ValueError`` for an unknown action.
    """
    if action not in AuditEvent.Action.values:
        raise ValueError(f"{action!r} is not an audit action")
    return AuditEvent.objects.create(
        action=action,
        user=user if user is not None and user.is_authenticated else None,
        actor=actor,
        ip_address=client_ip(request),
        data=data,
    )
