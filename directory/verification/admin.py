"""The moderators' side of verification: the queue, "check now", bulk re-check, the
evidence of every check, and contested claims.

Pages list in a bounded number of queries (the newest check of each handle comes in
through a subquery). Actions go through :mod:`directory.verification.services` and
:mod:`directory.services` and are written to the admin history (``LogEntry``).
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from directory.models import Handle
from directory.verification.errors import VerificationUnavailable
from directory.verification.models import (
    ContestedClaim,
    VerificationCheck,
    VerificationQueueItem,
)
from directory.verification.services import (
    contested_claim_resolve,
    current_challenge,
    verification_request_check,
)

QUEUE_STATUSES = (
    Handle.Status.PENDING, Handle.Status.UNREACHABLE, Handle.Status.STALE, Handle.Status.FAILED,
)  # fmt: skip
CHECKS_ON_PAGE = 20
# Handles one "check now" action may queue: each check fetches from the internet.
MAX_BULK_CHECKS = 500
CHECK_PERMISSION = "verification.check_handle"


def _newest_check(field: str):
    return Subquery(
        VerificationCheck.objects.filter(handle=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values(field)[:1]
    )


def _queue_checks(modeladmin, request: HttpRequest, handles) -> int:
    """Queue a fresh check of each handle that has a proof to look for; returns how many."""
    queued = 0
    for handle in handles:
        try:
            verification_request_check(handle=handle, trigger=VerificationCheck.Trigger.MODERATOR)
        except VerificationUnavailable:
            continue
        modeladmin.log_change(request, handle, "Asked for a verification check")
        queued += 1
    return queued


class QueueStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*[(s.value, s.label) for s in map(Handle.Status, QUEUE_STATUSES)],
                ("verified", "Verified"), ("all", "All")]  # fmt: skip

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        if value:
            return queryset.filter(status=value)
        return queryset.filter(status__in=QUEUE_STATUSES)


class CheckInline(admin.TabularInline):
    model = VerificationCheck
    fk_name = "handle"
    fields = ("created_at", "trigger", "method", "result", "reason", "status_after",
              "evidence_link")  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name = "check"
    verbose_name_plural = f"newest checks (at most {CHECKS_ON_PAGE})"

    def get_queryset(self, request):
        newest = (
            VerificationCheck.objects.filter(handle=OuterRef("handle"))
            .order_by("-created_at", "-id")
            .values("pk")[:CHECKS_ON_PAGE]
        )
        # Bounded: the newest checks only, however many a handle has had.
        return super().get_queryset(request).filter(pk__in=Subquery(newest))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="evidence")
    def evidence_link(self, check: VerificationCheck) -> str:
        url = reverse("admin:verification_verificationcheck_change", args=[check.pk])
        return format_html('<a href="{}">view</a>', url)


@admin.register(VerificationQueueItem)
class VerificationQueueAdmin(admin.ModelAdmin):
    """Handles waiting for or in trouble with their proof; check one now or many at once."""

    list_display = ("__str__", "kind", "status", "entry", "last_result", "last_reason",
                    "checked_at")  # fmt: skip
    list_filter = (QueueStatusFilter, "kind")
    search_fields = ("canonical", "key", "entry__handle_canonical")
    list_select_related = ("entry",)
    show_full_result_count = False
    ordering = ("-checked_at",)
    actions = ("check_now",)
    inlines = (CheckInline,)
    readonly_fields = ("entry", "kind", "raw", "canonical", "status", "verified_at",
                       "checked_at", "token")  # fmt: skip
    fields = readonly_fields
    change_form_template = "admin/verification/verificationqueueitem/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(newest_result=_newest_check("result"), newest_reason=_newest_check("reason"))
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="last result", ordering="newest_result")
    def last_result(self, handle) -> str:
        return dict(VerificationCheck.Result.choices).get(handle.newest_result or "", "—")

    @admin.display(description="why")
    def last_reason(self, handle) -> str:
        text = handle.newest_reason or ""
        return text if len(text) <= 120 else text[:117] + "…"

    @admin.display(description="token to publish")
    def token(self, handle) -> str:
        challenge = current_challenge(handle)
        if challenge is None:
            return "—"
        return "(email code)" if challenge.method == "email_code" else challenge.token

    def has_check_permission(self, request: HttpRequest) -> bool:
        """Whether the user may ask for checks (``verification.check_handle``: moderators
        and senior moderators): the same permission for the button and the bulk action."""
        return request.user.has_perm(CHECK_PERMISSION)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The change page, with the "Check now" button for those who may use it."""
        extra_context = {**(extra_context or {}), "can_check": self.has_check_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Check now (re-check the selected handles)", permissions=["check"])
    def check_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        selected = queryset.count()
        if selected > MAX_BULK_CHECKS:
            self.message_user(
                request,
                f"Nothing was queued: select at most {MAX_BULK_CHECKS} handles at a time "
                f"({selected} selected).",
                messages.ERROR,
            )
            return
        queued = _queue_checks(self, request, queryset)
        skipped = selected - queued
        self.message_user(request, f"Queued {queued} check(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} handle(s) have no proof to look for (never started, or an email code).",
                messages.WARNING,
            )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/check-now/",
                self.admin_site.admin_view(self.check_now_view),
                name="verification_verificationqueueitem_check_now",
            ),
            *super().get_urls(),
        ]

    def check_now_view(self, request: HttpRequest, object_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        handle = get_object_or_404(VerificationQueueItem, pk=object_id)
        change_page = reverse("admin:verification_verificationqueueitem_change", args=[handle.pk])
        if not self.has_check_permission(request):
            self.message_user(
                request,
                "You may not ask for verification checks: that needs the permission "
                "'Can ask for a fresh verification check' (moderators have it).",
                messages.ERROR,
            )
            if self.has_view_permission(request, handle):
                return HttpResponseRedirect(change_page)
            return HttpResponseRedirect(reverse("admin:index"))
        if _queue_checks(self, request, [handle]):
            self.message_user(request, f"Queued a check of {handle}.", messages.SUCCESS)
        else:
            self.message_user(request, f"{handle} has no proof to look for.", messages.WARNING)
        return HttpResponseRedirect(change_page)


@admin.register(VerificationCheck)
class VerificationCheckAdmin(admin.ModelAdmin):
    """The evidence of every check: what was fetched, when, what matched. Read-only."""

    list_display = ("created_at", "handle", "method", "trigger", "result", "status_after",
                    "duration_ms")  # fmt: skip
    list_filter = ("result", "method", "trigger", "created_at")
    search_fields = ("handle__canonical", "handle__entry__handle_canonical")
    list_select_related = ("handle",)
    show_full_result_count = False
    date_hierarchy = "created_at"
    fields = ("handle", "challenge", "method", "trigger", "attempt", "result", "reason",
              "status_after", "duration_ms", "created_at", "evidence_pretty")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="evidence")
    def evidence_pretty(self, check: VerificationCheck) -> str:
        return format_html("<pre>{}</pre>", json.dumps(check.evidence, indent=2, sort_keys=True))


@admin.register(ContestedClaim)
class ContestedClaimAdmin(admin.ModelAdmin):
    """Second entries that proved a handle another entry holds: the moderators decide."""

    list_display = ("created_at", "handle", "claimant", "holder", "status", "resolved_by")
    list_filter = ("status", "handle__kind", "created_at")
    search_fields = ("handle__canonical", "handle__entry__handle_canonical",
                     "held_by__entry__handle_canonical")  # fmt: skip
    list_select_related = ("handle__entry", "held_by__entry", "resolved_by")
    show_full_result_count = False
    actions = ("keep_holder", "revoke_holder")
    fields = ("handle", "held_by", "check_record", "status", "created_at", "resolved_at",
              "resolved_by", "resolution")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="claimed by", ordering="handle__entry__handle_canonical")
    def claimant(self, claim: ContestedClaim):
        return claim.handle.entry

    @admin.display(description="held by", ordering="held_by__entry__handle_canonical")
    def holder(self, claim: ContestedClaim):
        return claim.held_by.entry

    @admin.action(description="Resolve: the holder keeps the handle", permissions=["change"])
    def keep_holder(self, request, queryset) -> None:
        self._resolve(request, queryset, revoke_holder=False)

    @admin.action(description="Resolve: revoke the holder's verification", permissions=["change"])
    def revoke_holder(self, request, queryset) -> None:
        self._resolve(request, queryset, revoke_holder=True)

    def _resolve(self, request, queryset, *, revoke_holder: bool) -> None:
        done = 0
        for claim in queryset.filter(status=ContestedClaim.Status.OPEN):
            claim = contested_claim_resolve(
                claim=claim, moderator=request.user, revoke_holder=revoke_holder
            )
            self.log_change(request, claim, claim.resolution)
            done += 1
        self.message_user(request, f"Resolved {done} claim(s).", messages.SUCCESS)
