"""The dashboard's queue descriptors: counts, oldest item, and queues other apps add."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from directory.models import Handle
from directory.moderation import queues
from directory.moderation.queues import Queue, queue_summaries, register_queue
from directory.moderation.services import report_file
from directory.moderation.tests.fixtures import admin_client_for
from directory.services import handle_add

pytestmark = pytest.mark.django_db


def test_it_counts_open_items_and_finds_the_oldest(entry, reporter, second_reporter, moderator):
    with time_machine.travel(timezone.now() - timedelta(hours=5)):
        first = report_file(reporter=reporter, entry=entry, category="spam", reason="Spam.")
    report_file(reporter=second_reporter, entry=entry, category="abuse", reason="Abuse.")

    summary = {s.queue.key: s for s in queue_summaries(moderator)}["reports"]

    assert (summary.count, summary.count_is_bounded) == (1, False)  # one case, two reports
    assert summary.oldest == first.case.opened_at
    assert 5 * 3600 <= summary.oldest_age_seconds < 6 * 3600
    assert summary.url == "/admin/moderation/reportcase/?status__exact=open"


def test_the_count_stops_at_the_bound(settings, entry, owner, reporter, moderator):
    from directory.services import entry_create

    settings.ADMIN_COUNT_LIMIT = 2
    for n in range(3):
        other = entry_create(nickname=f"N{n}", handle=f"n{n}x", owner=owner)
        report_file(reporter=reporter, entry=other, category="spam", reason="Spam.")

    summary = {s.queue.key: s for s in queue_summaries(moderator)}["reports"]

    assert (summary.count, summary.count_is_bounded) == (2, True)


def test_another_app_adds_a_queue_with_one_descriptor(monkeypatch, entry, moderator):
    monkeypatch.setattr(queues, "QUEUES", list(queues.QUEUES))
    Handle.objects.filter(
        pk=handle_add(entry=entry, kind="email", raw="kim@example.org").pk
    ).update(status=Handle.Status.PENDING)
    register_queue(
        Queue(
            key="pending",
            title="Pending verifications",
            open_items=lambda: Handle.objects.filter(status=Handle.Status.PENDING),
            waiting_since="created_at",
            changelist="admin:directory_handle_changelist",
            query="status__exact=pending",
            permission="directory.view_handle",
        )
    )
    register_queue(queues.QUEUES[-1])  # once per key

    page = admin_client_for(moderator).get("/admin/").content.decode()

    assert [q.key for q in queues.QUEUES].count("pending") == 1
    row = page.split('class="queue-pending"')[1].split("</tr>")[0]
    assert "Pending verifications" in row and '<td class="queue-count">1</td>' in row
