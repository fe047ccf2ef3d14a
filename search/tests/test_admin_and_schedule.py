"""Operators see pending index updates in the admin; beat drains them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from search.models import PendingSync
from search.tasks import drain_pending

pytestmark = pytest.mark.django_db


def test_it_lists_pending_updates_read_only_for_operators(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-Secret-9")
    device = StaticDevice.objects.create(user=admin, name="Backup codes")
    client.force_login(admin)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # the admin wants a second factor
    session.save()
    PendingSync.objects.create(entry_id=4242, attempts=3, last_error="ConnectionError: down")
    response = client.get("/admin/search/pendingsync/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "4242" in html and "ConnectionError: down" in html
    assert client.get("/admin/search/pendingsync/add/").status_code == 403


def test_it_schedules_the_drain_of_pending_updates():
    entry = settings.CELERY_BEAT_SCHEDULE["search-drain-pending"]
    assert entry["task"] == "search.drain_pending"
    assert entry["task"] == drain_pending.name
    assert entry["schedule"] == 60
