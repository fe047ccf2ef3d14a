"""Recycled numbers: a new owner's proof ends the old binding and forward at once, and a
race of two claims of one number loses no state."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from accounts.models import AuditEvent
from directory.exceptions import NotFound
from directory.numbers import services
from directory.numbers.errors import CodeInvalid
from directory.numbers.models import LinkedNumber, NumberVerification, RetiredNumber
from directory.numbers.selectors import number_lookup
from directory.selectors import entry_resolve
from tests.api.conftest import EntryFactory, UserFactory, claim
from tests.numbers.conftest import NUMBER, last_code, link


@pytest.mark.django_db
@pytest.mark.parametrize("retiring", [False, True], ids=["active", "retiring"])
def test_a_new_owner_ends_the_old_binding_and_forward(
    alice, alice_user, bob, bob_user, charlie_user, retiring, django_capture_on_commit_callbacks
):
    old = link(alice)
    if retiring:
        services.number_retire_start(linked=old, days=90, audience="everyone")
        assert number_lookup(NUMBER, caller=charlie_user).status == "moved"

    with django_capture_on_commit_callbacks(execute=True):
        new = link(bob)

    old.refresh_from_db()
    assert (old.state, old.e164, old.end_reason) == ("retired", None, "recycled")
    assert (new.entry, new.state, new.e164) == (bob, "active", NUMBER)
    # The forward to alice ended with the proof: the number answers as retired.
    answer = number_lookup(NUMBER, caller=charlie_user)
    assert (answer.status, answer.entry) == ("retired", None)
    assert RetiredNumber.objects.count() == 1
    # Alice is told, by email, without the number in clear.
    assert [m.to for m in mail.outbox] == [[alice_user.email]]
    assert "ending in 23" in mail.outbox[0].body and "0123" not in mail.outbox[0].body
    retired = AuditEvent.objects.get(action="number_retired")
    assert (retired.user, retired.reason) == (alice_user, "recycled")


@pytest.mark.django_db
def test_a_new_owner_revokes_an_old_messaging_handle_on_the_number(alice, bob, charlie_user):
    old = claim(alice, "whatsapp", NUMBER)
    # The old verified handle answered lookups of the number.
    assert entry_resolve(f"tel:{NUMBER}", caller=charlie_user)[0] == alice

    link(bob)

    old.refresh_from_db()
    assert old.status == "revoked"
    with pytest.raises(NotFound):
        entry_resolve(f"tel:{NUMBER}", caller=charlie_user)


@pytest.mark.django_db
def test_a_code_sent_before_the_number_moved_on_cannot_take_it_back(alice, bob):
    services.number_send_code(entry=alice, raw=NUMBER)
    stale = last_code()
    link(bob)

    with pytest.raises(CodeInvalid):
        services.number_verify(entry=alice, raw=NUMBER, code=stale)
    assert [n.entry for n in LinkedNumber.objects.bound()] == [bob]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_claims_at_once_lose_no_state(settings):
    owners = [
        EntryFactory(handle=f"claimant{n}", owner=UserFactory(username=f"claimant{n}"))
        for n in range(2)
    ]
    old_owner = EntryFactory(handle="formerowner", owner=UserFactory(username="formerowner"))
    link(old_owner)
    codes = []
    for entry in owners:
        services.number_send_code(entry=entry, raw=NUMBER)
        codes.append(last_code())

    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def claim(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[n] = services.number_verify(entry=owners[n], raw=NUMBER, code=codes[n])
        except Exception as exc:  # reported below
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # One claim wins; the other is refused cleanly (its code was spent by the winner).
    won = [r for r in results if isinstance(r, LinkedNumber)]
    refused = [r for r in results if isinstance(r, CodeInvalid)]
    assert len(won) == 1 and len(refused) == 1, results
    bound = list(LinkedNumber.objects.bound())
    assert [(b.pk, b.entry_id, b.e164) for b in bound] == [(won[0].pk, won[0].entry_id, NUMBER)]
    # The former owner's binding ended by recycling, exactly once; the loser has none.
    retired = list(LinkedNumber.objects.filter(state="retired"))
    assert [(r.entry_id, r.end_reason, r.e164) for r in retired] == [
        (old_owner.pk, "recycled", None)
    ]
    assert LinkedNumber.objects.count() == 2
    assert RetiredNumber.objects.count() == 1
    assert not NumberVerification.objects.exists()
    assert AuditEvent.objects.filter(action="number_linked").count() == 2
    assert AuditEvent.objects.filter(action="number_retired").count() == 1
