"""Admin building blocks of the moderation console: actions that ask for a reason, and a
paginator that does not count a huge table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.exceptions import WorldbookError


class BoundedPaginator(Paginator):
    """A paginator that counts rows exactly only up to ``settings.ADMIN_COUNT_LIMIT``.

    ``count`` runs ``SELECT COUNT(*) FROM (… LIMIT n + 1)``, so a filtered list of a
    million entries costs at most ``n + 1`` index rows, never a full scan; past the bound
    the list says ``n + 1`` results and pages end there (narrow it with a filter or a
    search). Pair with ``show_full_result_count = False``.
    """

    @cached_property
    def count(self) -> int:
        limit = settings.ADMIN_COUNT_LIMIT
        object_list = self.object_list
        if isinstance(object_list, QuerySet):
            return object_list.order_by()[: limit + 1].count()
        return len(object_list)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (required)"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text=gettext_lazy("Told to the entry's owner and kept in the audit trail."),
    )


Perform = Callable[..., Any]
# Rows the reason page names (and carries as the selection); more are summed up.
LISTED_MAX = 500


def reasoned_action(
    name: str, *, description: str, permission: str, perform: Perform, param: str, target=None
):
    """Build an admin action that asks for a reason, then runs ``perform`` on each row.

    Inputs: the action's ``name``, its ``description``, the ``permission`` codename the
    model admin checks (``has_<permission>_permission``), ``perform`` (a moderation
    service called as ``perform(<param>=row, moderator=, reason=)``; it returns ``None``
    when there was nothing to do) and ``target(row)``, which maps a row to what
    ``perform`` takes (default: the row itself).

    The first POST renders a page listing the selected rows with a required reason; the
    second (``apply``) performs the action on each row in its own transaction and says
    how many were done, skipped or refused.
    """

    def action(modeladmin, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = skipped = 0
            for obj in queryset:
                try:
                    result = perform(
                        **{param: target(obj) if target else obj},
                        moderator=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except WorldbookError as exc:
                    modeladmin.message_user(request, f"{obj}: {exc.detail}", messages.ERROR)
                    continue
                if result is None:
                    skipped += 1
                else:
                    done += 1
            if skipped:
                text = _("%(action)s: done for %(done)d, nothing to do for %(skipped)d.")
            else:
                text = _("%(action)s: done for %(done)d.")
            text %= {"action": description, "done": done, "skipped": skipped}
            modeladmin.message_user(request, text, messages.SUCCESS)
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": description,
            "description": description,
            "objects": list(queryset[:LISTED_MAX]),
            # Bounded like the lists: "all N selected" across a huge table is not counted.
            "count": queryset.order_by()[: settings.ADMIN_COUNT_LIMIT + 1].count(),
            "form": form,
            "action_name": name,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/moderation/reason.html", context)

    action.__name__ = name
    return admin.action(description=description, permissions=[permission])(action)


class ModerationPermissionsMixin:
    """``has_<codename>_permission`` for each moderator permission, as admin actions
    with ``permissions=[codename]`` ask."""

    def _may(self, request, codename: str) -> bool:
        return request.user.has_perm(f"moderation.{codename}")

    def has_suspend_entry_permission(self, request) -> bool:
        return self._may(request, "suspend_entry")

    def has_restore_entry_permission(self, request) -> bool:
        return self._may(request, "restore_entry")

    def has_revoke_verification_permission(self, request) -> bool:
        return self._may(request, "revoke_verification")

    def has_hide_endpoint_permission(self, request) -> bool:
        return self._may(request, "hide_endpoint")

    def has_reserve_handle_permission(self, request) -> bool:
        return self._may(request, "reserve_handle")

    def has_dismiss_report_permission(self, request) -> bool:
        return self._may(request, "dismiss_report")

    def has_decide_appeal_permission(self, request) -> bool:
        return self._may(request, "decide_appeal")
