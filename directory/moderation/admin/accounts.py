"""The accounts app's admin lists moderators read most (people, the audit trail), kept
cheap on large tables: a bounded count, and no date drill-down (which asks the database
for every distinct date, a full scan) on the audit trail."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import AuditEventAdmin, WorldbookUserAdmin
from accounts.models import AuditEvent, User
from directory.moderation.admin_tools import BoundedPaginator

admin.site.unregister(AuditEvent)
admin.site.unregister(User)


@admin.register(AuditEvent)
class BoundedAuditEventAdmin(AuditEventAdmin):
    paginator = BoundedPaginator
    date_hierarchy = None
    list_filter = (*AuditEventAdmin.list_filter, "created_at")


@admin.register(User)
class BoundedUserAdmin(WorldbookUserAdmin):
    paginator = BoundedPaginator
