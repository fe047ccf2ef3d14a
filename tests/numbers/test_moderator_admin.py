"""The phone-number admin as the moderator roles see it (groups made by the moderation
data migration, permissions granted by the numbers one): they list numbers and the
retired-number records and may "end forwarding now"; they change nothing else."""

from __future__ import annotations

import pytest
from pytest_django.asserts import assertContains

from directory.moderation.tests.fixtures import admin_client_for, make_user
from directory.numbers import services
from tests.numbers.conftest import link

pytestmark = pytest.mark.django_db

URL = "/admin/numbers/linkednumber/"


@pytest.mark.parametrize("group", ["Moderators", "Senior moderators"])
def test_moderators_list_numbers_and_end_forwarding(alice, django_user_model, group):
    retiring = services.number_retire_start(linked=link(alice), days=30)
    user = make_user(django_user_model, "mona", group=group, staff=True)
    admin = admin_client_for(user)
    listing = admin.get(URL, {"state": "retiring"})
    assert listing.status_code == 200
    assertContains(listing, "+1 ••••••23")
    assert admin.get("/admin/numbers/retirednumber/").status_code == 200
    assert user.has_perm("numbers.end_forwarding")
    assert not user.has_perm("numbers.change_linkednumber")

    ended = admin.post(
        URL, {"action": "end_forwarding_now", "_selected_action": [retiring.pk]}, follow=True
    )
    assertContains(ended, "Ended 1 number")
    retiring.refresh_from_db()
    assert (retiring.state, retiring.end_reason) == ("retired", "moderator")


def test_other_staff_may_not_see_the_numbers(alice, django_user_model):
    link(alice)
    user = make_user(django_user_model, "stan", staff=True)
    assert admin_client_for(user).get(URL).status_code == 403
