"""The services the owner pages added: endpoint_move and endpoint_set_uri."""

from __future__ import annotations

import pytest

from directory.exceptions import ConflictError, NormalizationError
from directory.services import endpoint_move, endpoint_set_uri

pytestmark = pytest.mark.django_db


def order(entry) -> list[tuple[str, int]]:
    return list(entry.endpoints.order_by("preference", "id").values_list("uri", "preference"))


def test_it_swaps_preferences_with_the_neighbour(alice):
    sip = alice.endpoints.get(uri="sip:alice@example.org")

    endpoint_move(endpoint=sip, direction="down")

    assert order(alice) == [("xmpp:alice@example.org", 10), ("sip:alice@example.org", 20)]


def test_it_leaves_the_ends_where_they_are(alice):
    sip = alice.endpoints.get(uri="sip:alice@example.org")
    xmpp = alice.endpoints.get(uri="xmpp:alice@example.org")

    endpoint_move(endpoint=sip, direction="up")
    endpoint_move(endpoint=xmpp, direction="down")

    assert order(alice) == [("sip:alice@example.org", 10), ("xmpp:alice@example.org", 20)]


def test_it_refuses_an_unknown_direction(alice):
    with pytest.raises(NormalizationError):
        endpoint_move(endpoint=alice.endpoints.first(), direction="left")


def test_it_points_an_endpoint_at_a_new_uri_keeping_its_settings(alice):
    sip = alice.endpoints.get(uri="sip:alice@example.org")

    endpoint_set_uri(endpoint=sip, uri="https://matrix.to/#/@alice:example.org")

    sip.refresh_from_db()
    assert (sip.scheme, sip.service, sip.label, sip.preference) == ("https", "matrix", "work", 10)


def test_it_refuses_a_uri_the_entry_already_lists(alice):
    sip = alice.endpoints.get(uri="sip:alice@example.org")

    with pytest.raises(ConflictError):
        endpoint_set_uri(endpoint=sip, uri="xmpp:alice@example.org")
    with pytest.raises(NormalizationError):
        endpoint_set_uri(endpoint=sip, uri="gopher://x")
    sip.refresh_from_db()
    assert sip.uri == "sip:alice@example.org"
