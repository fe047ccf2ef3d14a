"""Fixtures shared by the moderation tests, built through the real services.

Personas: ``owner`` owns the entry ``@kim`` (a verified GitHub handle, two endpoints);
``reporter`` and ``second_reporter`` are signed-in people; ``moderator`` is staff in the
"Moderators" group, ``senior`` in "Senior moderators". Groups come from the data
migration, so the tests check the real roles.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice

from directory.models import Entry
from directory.services import endpoint_add, entry_create, handle_add, handle_mark_verified
from tests.sites import use_test_site


@pytest.fixture(autouse=True)
def moderation_site(settings):
    use_test_site(settings, "moderation")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def make_user(django_user_model, name: str, *, group: str | None = None, staff=False):
    user = django_user_model.objects.create_user(
        name, f"{name}@example.org", f"{name}-pw-1", is_staff=staff
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def owner(django_user_model):
    return make_user(django_user_model, "kim")


@pytest.fixture
def reporter(django_user_model):
    return make_user(django_user_model, "rita")


@pytest.fixture
def second_reporter(django_user_model):
    return make_user(django_user_model, "ravi")


@pytest.fixture
def moderator(django_user_model):
    return make_user(django_user_model, "mona", group="Moderators", staff=True)


@pytest.fixture
def senior(django_user_model):
    return make_user(django_user_model, "sam", group="Senior moderators", staff=True)


@pytest.fixture
def entry(owner, django_capture_on_commit_callbacks) -> Entry:
    """``@kim``: verified GitHub handle, a public SIP endpoint and a public mailto.

    Made as if committed: the after-commit work (search index, impersonation check)
    runs, so a later change of the same entry schedules its own.
    """
    with django_capture_on_commit_callbacks(execute=True):
        kim = entry_create(nickname="Kim Lindqvist", handle="kim", owner=owner)
        handle_mark_verified(handle=handle_add(entry=kim, kind="github", raw="kim-l"))
        endpoint_add(entry=kim, uri="sip:kim@example.org", preference=10)
        endpoint_add(entry=kim, uri="mailto:kim@example.org", preference=20)
    return kim


def verified_entry(owner, nickname: str, handle: str) -> Entry:
    """An entry with one verified handle: what impersonators copy."""
    created = entry_create(nickname=nickname, handle=handle, owner=owner)
    handle_mark_verified(handle=handle_add(entry=created, kind="github", raw=f"{handle}-gh"))
    return created


def admin_client_for(user) -> Client:
    """A client signed in as ``user`` whose session passed a second factor."""
    client = Client()
    device = StaticDevice.objects.create(user=user, name="Backup codes")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def ensure_moderator_groups() -> None:
    """Make the role groups again after a transactional test flushed the database (the
    data migration's own function, run against the live app registry)."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("directory.moderation.migrations.0002_moderator_groups")
    migration.create_groups(apps, None)
