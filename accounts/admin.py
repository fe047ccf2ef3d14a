"""Accounts in the Django admin: people who sign in, with the entries they manage."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from accounts.models import AuditEvent, User


@admin.register(User)
class WorldbookUserAdmin(UserAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "entry_count",
        "is_staff",
        "is_active",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "email", "first_name", "last_name")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(_entry_count=Count("entries"))

    @admin.display(description="entries", ordering="_entry_count")
    def entry_count(self, user: User) -> int:
        return user._entry_count


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail for moderators: read-only, since audit events are append-only."""

    list_display = ("created_at", "action", "user", "actor", "ip_address", "target", "reason")
    list_filter = ("action",)
    list_select_related = ("user", "actor")
    search_fields = ("user__username", "user__email", "ip_address")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # Moderation: what a moderator's action was about (directory.moderation).
    @admin.display(description="target")
    def target(self, event: AuditEvent) -> str:
        return f"{event.target_type} {event.target_id}".strip()
