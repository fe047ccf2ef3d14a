"""Every phone-number task is safe to run twice: a message delivered again (tasks are
acknowledged after they ran) or sent twice changes nothing twice: no second mail, no second
purge, even when two runs go at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from directory.numbers import services
from directory.numbers.models import LinkedNumber, NumberNotice, RetiredNumber
from directory.numbers.tasks import advance, email_binding_ended, email_contacts
from tests.numbers.conftest import link


@pytest.mark.django_db
def test_the_contact_mail_goes_once_when_its_task_runs_twice(
    alice, bob, bob_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.number_retire_start(linked=link(alice), days=30)
    notice = NumberNotice.objects.get()
    assert [m.to for m in mail.outbox] == [[bob_user.email]]
    assert notice.emailed_at is not None

    # The same message again, and one queued before notices were named in it.
    assert (
        email_contacts.apply(args=[alice.pk, [bob.pk]], kwargs={"notice_ids": [notice.pk]}).get()
        == 0
    )
    assert email_contacts.apply(args=[alice.pk, [bob.pk]]).get() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_contact_mail_is_sent_by_the_next_run(alice, bob, bob_user, settings):
    services.number_retire_start(linked=link(alice), days=30)
    notice = NumberNotice.objects.get()
    settings.EMAIL_BACKEND = "tests.numbers.test_tasks_twice.RefusingBackend"
    with pytest.raises(OSError):
        email_contacts.apply(args=[alice.pk, [bob.pk], [notice.pk]]).get()
    # The claim was released: the retry (or a redelivery) sends it.
    notice.refresh_from_db()
    assert notice.emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert email_contacts.apply(args=[alice.pk, [bob.pk], [notice.pk]]).get() == 1
    assert [m.to for m in mail.outbox] == [[bob_user.email]]


class RefusingBackend:
    """A mail backend whose server refuses the connection."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server refused the connection")


@pytest.mark.django_db
def test_the_binding_ended_mail_goes_once_when_its_task_runs_twice(
    alice, alice_user, bob_user, django_capture_on_commit_callbacks
):
    linked = services.number_retire_start(linked=link(alice), days=60)
    with django_capture_on_commit_callbacks(execute=True):
        services.number_end_forwarding(linked=linked, actor=bob_user)
    assert [m.to for m in mail.outbox] == [[alice_user.email]]

    assert email_binding_ended.apply(args=[linked.pk]).get() is False
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_advance_runs_at_once_purge_a_due_number_once(alice):
    with time_machine.travel(datetime.now(UTC) - timedelta(days=31), tick=False):
        linked = services.number_retire_start(linked=link(alice), days=30)
    results: list[int] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(advance.apply().get())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    linked.refresh_from_db()
    assert linked.state == LinkedNumber.State.RETIRED
    assert RetiredNumber.objects.count() == 1
