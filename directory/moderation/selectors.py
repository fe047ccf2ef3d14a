"""Reads of the moderation console."""

from __future__ import annotations

from directory.moderation.models import Appeal, ModerationAction, ReservedName, TargetType


def reserved_name_for(skeleton: str) -> ReservedName | None:
    """The reserved name whose UTS #39 skeleton is ``skeleton``, or ``None``.

    Input: a directory handle's skeleton (``normalize_directory_handle(...).skeleton``).
    One indexed query.
    """
    return ReservedName.objects.filter(skeleton=skeleton).first()


def endpoint_hidden_by_moderator(endpoint_id: int | None) -> bool:
    """Whether a moderator hid the endpoint ``endpoint_id`` and no appeal undid it.

    One indexed query. ``None`` (an endpoint not saved yet) is never hidden.
    """
    if endpoint_id is None:
        return False
    return (
        ModerationAction.objects.filter(
            kind=ModerationAction.Kind.HIDE_ENDPOINT,
            target_type=TargetType.ENDPOINT,
            target_id=endpoint_id,
        )
        .exclude(appeal__status=Appeal.Status.GRANTED)
        .exists()
    )
