"""The moderation queues and logs: reports, suspects, appeals, actions, notices,
reserved names."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from directory.exceptions import WorldbookError
from directory.models import Endpoint, Handle
from directory.moderation.admin.base import (
    QueueAdmin,
    ReadOnlyAdmin,
    age_of,
    column,
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
    QueueStatus,
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
        column("target_label", _("reported")),
        column("target_type", _("kind")),
        "entry_link",
        "entry_status",
        "latest_category",
        "latest_reason",
        column("report_count", _("reports")),
        "age",
        column("last_reported_at", _("last report")),
        column("status", _("status")),
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
        "categories",
        "reasons",
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
        description=_("Suspend the reported entries"),
        permission="suspend_entry",
        perform=_suspend_case_entry,
        param="case",
    )
    revoke_handles = reasoned_action(
        "revoke_handles",
        description=_("Revoke the verification of the reported handles"),
        permission="revoke_verification",
        perform=_revoke_case_handle,
        param="case",
    )
    hide_endpoints = reasoned_action(
        "hide_endpoints",
        description=_("Hide the reported endpoints"),
        permission="hide_endpoint",
        perform=_hide_case_endpoint,
        param="case",
    )
    dismiss = reasoned_action(
        "dismiss",
        description=_("Dismiss the selected reports"),
        permission="dismiss_report",
        perform=report_dismiss,
        param="case",
    )

    change_form_template = "admin/moderation/reportcase/change_form.html"

    def get_queryset(self, request):
        """The cases with their latest report's category and reason, read in the same
        query as the list (one subquery per column, none per row)."""
        latest = Report.objects.filter(case=OuterRef("pk")).order_by("-created_at", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_report_category=Subquery(latest.values("category")[:1]),
                latest_report_reason=Subquery(latest.values("reason")[:1]),
            )
        )

    @admin.display(description=_("entry"))
    def entry_link(self, case: ReportCase) -> str:
        return link_to_entry(case.entry)

    @admin.display(description=_("entry status"))
    def entry_status(self, case: ReportCase) -> str:
        return case.entry.get_status_display() if case.entry is not None else _("deleted")

    @admin.display(description=_("category"), ordering="latest_report_category")
    def latest_category(self, case: ReportCase) -> str:
        value = getattr(case, "latest_report_category", None)
        return Report.Category(value).label if value in Report.Category.values else "—"

    @admin.display(description=_("latest reason"))
    def latest_reason(self, case: ReportCase) -> str:
        return Truncator(getattr(case, "latest_report_reason", None) or "—").chars(120)

    @admin.display(description=_("categories reported"))
    def categories(self, case: ReportCase) -> str:
        counts: dict[str, int] = {}
        for report in case.reports.all():
            label = report.get_category_display()
            counts[label] = counts.get(label, 0) + 1
        return ", ".join(f"{label} ×{n}" for label, n in counts.items()) or "—"

    @admin.display(description=_("reasons given"))
    def reasons(self, case: ReportCase) -> str:
        lines = format_html_join(
            "",
            "<li><strong>{}</strong>: {}</li>",
            ((r.get_category_display(), r.reason) for r in case.reports.all()),
        )
        return format_html('<ul class="report-reasons">{}</ul>', lines) if lines else "—"

    @admin.display(description=_("waiting"), ordering="opened_at")
    def age(self, case: ReportCase) -> str:
        return age_of(case.opened_at)

    def case_actions(self, request, case: ReportCase) -> list[dict]:
        """The moderation actions this case's page offers as buttons: those the
        moderator may take that fit its target, while the case is open. Each posts to
        the list's action, which asks for the reason first."""
        if case.status != QueueStatus.OPEN:
            return []
        offered = []
        for name in self.actions:
            if name == "suspend_entries" and case.entry is None:
                continue
            if name == "revoke_handles" and case.target_type != TargetType.HANDLE:
                continue
            if name == "hide_endpoints" and case.target_type != TargetType.ENDPOINT:
                continue
            func, _name, description = self.get_action(name)
            permissions = getattr(func, "allowed_permissions", ())
            if all(getattr(self, f"has_{p}_permission")(request) for p in permissions):
                offered.append({"name": name, "description": description})
        return offered

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if case is not None:
            extra["case_actions"] = self.case_actions(request, case)
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(ImpersonationSuspect)
class ImpersonationSuspectAdmin(QueueAdmin):
    list_display = (
        column("suspect_value", _("suspect")),
        "entry_link",
        column("resembled_value", _("looks like")),
        "resembles_link",
        column("field", _("compared")),
        column("distance", _("distance")),
        "age",
        column("status", _("status")),
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
        description=_("Suspend the suspect entries"),
        permission="suspend_entry",
        perform=entry_suspend,
        param="entry",
        target=_entry_of,
    )
    dismiss = reasoned_action(
        "dismiss",
        description=_("Dismiss the selected suspects (false alarms)"),
        permission="dismiss_report",
        perform=suspect_dismiss,
        param="suspect",
    )

    @admin.display(description=_("suspect entry"))
    def entry_link(self, suspect: ImpersonationSuspect) -> str:
        return link_to_entry(suspect.entry)

    @admin.display(description=_("verified entry"))
    def resembles_link(self, suspect: ImpersonationSuspect) -> str:
        return link_to_entry(suspect.resembles)

    @admin.display(description=_("waiting"), ordering="detected_at")
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
    list_display = (
        column("action", _("action appealed")),
        "entry_link",
        column("appellant", _("appellant")),
        "age",
        column("status", _("status")),
        column("decided_by", _("decided by")),
    )
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
        description=_("Grant the selected appeals (undo the actions)"),
        permission="decide_appeal",
        perform=_decide(True),
        param="appeal",
    )
    deny = reasoned_action(
        "deny",
        description=_("Deny the selected appeals"),
        permission="decide_appeal",
        perform=_decide(False),
        param="appeal",
    )

    @admin.display(description=_("entry"))
    def entry_link(self, appeal: Appeal) -> str:
        return link_to_entry(appeal.action.entry)

    @admin.display(description=_("reason for the action"))
    def action_reason(self, appeal: Appeal) -> str:
        return appeal.action.reason

    @admin.display(description=_("waiting"), ordering="filed_at")
    def age(self, appeal: Appeal) -> str:
        return age_of(appeal.filed_at) if appeal.status == Appeal.Status.OPEN else ""


@admin.register(ModerationAction)
class ModerationActionAdmin(QueueAdmin):
    list_display = (
        column("created_at", _("when")),
        column("kind", _("action")),
        column("target_label", _("target")),
        "entry_link",
        column("moderator", _("moderator")),
        column("reason", _("reason")),
    )
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

    @admin.display(description=_("entry"))
    def entry_link(self, action: ModerationAction) -> str:
        return link_to_entry(action.entry)


@admin.register(OwnerNotice)
class OwnerNoticeAdmin(QueueAdmin):
    list_display = (
        column("created_at", _("sent")),
        column("subject", _("subject")),
        column("recipient", _("to")),
        column("emailed_at", _("emailed")),
    )
    list_select_related = ("recipient",)
    search_fields = ("subject", "recipient__email")
    fields = ("created_at", "recipient", "subject", "body", "emailed_at")
    readonly_fields = fields


class ReserveForm(forms.ModelForm):
    class Meta:
        model = ReservedName
        fields = ["name", "note"]
        labels = {"note": _("Reason")}

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
    list_display = (
        column("name", _("name")),
        column("note", _("reason")),
        column("added_by", _("added by")),
        column("created_at", _("added")),
    )
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
