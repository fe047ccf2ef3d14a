"""Reads of the moderation console."""

from __future__ import annotations

from directory.moderation.models import ReservedName


def reserved_name_for(skeleton: str) -> ReservedName | None:
    """The reserved name whose UTS #39 skeleton is ``skeleton``, or ``None``.

    Input: a directory handle's skeleton (``normalize_directory_handle(...).skeleton``).
    One indexed query.
    """
    return ReservedName.objects.filter(skeleton=skeleton).first()
