"""The roles the data migration creates: moderators work the queues, seniors also
restore, reserve and decide appeals."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db

EVERY_MODERATOR = [
    "moderation.suspend_entry",
    "moderation.revoke_verification",
    "moderation.hide_endpoint",
    "moderation.dismiss_report",
    "moderation.view_reportcase",
    "moderation.view_impersonationsuspect",
    "moderation.view_appeal",
    "accounts.view_auditevent",
    "directory.view_entry",
]
SENIOR_ONLY = [
    "moderation.restore_entry",
    "moderation.reserve_handle",
    "moderation.decide_appeal",
]


def test_the_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Moderators",
        "Senior moderators",
    }


def test_a_moderator_works_the_queues_but_neither_restores_nor_reserves(moderator):
    assert all(moderator.has_perm(p) for p in EVERY_MODERATOR)
    assert not any(moderator.has_perm(p) for p in SENIOR_ONLY)
    assert not moderator.has_perm("accounts.change_auditevent")
    assert not moderator.has_perm("accounts.delete_auditevent")


def test_a_senior_moderator_also_restores_reserves_and_decides_appeals(senior):
    assert all(senior.has_perm(p) for p in EVERY_MODERATOR + SENIOR_ONLY)
    assert not senior.has_perm("accounts.delete_auditevent")
