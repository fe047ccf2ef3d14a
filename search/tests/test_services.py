"""schedule_entry_sync: one index update per entry per transaction, run after commit.

These tests commit for real (``transaction=True``) so on-commit callbacks run as they do
in production.
"""

import pytest
from celery.signals import task_prerun
from django.db import transaction

from directory import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent():
    """Entry ids whose index update ran (in-process, as the tests run tasks), in order."""
    calls: list[int] = []

    def record(sender=None, args=(), **kwargs):
        if sender is not None and sender.name == "search.sync_entry":
            calls.append(args[0])

    task_prerun.connect(record, weak=False)
    try:
        yield calls
    finally:
        task_prerun.disconnect(record)


def test_it_sends_one_update_for_many_changes_in_one_transaction(sent):
    with transaction.atomic():
        entry = services.entry_create(nickname="Alice", handle="alice")
        services.handle_add(entry=entry, kind="email", raw="alice@example.com")
        services.endpoint_add(entry=entry, uri="sip:alice@example.com")
        services.endpoint_add(entry=entry, uri="mailto:alice@example.com")
    assert sent == [entry.pk]


def test_it_sends_again_in_the_next_transaction(sent):
    entry = services.entry_create(nickname="Alice", handle="alice")
    services.endpoint_add(entry=entry, uri="sip:alice@example.com")
    assert sent == [entry.pk, entry.pk]


def test_it_still_sends_when_the_savepoint_that_first_asked_rolled_back(sent):
    entry = services.entry_create(nickname="Alice", handle="alice")
    sent.clear()
    with transaction.atomic():
        try:
            with transaction.atomic():
                services.endpoint_add(entry=entry, uri="sip:alice@example.com")
                raise RuntimeError("undo this part")
        except RuntimeError:
            pass
        services.endpoint_add(entry=entry, uri="mailto:alice@example.com")
    assert sent == [entry.pk]


def test_it_sends_nothing_when_the_transaction_rolls_back(sent):
    try:
        with transaction.atomic():
            services.entry_create(nickname="Alice", handle="alice")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert sent == []
