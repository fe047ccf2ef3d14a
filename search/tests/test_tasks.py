"""The sync task: what it calls, and how it retries transient errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError

from search.backends import get_backend
from search.backends.base import BackendHealth, SearchBackend
from search.models import SearchDocument
from search.tasks import sync_entry

pytestmark = pytest.mark.django_db


class FlakyBackend(SearchBackend):
    """A backend whose first ``failures`` syncs fail as a locked database does."""

    name = "flaky"
    transient_errors = (OperationalError,)
    failures = 0
    error: type[Exception] = OperationalError
    synced: list[int] = []

    def sync_entry(self, entry_id: int) -> None:
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise FlakyBackend.error("database is locked")
        FlakyBackend.synced.append(entry_id)

    def remove_entry(self, entry_id: int) -> None:
        raise AssertionError("not used")

    def search(self, query, *, limit, offset):
        raise AssertionError("not used")

    def rebuild(self, progress=None, *, batch_size=500):
        raise AssertionError("not used")

    def health(self) -> BackendHealth:
        return BackendHealth(True, self.name, None)


@pytest.fixture
def flaky(settings):
    settings.SEARCH_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures = 0
    FlakyBackend.error = OperationalError
    FlakyBackend.synced = []
    return FlakyBackend


def test_it_picks_the_backend_class_by_dotted_path(flaky):
    assert isinstance(get_backend(), FlakyBackend)


def test_it_refuses_a_backend_it_cannot_import(settings):
    settings.SEARCH_BACKEND = "search.backends.nowhere.Backend"
    with pytest.raises(ImproperlyConfigured, match="cannot import"):
        get_backend()
    settings.SEARCH_BACKEND = "search.text.fold"
    with pytest.raises(ImproperlyConfigured, match="not a SearchBackend"):
        get_backend()


@pytest.fixture
def retries_run_in_process():
    """Let an eagerly run task retry in-process instead of raising ``Retry`` at once."""
    from directory.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_it_retries_a_transient_error_until_the_sync_succeeds(flaky, retries_run_in_process):
    flaky.failures = 2
    result = sync_entry.delay(41)
    assert result.successful()
    assert flaky.synced == [41]


def test_it_gives_up_after_the_last_retry(flaky, retries_run_in_process):
    flaky.failures = 100
    result = sync_entry.delay(41)
    assert isinstance(result.result, OperationalError)
    assert flaky.synced == []
    assert flaky.failures == 100 - (sync_entry.max_retries + 1)


def test_it_does_not_retry_an_error_that_is_not_transient(flaky, retries_run_in_process):
    flaky.failures = 3
    flaky.error = ValueError
    result = sync_entry.delay(41)
    assert isinstance(result.result, ValueError)
    assert flaky.failures == 2


def test_it_indexes_through_the_task_on_commit(make_entry):
    entry = make_entry("Ottoline", "otto")
    assert SearchDocument.objects.filter(pk=entry.pk).exists()
