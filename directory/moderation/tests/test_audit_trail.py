"""The audit trail is append-only: not through the ORM, not through SQL on PostgreSQL,
not through the admin; erasing an account may only empty its rows."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.services import audit_record
from directory.moderation.services import entry_suspend
from directory.moderation.tests.fixtures import admin_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(entry, moderator) -> AuditEvent:
    entry_suspend(entry=entry, moderator=moderator, reason="Spam listing.")
    return AuditEvent.objects.get(action="entry_suspended")


def test_it_refuses_to_save_an_existing_event(event):
    event.reason = "Nothing happened."
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    event.refresh_from_db()
    assert event.reason == "Spam listing."


def test_it_refuses_to_delete_an_event(event):
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"reason": "Edited."},
        {"action": "sign_in"},
        {"after": {"status": "active"}},
        {"data": {"x": 1}},
    ],
)
def test_it_refuses_a_bulk_update(event, changes):
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(**changes)
    event.refresh_from_db()
    assert event.reason == "Spam listing." and event.action == "entry_suspended"


def test_erasing_an_account_empties_its_events(event, owner, moderator):
    AuditEvent.objects.filter(user=owner).update(user=None, ip_address=None, data={})
    moderator.delete()  # ON DELETE SET NULL of actor

    event.refresh_from_db()
    assert (event.user, event.actor, event.data) == (None, None, {})
    assert event.reason == "Spam listing."


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditevent SET reason = 'Edited.' WHERE id = %s",
        "UPDATE accounts_auditevent SET action = 'sign_in' WHERE id = %s",
        'UPDATE accounts_auditevent SET after = \'{"status": "active"}\' WHERE id = %s',
        "UPDATE accounts_auditevent SET created_at = now() - interval '1 year' WHERE id = %s",
        "UPDATE accounts_auditevent SET actor_id = user_id WHERE id = %s",
        "DELETE FROM accounts_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_changes_behind_the_orms_back(event, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])

    event.refresh_from_db()
    assert (event.reason, event.action) == ("Spam listing.", "entry_suspended")
    assert event.after["status"] == "suspended"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE accounts_auditevent",
        "TRUNCATE accounts_auditevent CASCADE",
        # Truncating the users cascades to the audit trail (its foreign keys).
        "TRUNCATE accounts_user CASCADE",
    ],
)
def test_postgresql_refuses_to_truncate_the_audit_trail(event, sql):
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            # As in production, where nothing turns the test suite's escape hatch on.
            cursor.execute("SET LOCAL worldbook.allow_audit_truncate = 'off'")
            # The test's transaction holds deferred foreign-key checks; run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql)

    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_postgresql_lets_an_erasure_through(event, owner):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_auditevent SET user_id = NULL, ip_address = NULL, data = '{}', "
            "before = NULL, after = NULL WHERE id = %s",
            [event.pk],
        )
    event.refresh_from_db()
    assert (event.user, event.before, event.after) == (None, None, None)


def test_the_admin_shows_events_read_only_to_a_superuser(event, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "root-pw-1")
    client = admin_client_for(root)
    audit_record(action="sign_in", user=root)
    change_url = reverse("admin:accounts_auditevent_change", args=[event.pk])

    listing = client.get(reverse("admin:accounts_auditevent_changelist"))
    page = client.get(change_url)
    delete = client.post(
        reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    change = client.post(change_url, {"reason": "Edited."})
    add = client.get(reverse("admin:accounts_auditevent_add"))

    assert listing.status_code == 200
    assert b'name="action"' not in listing.content  # no bulk actions, not even delete
    assert b"Spam listing." in page.content
    assert b'type="submit"' not in page.content.split(b'id="content-main"')[1]
    assert delete.status_code == 403
    assert change.status_code == 403
    assert add.status_code == 403
    event.refresh_from_db()
    assert event.reason == "Spam listing."
