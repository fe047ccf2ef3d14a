"""Entries, handles and endpoints: the directory's model admins with the moderation
actions and bounded lists."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q

from directory.admin import EndpointAdmin, EntryAdmin, HandleAdmin
from directory.exceptions import WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.moderation.admin_tools import (
    BoundedPaginator,
    ModerationPermissionsMixin,
    reasoned_action,
)
from directory.moderation.services import (
    endpoint_hide,
    entry_restore,
    entry_suspend,
    handle_reserve,
    verification_revoke,
)
from directory.normalization import normalize_directory_handle, skeleton

# How many search-backend hits the entry list's search looks at.
ADMIN_SEARCH_HITS = 100


def _reserve_entry_handle(*, entry: Entry, moderator, reason: str):
    return handle_reserve(name=entry.handle, moderator=moderator, reason=reason)


admin.site.unregister(Entry)
admin.site.unregister(Handle)
admin.site.unregister(Endpoint)


@admin.register(Entry)
class ModeratedEntryAdmin(ModerationPermissionsMixin, EntryAdmin):
    paginator = BoundedPaginator
    # A date drill-down asks the database for every distinct date: a full scan.
    date_hierarchy = None
    search_help_text = "Nickname or handle words (search index), or a handle / look-alike of one."
    actions = ("suspend", "restore", "reserve_handles")

    suspend = reasoned_action(
        "suspend",
        description="Suspend the selected entries",
        permission="suspend_entry",
        perform=entry_suspend,
        param="entry",
    )
    restore = reasoned_action(
        "restore",
        description="Restore the selected entries",
        permission="restore_entry",
        perform=entry_restore,
        param="entry",
    )
    reserve_handles = reasoned_action(
        "reserve_handles",
        description="Reserve the handles of the selected entries",
        permission="reserve_handle",
        perform=_reserve_entry_handle,
        param="entry",
    )

    def get_readonly_fields(self, request, obj=None):
        # Status changes are moderator actions, with a reason: see the list's actions.
        return (*super().get_readonly_fields(request, obj), "status")

    def save_model(self, request, obj: Entry, form, change: bool) -> None:
        form.cleaned_data.setdefault("status", Entry.Status.ACTIVE)
        super().save_model(request, obj, form, change)

    def get_search_results(self, request, queryset, search_term):
        """Words through the search backend (listed entries, typo-tolerant), plus the
        directory handle and the UTS #39 skeleton of the query against the stored
        skeletons (indexed equality, so unlisted and suspended entries are found by
        handle too): never a substring scan of the whole table."""
        term = search_term.strip()
        if not term:
            return queryset, False
        from search.backends import get_backend

        match = Q()
        try:
            ids, _total = get_backend().search(term, limit=ADMIN_SEARCH_HITS, offset=0)
        except WorldbookError as exc:
            self.message_user(request, exc.detail, messages.WARNING)
            ids = []
        if ids:
            match |= Q(pk__in=ids)
        try:
            match |= Q(handle_canonical=normalize_directory_handle(term).canonical)
        except WorldbookError:
            pass
        wanted = skeleton(term.lstrip("@"))
        if wanted:
            match |= Q(handle_skeleton=wanted) | Q(nickname_skeleton=wanted)
        if not match:
            return queryset.none(), False
        return queryset.filter(match), False


def _handle_actions():
    kept = [name for name in HandleAdmin.actions if name != "revoke"]
    return (*kept, "revoke")


@admin.register(Handle)
class ModeratedHandleAdmin(ModerationPermissionsMixin, HandleAdmin):
    paginator = BoundedPaginator
    actions = _handle_actions()

    revoke = reasoned_action(
        "revoke",
        description="Revoke the verification of the selected handles",
        permission="revoke_verification",
        perform=verification_revoke,
        param="handle",
    )


@admin.register(Endpoint)
class ModeratedEndpointAdmin(ModerationPermissionsMixin, EndpointAdmin):
    paginator = BoundedPaginator
    # Without "service": a filter on a free field selects its every distinct value.
    list_filter = tuple(f for f in EndpointAdmin.list_filter if f != "service")
    actions = ("hide",)

    hide = reasoned_action(
        "hide",
        description="Hide the selected endpoints",
        permission="hide_endpoint",
        perform=endpoint_hide,
        param="endpoint",
    )
