"""Reports: a signed-in person complains about an entry, a handle or an endpoint."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record
from directory.exceptions import ConflictError, Forbidden, WorldbookError
from directory.models import Endpoint, Entry, Handle
from directory.moderation.exceptions import TooManyReports
from directory.moderation.models import (
    QueueStatus,
    Report,
    ReportCase,
    TargetType,
)
from directory.moderation.services.common import (
    clean_text,
    endpoint_label,
    handle_label,
)

# --------------------------------------------------------------------------------------
# Reports


def _reports_today(reporter) -> int:
    since = timezone.now() - timedelta(days=1)
    return Report.objects.filter(reporter=reporter, created_at__gte=since).count()


@transaction.atomic
def report_file(
    *,
    reporter,
    entry: Entry,
    category: str,
    reason: str,
    handle: Handle | None = None,
    endpoint: Endpoint | None = None,
    request=None,
) -> Report:
    """File a signed-in person's report about ``entry`` (or one of its handles or
    endpoints) and group it with the open reports about the same target.

    Inputs: ``reporter`` (a signed-in user), ``entry``, ``category`` (a
    :class:`Report.Category` value), ``reason`` (1–2000 visible characters), optionally
    ``handle`` or ``endpoint`` of ``entry``. Output: the saved :class:`Report`, its
    ``case`` the open :class:`ReportCase` of the target (opened if there was none).

    Raises :class:`Forbidden` for an anonymous reporter or the entry's own owner,
    :class:`WorldbookError` for a bad category or reason or a handle/endpoint of another
    entry, :class:`TooManyReports` (429) past ``MODERATION_REPORTS_PER_DAY`` reports in 24
    hours, :class:`ConflictError` when the reporter already reported this open case.
    """
    if reporter is None or not reporter.is_authenticated:
        raise Forbidden("Sign in to report an entry.")
    if entry.owner_id == reporter.pk:
        raise Forbidden("You cannot report your own entry.")
    if category not in Report.Category.values:
        raise WorldbookError(
            f"{category!r} is not a report category ({', '.join(Report.Category.values)}).",
            errors={"category": ["Choose a category."]},
        )
    reason = clean_text(reason, "A reason")
    if handle is not None and endpoint is not None:
        raise WorldbookError("Report a handle or an endpoint, not both.")
    if handle is not None:
        if handle.entry_id != entry.pk:
            raise WorldbookError("That handle is not one of this entry's.")
        target = (TargetType.HANDLE, handle.pk, handle_label(handle))
    elif endpoint is not None:
        if endpoint.entry_id != entry.pk:
            raise WorldbookError("That endpoint is not one of this entry's.")
        target = (TargetType.ENDPOINT, endpoint.pk, endpoint_label(endpoint))
    else:
        target = (TargetType.ENTRY, entry.pk, entry.at_handle)
    if _reports_today(reporter) >= settings.MODERATION_REPORTS_PER_DAY:
        raise TooManyReports(
            f"You filed {settings.MODERATION_REPORTS_PER_DAY} reports in the last 24 hours; "
            "please wait before filing another."
        )
    target_type, target_id, label = target
    case = _open_case(entry, target_type, target_id, label)
    report = Report(case=case, reporter=reporter, category=category, reason=reason)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        raise ConflictError("You have already reported this; moderators will look at it.") from None
    ReportCase.objects.filter(pk=case.pk).update(
        report_count=F("report_count") + 1, last_reported_at=report.created_at
    )
    audit_record(
        action=AuditEvent.Action.REPORT_FILED,
        user=reporter,
        request=request,
        target=(target_type, target_id),
        category=category,
        case=case.pk,
    )
    return report


def _open_case(entry: Entry, target_type: str, target_id: int, label: str) -> ReportCase:
    for _attempt in range(2):
        case = ReportCase.objects.filter(
            target_type=target_type, target_id=target_id, status=QueueStatus.OPEN
        ).first()
        if case is not None:
            return case
        try:
            with transaction.atomic():
                return ReportCase.objects.create(
                    target_type=target_type, target_id=target_id, entry=entry, target_label=label
                )
        except IntegrityError:
            continue  # another report opened the case meanwhile: join it
    raise ConflictError("The report could not be filed; please try again.")
