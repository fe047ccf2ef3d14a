"""Moderation pages for people: reporting an entry, and an owner's notices and appeals.

Every page needs a signed-in person. The report page reads the entry through
:func:`directory.selectors.entry_get_by_handle`, so a suspended or missing entry answers
the same 404. Errors are shown on the page with their 4xx status; nothing is half-saved.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from directory.exceptions import NotFound, WorldbookError
from directory.moderation.models import ModerationAction, OwnerNotice, Report
from directory.moderation.services import REASON_MAX, appeal_file, report_file
from directory.policy import visible_endpoints
from directory.selectors import entry_get_by_handle


class ReportForm(forms.Form):
    target = forms.ChoiceField(label=_("What is wrong"))
    category = forms.ChoiceField(label=_("Category"), choices=Report.Category.choices)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=REASON_MAX,
        help_text=_("What moderators should know. Do not write phone numbers here."),
    )

    def __init__(self, *args, entry, caller, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("entry", _("The entry @%(handle)s itself") % {"handle": entry.handle})]
        choices += [
            (
                f"handle-{h.pk}",
                _("Handle %(kind)s: %(value)s")
                % {"kind": h.get_kind_display(), "value": h.canonical},
            )
            for h in entry.handles.all()
            if not h.canonical.startswith("+")
        ]
        choices += [
            (f"endpoint-{e.pk}", _("Endpoint %(uri)s") % {"uri": e.uri})
            for e in visible_endpoints(entry, caller)
            if e.scheme != "tel"
        ]
        self.fields["target"].choices = choices
        self.entry = entry

    def target_objects(self) -> dict:
        kind, _, pk = self.cleaned_data["target"].partition("-")
        if kind == "handle":
            return {"handle": self.entry.handles.get(pk=int(pk))}
        if kind == "endpoint":
            return {"endpoint": self.entry.endpoints.get(pk=int(pk))}
        return {}


def _error_page(request: HttpRequest, exc: WorldbookError, title: str) -> HttpResponse:
    return render(
        request, "directory/error.html", {"title": title, "message": exc.detail}, status=exc.status
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_page(request: HttpRequest, handle: str) -> HttpResponse:
    """``/moderation/report/@<handle>``: a form to report the entry, one of its handles
    or one of the endpoints the person can see, with a category and a reason.

    POST files the report (:func:`report_file`) and redirects to the entry page with a
    thank-you message; a refused report (limit reached, already reported) is shown with
    its 4xx status. A hidden or missing entry is a 404 page either way.
    """
    try:
        entry = entry_get_by_handle(handle, caller=request.user)
    except NotFound as exc:
        return _error_page(request, exc, _("Not found"))
    form = ReportForm(
        request.POST if request.method == "POST" else None, entry=entry, caller=request.user
    )
    status = 200
    if form.is_valid():
        try:
            report_file(
                reporter=request.user,
                entry=entry,
                category=form.cleaned_data["category"],
                reason=form.cleaned_data["reason"],
                request=request,
                **form.target_objects(),
            )
        except WorldbookError as exc:
            form.add_error(None, exc.detail)
            status = exc.status
        else:
            messages.success(request, _("Thank you: moderators will look at your report."))
            return redirect("entry", handle=entry.handle_canonical)
    elif request.method == "POST":
        status = 400
    return render(request, "moderation/report.html", {"entry": entry, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def notices_page(request: HttpRequest) -> HttpResponse:
    """``/account/notices``: what moderators did to the person's entries and why, newest
    first, each appealable action with its appeal form or the appeal's state."""
    notices = list(
        OwnerNotice.objects.filter(recipient=request.user)
        .select_related("action__appeal", "action__entry")
        .order_by("-created_at", "-id")[:100]
    )
    # Each action's appeal form (or the appeal's state) goes with the action's first notice.
    first: dict[int, int] = {}
    for notice in notices:
        first[notice.action_id] = min(first.get(notice.action_id, notice.pk), notice.pk)
    for notice in notices:
        notice.is_first = first[notice.action_id] == notice.pk
        notice.shows_appeal = notice.action.appealable and notice.is_first
    return render(request, "moderation/notices.html", {"notices": notices})


@login_required
@require_POST
def appeal_view(request: HttpRequest, action_id: int) -> HttpResponse:
    """``POST /account/notices/<action_id>/appeal`` (``statement``): appeal an action
    once. Another person's action is a 404, as a missing one is."""
    action = ModerationAction.objects.select_related("entry").filter(pk=action_id).first()
    if action is None or action.entry is None or action.entry.owner_id != request.user.pk:
        return _error_page(request, NotFound(_("No such action.")), _("Not found"))
    try:
        appeal_file(action=action, user=request.user, statement=request.POST.get("statement", ""))
    except WorldbookError as exc:
        return _error_page(request, exc, _("The appeal was not filed"))
    messages.success(request, _("Your appeal was filed; a senior moderator will decide it."))
    return redirect("moderation:notices")
