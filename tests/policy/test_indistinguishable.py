"""A hidden entry, a missing entry and something the caller may not see answer alike.

"Not allowed" for resolve means: the only thing the query matches is one the caller may
not use to find the entry — a phone number whose holder is not findable by number, a
claim that was never verified, or an address that is only an endpoint (endpoints are
never lookup keys, whatever their audience). Each answers the same 404 as a handle that
matches nothing: same status, same body, same headers, byte for byte.
"""

from __future__ import annotations

import pytest

from directory.models import Entry
from directory.services import (
    endpoint_add,
    entry_create,
    entry_set_status,
    entry_update,
    handle_add,
    handle_mark_verified,
)

from .conftest import DOMAIN, client_as

pytestmark = pytest.mark.django_db


def _claim(entry, kind: str, raw: str, *, verified: bool = True):
    handle = handle_add(entry=entry, kind=kind, raw=raw)
    return handle_mark_verified(handle=handle) if verified else handle


@pytest.fixture
def world(django_user_model):
    """Pia keeps her number unfindable, Hal is suspended, Uma claimed a handle she never
    proved, and Nell lists a SIP address as an endpoint for nobody."""
    owners = {
        name: django_user_model.objects.create_user(name, f"{name}@example.org", "pw")
        for name in ("pia", "hal", "uma", "nell", "sam")
    }
    pia = entry_create(nickname="Pia", handle="pia", owner=owners["pia"])
    _claim(pia, "whatsapp", "+1 415 555 0101")
    entry_update(entry=pia, findable_by_number=False)
    hal = entry_create(nickname="Hal", handle="hal", owner=owners["hal"])
    _claim(hal, "whatsapp", "+1 415 555 0102")
    _claim(hal, "github", "hal-h")
    entry_set_status(entry=hal, status=Entry.Status.SUSPENDED)
    uma = entry_create(nickname="Uma", handle="uma", owner=owners["uma"])
    _claim(uma, "github", "uma-u", verified=False)
    nell = entry_create(nickname="Nell", handle="nell", owner=owners["nell"])
    endpoint_add(entry=nell, uri="sip:nell-private@example.org", audience="nobody")
    endpoint_add(entry=nell, uri="tel:+14155550104", audience="contacts")
    return owners


def _resolve(client, query: str):
    return client.get("/api/v1/resolve", {"handle": query})


def _same(a, b) -> None:
    assert a.status_code == b.status_code == 404
    assert a.content == b.content
    assert sorted(a.headers.items()) == sorted(b.headers.items())


# case: (a query for something hidden, a query of the same form that matches nothing).
RESOLVE_CASES = {
    "unfindable number": ("+1 415 555 0101", "+1 415 555 0199"),
    "number of a suspended entry": ("tel:+1-415-555-0102", "tel:+1-415-555-0199"),
    "handle of a suspended entry": ("https://github.com/hal-h", "https://github.com/nobody-x"),
    "directory handle of a suspended entry": ("@hal", "@nobody-here"),
    "unverified claim": ("https://github.com/uma-u", "https://github.com/nobody-y"),
    "endpoint for nobody": ("sip:nell-private@example.org", "sip:nobody@example.org"),
    "endpoint for contacts": ("+1 415 555 0104", "+1 415 555 0198"),
}


@pytest.mark.parametrize("caller", ["anonymous", "sam"])
@pytest.mark.parametrize("case", RESOLVE_CASES)
def test_resolve_answers_what_the_caller_may_not_see_as_missing(world, case, caller):
    client = client_as(None if caller == "anonymous" else world[caller])
    hidden, missing = RESOLVE_CASES[case]

    _same(_resolve(client, hidden), _resolve(client, missing))


def test_the_holder_of_an_unfindable_number_still_finds_themself(world):
    response = _resolve(client_as(world["pia"]), "+1 415 555 0101")

    assert response.status_code == 200
    assert response.json()["entry"]["handle"] == "@pia"


def test_a_findable_number_answers(world):
    pia = Entry.objects.get(handle_canonical="pia")
    entry_update(entry=pia, findable_by_number=True)

    response = _resolve(client_as(None), "+1 415 555 0101")

    assert response.status_code == 200
    assert response.json()["matched"] == "whatsapp:+14155550101"


@pytest.mark.parametrize(
    ("surface", "hidden", "missing"),
    [
        ("entry API", "/api/v1/entries/hal", "/api/v1/entries/nobody-here"),
        ("web page", "/@hal", "/@nobody-here"),
        ("vCard", "/@hal.vcf", "/@nobody-here.vcf"),
        (
            "WebFinger",
            f"/.well-known/webfinger?resource=acct:hal@{DOMAIN}",
            f"/.well-known/webfinger?resource=acct:nobody-here@{DOMAIN}",
        ),
    ],
)
@pytest.mark.parametrize("caller", ["anonymous", "sam"])
def test_a_suspended_entry_answers_as_a_missing_one(world, surface, hidden, missing, caller):
    client = client_as(None if caller == "anonymous" else world[caller])

    _same(client.get(hidden), client.get(missing))
