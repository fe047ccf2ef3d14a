"""schedule_entry_sync: one index update per entry per transaction, sent after commit.

These tests commit for real (``transaction=True``) so on-commit callbacks run as they do
in production.
"""

import pytest
from django.db import transaction

from directory import services
from search.tasks import sync_entry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(monkeypatch):
    """Entry ids handed to the broker, in order."""
    calls: list[int] = []
    monkeypatch.setattr(sync_entry, "delay", lambda entry_id: calls.append(entry_id))
    return calls


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
