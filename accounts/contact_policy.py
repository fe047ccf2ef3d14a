"""Changing an entry's contact policy: who may find it and who may use each endpoint.

Every change, from the owner's policy page or the owner API, goes through
:func:`policy_update`, which saves it through :mod:`directory.services` and records one
``POLICY_CHANGED`` audit event saying what changed, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from accounts.models import AuditEvent
from accounts.services import audit_record
from directory.exceptions import NormalizationError, NotFound
from directory.models import Endpoint, Entry
from directory.services import endpoint_update, entry_update


@transaction.atomic
def policy_update(
    *,
    entry: Entry,
    user,
    request: HttpRequest | None = None,
    discoverable: bool | None = None,
    findable_by_number: bool | None = None,
    audiences: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Change ``entry``'s discoverability and endpoint audiences; audit what changed.

    Inputs: the entry (fetched for its owner, endpoints prefetched), the account acting
    (``user``; the owner, or a moderator), the request (for the audit event's IP
    address), ``discoverable`` (listed in search), ``findable_by_number`` (found by a
    phone-number lookup) and ``audiences`` (endpoint id → :class:`Endpoint.Audience`
    value). ``None`` leaves a setting as it is.

    Output: the changes, ``{"discoverable": [old, new], "findable_by_number": [old, new],
    "endpoints": {"<id>": [old, new]}}`` with only what actually changed (empty when
    nothing did; then no event is recorded). The audit event holds the entry's id and
    these changes, never a handle or URI, so it names no one once the account is gone.

    Raises :class:`NotFound` for an endpoint id the entry does not have and
    :class:`NormalizationError` for an unknown audience; nothing is saved then.
    """
    changes: dict[str, Any] = {}
    entry_changes: dict[str, bool] = {}
    for name, wanted in (
        ("discoverable", discoverable),
        ("findable_by_number", findable_by_number),
    ):
        if wanted is not None and getattr(entry, name) != wanted:
            changes[name] = [getattr(entry, name), wanted]
            entry_changes[name] = wanted
    if entry_changes:
        entry_update(entry=entry, **entry_changes)
    endpoints = {e.pk: e for e in entry.endpoints.all()}
    endpoint_changes: dict[str, list[str]] = {}
    for endpoint_id, audience in (audiences or {}).items():
        endpoint = endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound("This entry has no endpoint with that id.")
        if audience not in Endpoint.Audience.values:
            raise NormalizationError(
                f"{audience!r} is not an audience ({', '.join(Endpoint.Audience.values)})."
            )
        if endpoint.audience != audience:
            endpoint_changes[str(endpoint_id)] = [endpoint.audience, audience]
            endpoint_update(endpoint=endpoint, audience=audience)
    if endpoint_changes:
        changes["endpoints"] = endpoint_changes
    if changes:
        owner = entry.owner if entry.owner_id else None
        audit_record(
            action=AuditEvent.Action.POLICY_CHANGED,
            user=owner,
            actor=user if owner is None or user.pk != owner.pk else None,
            request=request,
            entry_id=entry.pk,
            changes=changes,
        )
    return changes
