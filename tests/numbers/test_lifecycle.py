"""The whole life of a number under controlled time: linked, retiring (forwarding),
retired (purged) by the scheduled transition; and what lookups answer at each step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from accounts.models import AuditEvent
from directory.numbers import services
from directory.numbers.errors import NumberStateError
from directory.numbers.models import LinkedNumber, NumberNotice, RetiredNumber
from directory.numbers.selectors import number_lookup
from directory.numbers.tasks import advance
from tests.numbers.conftest import NUMBER, link

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_it_forwards_for_the_window_then_purges_on_schedule(alice, bob, bob_user):
    with time_machine.travel(START, tick=False) as clock:
        linked = link(alice)
        # Active: a lookup says nothing about who holds the number.
        assert number_lookup(NUMBER, caller=bob_user).status == "unknown"

        linked = services.number_retire_start(linked=linked, audience="signed_in")
        assert linked.state == LinkedNumber.State.RETIRING
        assert linked.forward_until == START + timedelta(days=90)
        moved = number_lookup(NUMBER, caller=bob_user, since=date(2026, 1, 1))
        assert (moved.status, moved.entry, moved.retired_since) == ("moved", alice, "no")

        clock.move_to(START + timedelta(days=89, hours=23))
        assert advance.delay().get() == 0
        assert number_lookup(NUMBER, caller=bob_user).status == "moved"

        clock.move_to(START + timedelta(days=90, minutes=1))
        assert advance.delay().get() == 1
        # The transition is idempotent: a second run finds nothing to do.
        assert advance.delay().get() == 0

    linked.refresh_from_db()
    assert (linked.state, linked.e164, linked.end_reason) == ("retired", None, "window_ended")
    assert linked.retired_at == START + timedelta(days=90, minutes=1)
    record = RetiredNumber.objects.get()
    assert record.retired_on == date(2026, 5, 30)
    retired = number_lookup(NUMBER, caller=bob_user, since=date(2026, 5, 1))
    assert (retired.status, retired.retired_on, retired.entry) == (
        "retired", date(2026, 5, 30), None,
    )  # fmt: skip
    assert retired.retired_since == "yes"
    assert number_lookup(NUMBER, caller=bob_user, since=date(2026, 6, 1)).retired_since == "no"
    assert number_lookup("+14155550199", caller=bob_user, since=date(2026, 6, 1)).retired_since == (
        "no_data"
    )
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"number_linked", "number_retiring", "number_retired"} <= actions


def test_it_tells_the_people_who_saved_the_entry(
    alice, bob, bob_user, django_capture_on_commit_callbacks
):
    linked = link(alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.number_retire_start(linked=linked, days=30)

    notice = NumberNotice.objects.get()
    assert (notice.recipient, notice.moved) == (bob, alice)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [bob_user.email]
    assert "@alice" in message.subject and "https://worldbook.example/@alice" in message.body
    assert "0123" not in message.body


def test_only_an_active_number_starts_retiring(alice):
    linked = services.number_retire_start(linked=link(alice), days=10)
    with pytest.raises(NumberStateError):
        services.number_retire_start(linked=linked, days=10)


@pytest.mark.parametrize("days", [0, -1, 366])
def test_the_window_is_bounded(alice, days):
    from directory.exceptions import NormalizationError

    linked = link(alice)
    with pytest.raises(NormalizationError):
        services.number_retire_start(linked=linked, days=days)
    linked.refresh_from_db()
    assert linked.state == "active"


def test_a_moderator_ends_forwarding_now(
    alice, bob_user, alice_user, django_capture_on_commit_callbacks
):
    linked = services.number_retire_start(linked=link(alice), days=60)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.number_end_forwarding(linked=linked, actor=bob_user) is True
    assert services.number_end_forwarding(linked=linked, actor=bob_user) is False

    linked.refresh_from_db()
    assert (linked.state, linked.e164, linked.end_reason) == ("retired", None, "moderator")
    assert number_lookup(NUMBER, caller=bob_user).status == "retired"
    event = AuditEvent.objects.get(action="number_retired")
    assert (event.user, event.actor, event.reason) == (alice_user, bob_user, "moderator")
    assert [m.to for m in mail.outbox] == [[alice_user.email]]
