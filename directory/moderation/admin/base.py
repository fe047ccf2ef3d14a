"""Shared pieces of the moderation admin: read-only and queue model admins, links."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from directory.models import Entry
from directory.moderation.admin_tools import (
    BoundedPaginator,
    ModerationPermissionsMixin,
)


def age_of(since) -> str:
    """How long ago ``since`` was, in words ("3 days, 2 hours"); "" for ``None``."""
    return timesince(since) if since else ""


def link_to_entry(entry: Entry | None) -> str:
    """An HTML link to ``entry``'s admin change page, labelled ``@handle``; "—" for none."""
    if entry is None:
        return "—"
    url = reverse("admin:directory_entry_change", args=[entry.pk])
    return format_html('<a href="{}">{}</a>', url, entry.at_handle)


def column(field: str, description, *, empty: str = "—"):
    """A changelist column showing model field ``field`` under a short heading.

    Inputs: the field's name, the ``description`` (the column heading, a short lazy
    translation) and what an empty value shows. Output: a callable for ``list_display``
    sorted by the field, showing its choice label when it has choices.
    """

    @admin.display(description=description, ordering=field)
    def show(obj) -> str:
        display = getattr(obj, f"get_{field}_display", None)
        value = display() if display is not None else getattr(obj, field)
        return value if value not in (None, "") else empty

    show.__name__ = f"{field}_column"
    return show


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows made by the moderation services only: no add, change or delete here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class QueueAdmin(ModerationPermissionsMixin, ReadOnlyAdmin):
    paginator = BoundedPaginator
    show_full_result_count = False
    list_per_page = 50
