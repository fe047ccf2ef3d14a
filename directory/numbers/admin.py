"""The moderators' console for phone numbers: numbers by state, upcoming purges, and
"end forwarding now". Numbers are shown masked (calling code and last two digits); no
admin page writes a number in clear. Every change goes through
:mod:`directory.numbers.services`, so it is atomic and audited.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from directory.numbers.models import LinkedNumber, RetiredNumber
from directory.numbers.services import number_end_forwarding


class PurgeDueFilter(admin.SimpleListFilter):
    """Retiring numbers whose window ends soon: the upcoming purges."""

    title = "purge due"
    parameter_name = "purge"

    def lookups(self, request, model_admin):
        return [("1", "within a day"), ("7", "within 7 days"), ("30", "within 30 days")]

    def queryset(self, request, queryset):
        if self.value() not in ("1", "7", "30"):
            return queryset
        until = timezone.now() + timedelta(days=int(self.value()))
        return queryset.filter(state=LinkedNumber.State.RETIRING, forward_until__lte=until)


@admin.register(LinkedNumber)
class LinkedNumberAdmin(admin.ModelAdmin):
    list_display = [
        "id", "masked", "entry", "state", "forward_audience", "linked_at", "forward_until",
        "retired_at", "end_reason",
    ]  # fmt: skip
    list_filter = ["state", PurgeDueFilter, "end_reason", "forward_audience"]
    search_fields = ["entry__handle_canonical", "=last_digits"]
    list_select_related = ["entry"]
    ordering = ["forward_until", "-linked_at"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["end_forwarding_now"]
    # The clear number is not a field of any admin page.
    fields = [
        "masked", "entry", "state", "forward_audience", "linked_at", "retiring_at",
        "forward_until", "retired_at", "end_reason",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="number")
    def masked(self, obj: LinkedNumber) -> str:
        return obj.masked

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(
        description="End forwarding now (retire and purge the selected numbers)",
        permissions=["end_forwarding"],
    )
    def end_forwarding_now(self, request: HttpRequest, queryset: QuerySet[LinkedNumber]):
        ended = 0
        for linked in queryset.exclude(state=LinkedNumber.State.RETIRED)[:500]:
            ended += number_end_forwarding(linked=linked, actor=request.user, request=request)
        messages.success(request, f"Ended {ended} number{'s' if ended != 1 else ''}.")

    def has_end_forwarding_permission(self, request: HttpRequest) -> bool:
        """Whether the user may end forwarding now (``numbers.end_forwarding``)."""
        return request.user.has_perm("numbers.end_forwarding")


@admin.register(RetiredNumber)
class RetiredNumberAdmin(admin.ModelAdmin):
    """Keyed-hash records: read only, by date and key version."""

    list_display = ["id", "retired_on", "key_version", "created_at"]
    list_filter = ["key_version", ("retired_on", admin.DateFieldListFilter)]
    date_hierarchy = "retired_on"
    ordering = ["-retired_on", "-id"]
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = ["key_version", "digest", "retired_on", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
