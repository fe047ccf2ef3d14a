"""The moderation queues the admin dashboard shows, as a list of descriptors.

Each :class:`Queue` names the open items of one queue (a queryset), the field that says
since when an item waits, the admin list that works it and the permission needed to see
it. Another queue joins the dashboard with one descriptor, e.g. contested handle claims::

    register_queue(Queue(
        key="contested", title="Contested verifications",
        open_items=lambda: ContestedClaim.objects.filter(status="open"),
        waiting_since="opened_at", changelist="admin:verification_contestedclaim_changelist",
        query="status__exact=open", permission="verification.view_contestedclaim",
    ))

(from the other app's ``AppConfig.ready``, or by adding it to :data:`QUEUES` here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone


@dataclass(frozen=True)
class Queue:
    """One moderation queue.

    ``key``: a short id; ``title``: what the dashboard calls it; ``open_items``: a
    callable returning the queryset of items waiting; ``waiting_since``: the name of the
    datetime field an item waits since (indexed together with the open filter, so the
    oldest item is an index lookup); ``changelist``: the admin URL name of its list
    (``admin:moderation_reportcase_changelist``) and ``query``: the filter to add to it;
    ``permission``: ``app_label.codename`` a user needs to see it.
    """

    key: str
    title: str
    open_items: Callable[[], QuerySet]
    waiting_since: str
    changelist: str
    permission: str
    query: str = ""


@dataclass(frozen=True)
class QueueSummary:
    """What the dashboard shows of one queue: ``count`` open items (exact up to
    ``ADMIN_COUNT_LIMIT``, ``count_is_bounded`` when there are more), ``oldest`` (when the
    oldest open item arrived, or ``None``) and ``url`` of its admin list."""

    queue: Queue
    count: int
    count_is_bounded: bool
    oldest: datetime | None
    url: str

    @property
    def oldest_age_seconds(self) -> int | None:
        if self.oldest is None:
            return None
        return int((timezone.now() - self.oldest).total_seconds())


def _open_reports() -> QuerySet:
    from directory.moderation.models import QueueStatus, ReportCase

    return ReportCase.objects.filter(status=QueueStatus.OPEN)


def _open_suspects() -> QuerySet:
    from directory.moderation.models import ImpersonationSuspect, QueueStatus

    return ImpersonationSuspect.objects.filter(status=QueueStatus.OPEN)


def _open_appeals() -> QuerySet:
    from directory.moderation.models import Appeal

    return Appeal.objects.filter(status=Appeal.Status.OPEN)


QUEUES: list[Queue] = [
    Queue(
        key="reports",
        title="Open reports",
        open_items=_open_reports,
        waiting_since="opened_at",
        changelist="admin:moderation_reportcase_changelist",
        query="status__exact=open",
        permission="moderation.view_reportcase",
    ),
    Queue(
        key="impersonation",
        title="Impersonation suspects",
        open_items=_open_suspects,
        waiting_since="detected_at",
        changelist="admin:moderation_impersonationsuspect_changelist",
        query="status__exact=open",
        permission="moderation.view_impersonationsuspect",
    ),
    Queue(
        key="appeals",
        title="Appeals",
        open_items=_open_appeals,
        waiting_since="filed_at",
        changelist="admin:moderation_appeal_changelist",
        query="status__exact=open",
        permission="moderation.view_appeal",
    ),
]


def register_queue(queue: Queue) -> None:
    """Add ``queue`` to the dashboard (once per ``key``)."""
    if all(existing.key != queue.key for existing in QUEUES):
        QUEUES.append(queue)


def queue_summaries(user) -> list[QueueSummary]:
    """The queues ``user`` may see, each with its count and oldest item.

    Input: the signed-in moderator. Output: one :class:`QueueSummary` per visible queue,
    in :data:`QUEUES` order. Two queries per queue, each bounded: a count of at most
    ``ADMIN_COUNT_LIMIT + 1`` rows and the first row by ``waiting_since``.
    """
    limit = settings.ADMIN_COUNT_LIMIT
    summaries = []
    for queue in QUEUES:
        if not user.has_perm(queue.permission):
            continue
        items = queue.open_items().order_by()
        count = items[: limit + 1].count()
        oldest = (
            items.order_by(queue.waiting_since).values_list(queue.waiting_since, flat=True).first()
        )
        try:
            url = reverse(queue.changelist)
        except NoReverseMatch:
            url = ""
        if url and queue.query:
            url = f"{url}?{queue.query}"
        summaries.append(QueueSummary(queue, min(count, limit), count > limit, oldest, url))
    return summaries
