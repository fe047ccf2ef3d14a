"""The moderation queues and logs: reports, suspects, appeals, actions, notices,
reserved names."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect

from directory.exceptions import WorldbookError
from directory.models import Endpoint, Handle
from directory.moderation.admin.base import (
    QueueAdmin,
    ReadOnlyAdmin,
    age_of,
    link_to_entry,
)
from directory.moderation.admin_tools import (
    BoundedPaginator,
    reasoned_action,
)
from directory.moderation.models import (
    Appeal,
    ImpersonationSuspect,
    ModerationAction,
    OwnerNotice,
    Report,
    ReportCase,
    ReservedName,
    TargetType,
)
from directory.moderation.services import (
    appeal_decide,
    endpoint_hide,
    entry_suspend,
    handle_reserve,
    report_dismiss,
    suspect_dismiss,
    verification_revoke,
)
from directory.normalization import normalize_directory_handle

# --------------------------------------------------------------------------------------
# Queues


class ReportInline(admin.TabularInline):
    model = Report
    fields = ("created_at", "reporter", "category", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter")


def _case_target(case: ReportCase, model):
    return model.objects.select_related("entry__owner").filter(pk=case.target_id).first()


def _entry_of(obj):
    return obj.entry


def _suspend_case_entry(*, case: ReportCase, moderator, reason: str):
    if case.entry is None:
        raise WorldbookError("The reported entry was deleted.")
    return entry_suspend(entry=case.entry, moderator=moderator, reason=reason)


def _revoke_case_handle(*, case: ReportCase, moderator, reason: str):
    if case.target_type != TargetType.HANDLE:
        raise WorldbookError("This report is not about a handle.")
    handle = _case_target(case, Handle)
    if handle is None:
        raise WorldbookError("The reported handle is gone.")
    return verification_revoke(handle=handle, moderator=moderator, reason=reason)


def _hide_case_endpoint(*, case: ReportCase, moderator, reason: str):
    if case.target_type != TargetType.ENDPOINT:
        raise WorldbookError("This report is not about an endpoint.")
    endpoint = _case_target(case, Endpoint)
    if endpoint is None:
        raise WorldbookError("The reported endpoint is gone.")
    return endpoint_hide(endpoint=endpoint, moderator=moderator, reason=reason)


@admin.register(ReportCase)
class ReportCaseAdmin(QueueAdmin):
    list_display = (
        "target_label",
        "target_type",
        "entry_link",
        "entry_status",
        "report_count",
        "age",
        "last_reported_at",
        "status",
    )
    list_filter = ("status", "target_type")
    list_select_related = ("entry",)
    search_fields = ("target_label",)
    ordering = ("opened_at", "id")
    inlines = [ReportInline]
    fields = (
        "target_type",
        "target_id",
        "target_label",
        "entry_link",
        "status",
        "report_count",
        "opened_at",
        "last_reported_at",
        "closed_at",
        "closed_by",
    )
    readonly_fields = fields
    actions = ("suspend_entries", "revoke_handles", "hide_endpoints", "dismiss")

    suspend_entries = reasoned_action(
        "suspend_entries",
        description="Suspend the reported entries",
        permission="suspend_entry",
        perform=_suspend_case_entry,
        param="case",
    )
    revoke_handles = reasoned_action(
        "revoke_handles",
        description="Revoke the verification of the reported handles",
        permission="revoke_verification",
        perform=_revoke_case_handle,
        param="case",
    )
    hide_endpoints = reasoned_action(
        "hide_endpoints",
        description="Hide the reported endpoints",
        permission="hide_endpoint",
        perform=_hide_case_endpoint,
        param="case",
    )
    dismiss = reasoned_action(
        "dismiss",
        description="Dismiss the selected reports",
        permission="dismiss_report",
        perform=report_dismiss,
        param="case",
    )

    @admin.display(description="entry")
    def entry_link(self, case: ReportCase) -> str:
        return link_to_entry(case.entry)

    @admin.display(description="entry status")
    def entry_status(self, case: ReportCase) -> str:
        return case.entry.get_status_display() if case.entry is not None else "deleted"

    @admin.display(description="waiting", ordering="opened_at")
    def age(self, case: ReportCase) -> str:
        return age_of(case.opened_at)


@admin.register(ImpersonationSuspect)
class ImpersonationSuspectAdmin(QueueAdmin):
    list_display = (
        "suspect_value",
        "entry_link",
        "resembled_value",
        "resembles_link",
        "field",
        "distance",
        "age",
        "status",
    )
    # Only filters with fixed choices: one on a free field would ask for its every value.
    list_filter = ("status",)
    list_select_related = ("entry", "resembles")
    search_fields = ("suspect_value", "resembled_value")
    ordering = ("detected_at", "id")
    fields = (
        "entry_link",
        "suspect_value",
        "resembles_link",
        "resembled_value",
        "field",
        "distance",
        "status",
        "detected_at",
        "closed_at",
        "closed_by",
    )
    readonly_fields = fields
    actions = ("suspend_suspects", "dismiss")

    suspend_suspects = reasoned_action(
        "suspend_suspects",
        description="Suspend the suspect entries",
        permission="suspend_entry",
        perform=entry_suspend,
        param="entry",
        target=_entry_of,
    )
    dismiss = reasoned_action(
        "dismiss",
        description="Dismiss the selected suspects (false alarms)",
        permission="dismiss_report",
        perform=suspect_dismiss,
        param="suspect",
    )

    @admin.display(description="suspect entry")
    def entry_link(self, suspect: ImpersonationSuspect) -> str:
        return link_to_entry(suspect.entry)

    @admin.display(description="looks like (verified)")
    def resembles_link(self, suspect: ImpersonationSuspect) -> str:
        return link_to_entry(suspect.resembles)

    @admin.display(description="waiting", ordering="detected_at")
    def age(self, suspect: ImpersonationSuspect) -> str:
        return age_of(suspect.detected_at)


def _decide(grant: bool):
    def perform(*, appeal: Appeal, moderator, reason: str):
        if appeal.status != Appeal.Status.OPEN:
            return None
        return appeal_decide(appeal=appeal, moderator=moderator, grant=grant, reason=reason)

    return perform


@admin.register(Appeal)
class AppealAdmin(QueueAdmin):
    list_display = ("action", "entry_link", "appellant", "age", "status", "decided_by")
    list_filter = ("status", "action__kind")
    list_select_related = ("action__entry", "appellant", "decided_by")
    search_fields = ("action__target_label", "appellant__email")
    ordering = ("filed_at", "id")
    fields = (
        "action",
        "entry_link",
        "action_reason",
        "appellant",
        "statement",
        "status",
        "filed_at",
        "decided_at",
        "decided_by",
        "decision_reason",
    )
    readonly_fields = fields
    actions = ("grant", "deny")

    grant = reasoned_action(
        "grant",
        description="Grant the selected appeals (undo the actions)",
        permission="decide_appeal",
        perform=_decide(True),
        param="appeal",
    )
    deny = reasoned_action(
        "deny",
        description="Deny the selected appeals",
        permission="decide_appeal",
        perform=_decide(False),
        param="appeal",
    )

    @admin.display(description="entry")
    def entry_link(self, appeal: Appeal) -> str:
        return link_to_entry(appeal.action.entry)

    @admin.display(description="reason for the action")
    def action_reason(self, appeal: Appeal) -> str:
        return appeal.action.reason

    @admin.display(description="waiting", ordering="filed_at")
    def age(self, appeal: Appeal) -> str:
        return age_of(appeal.filed_at) if appeal.status == Appeal.Status.OPEN else ""


@admin.register(ModerationAction)
class ModerationActionAdmin(QueueAdmin):
    list_display = ("created_at", "kind", "target_label", "entry_link", "moderator", "reason")
    list_filter = ("kind", "target_type")
    list_select_related = ("entry", "moderator")
    search_fields = ("target_label",)
    date_hierarchy = None
    fields = (
        "created_at",
        "kind",
        "moderator",
        "reason",
        "entry_link",
        "target_type",
        "target_id",
        "target_label",
        "before",
        "after",
    )
    readonly_fields = fields

    @admin.display(description="entry")
    def entry_link(self, action: ModerationAction) -> str:
        return link_to_entry(action.entry)


@admin.register(OwnerNotice)
class OwnerNoticeAdmin(QueueAdmin):
    list_display = ("created_at", "subject", "recipient", "emailed_at")
    list_select_related = ("recipient",)
    search_fields = ("subject", "recipient__email")
    fields = ("created_at", "recipient", "subject", "body", "emailed_at")
    readonly_fields = fields


class ReserveForm(forms.ModelForm):
    class Meta:
        model = ReservedName
        fields = ["name", "note"]
        labels = {"note": "Reason"}

    def clean_name(self) -> str:
        try:
            return normalize_directory_handle(self.cleaned_data["name"]).display
        except WorldbookError as exc:
            raise forms.ValidationError(exc.detail) from None


@admin.register(ReservedName)
class ReservedNameAdmin(ReadOnlyAdmin):
    """Reserved directory handles. Adding one is the senior moderators' "reserve a
    handle" action (with its audit event); reservations are not edited or removed here."""

    form = ReserveForm
    list_display = ("__str__", "note", "added_by", "created_at")
    list_select_related = ("added_by",)
    search_fields = ("name", "skeleton")
    paginator = BoundedPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.reserve_handle")

    def get_fields(self, request, obj=None):
        return ("name", "note") if obj is None else ("name", "note", "added_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("name", "note", "added_by", "created_at")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except WorldbookError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj: ReservedName, form, change: bool) -> None:
        action = handle_reserve(
            name=form.cleaned_data["name"], moderator=request.user, reason=form.cleaned_data["note"]
        )
        saved = ReservedName.objects.get(name=action.after["name"])
        obj.pk = saved.pk
        obj._state.adding = False
