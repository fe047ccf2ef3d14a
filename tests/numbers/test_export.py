"""A person's data export lists their numbers: in clear while linked, not after the purge."""

from __future__ import annotations

import pytest

from accounts.data_rights import account_export
from directory.numbers import services
from tests.numbers.conftest import NUMBER, link

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_persons_numbers(alice, alice_user, bob):
    first = link(alice, "+14155550177")
    services.number_end_forwarding(linked=first)
    services.number_retire_start(linked=link(alice), days=20, audience="contacts")
    link(bob, "+14155550188")

    numbers = account_export(user=alice_user)["phone_numbers"]

    assert [(n["entry"], n["number"], n["state"]) for n in numbers] == [
        ("@alice", None, "retired"),
        ("@alice", NUMBER, "retiring"),
    ]
    assert numbers[0]["last_digits"] == "77" and numbers[0]["end_reason"] == "moderator"
    assert numbers[1]["forward_audience"] == "contacts" and numbers[1]["forward_until"]
