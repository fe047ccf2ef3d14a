"""Admin pages for operators: index updates still pending, rebuilds in progress.

Both are read-only: the rows are written by the sync tasks and by ``search_reindex``, and
the fix for a pending update is to let ``search.drain_pending`` (or ``search_check --fix``)
sync it, which deletes the row.
"""

from __future__ import annotations

from django.contrib import admin

from search.models import PendingSync, ReindexCheckpoint


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PendingSync)
class PendingSyncAdmin(ReadOnlyAdmin):
    list_display = ("entry_id", "attempts", "first_failed_at", "last_failed_at", "last_error")
    list_filter = ("last_failed_at",)
    search_fields = ("=entry_id",)
    ordering = ("last_failed_at",)
    list_per_page = 100
    show_full_result_count = False  # a count of a large backlog is a full scan


@admin.register(ReindexCheckpoint)
class ReindexCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("backend", "last_entry_id", "index_uid", "started_at", "updated_at")
