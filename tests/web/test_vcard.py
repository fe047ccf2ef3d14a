"""The vCard 4.0 download at /@{handle}.vcf (RFC 6350)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
import vobject
from django.test import Client

from directory.services import endpoint_add, entry_create, entry_update

from .conftest import SITE_URL

pytestmark = pytest.mark.django_db


def _card(response):
    assert response.status_code == 200
    return vobject.readOne(response.content.decode("utf-8"))


def _values(card, name: str) -> list[str]:
    return [line.value for line in card.contents.get(name, [])]


def _line(card, name: str, value: str):
    found = [line for line in card.contents.get(name, []) if line.value == value]
    assert len(found) == 1, f"{name}:{value} appears {len(found)} times"
    return found[0]


def test_it_serves_a_vcard_4_attachment(client: Client, alice):
    response = client.get("/@alice.vcf")

    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="alice.vcf"'
    body = response.content.decode("utf-8")
    assert body.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n")
    assert body.endswith("END:VCARD\r\n")
    assert "\n" not in body.replace("\r\n", "")


def test_it_parses_back_with_the_expected_properties(client: Client, alice):
    card = _card(client.get("/@alice.vcf"))

    assert card.version.value == "4.0"
    assert card.fn.value == "Alice Liddell"
    assert card.nickname.value == "Alice Liddell"
    assert card.kind.value == "individual"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", card.uid.value)
    assert f"{SITE_URL}/@alice" in _values(card, "url")
    tel = _line(card, "tel", "tel:+15555550100;ext=12")
    assert tel.params["VALUE"] == ["uri"]
    assert set(tel.params["TYPE"]) == {"cell", "voice", "text"}
    assert set(_values(card, "impp")) == {
        "sip:alice@example.org",
        "matrix:u/alice:example.org",
        "xmpp:alice@example.org",
    }
    assert _line(card, "impp", "matrix:u/alice:example.org").params["SERVICE-TYPE"] == ["Matrix"]
    assert _line(card, "impp", "sip:alice@example.org").params["TYPE"] == ["work"]
    email = _line(card, "email", "alice@example.org")
    assert email.params["TYPE"] == ["home"]
    assert "https://meet.jit.si/alice-room" in _values(card, "url")


def test_it_derives_pref_from_the_preference_order(client: Client, alice):
    card = _card(client.get("/@alice.vcf"))

    prefs = {
        line.value: int(line.params["PREF"][0])
        for name in ("tel", "impp", "email")
        for line in card.contents.get(name, [])
    }
    order = [
        "sip:alice@example.org",
        "matrix:u/alice:example.org",
        "xmpp:alice@example.org",
        "alice@example.org",
        "tel:+15555550100;ext=12",
    ]
    assert [prefs[v] for v in order] == sorted(prefs[v] for v in order)
    assert len(set(prefs.values())) == len(prefs)


def test_it_carries_a_free_label_as_the_group_label(client: Client, alice):
    card = _card(client.get("/@alice.vcf"))

    xmpp = _line(card, "impp", "xmpp:alice@example.org")
    labels = [line for line in card.contents["x-ablabel"] if line.group == xmpp.group]
    assert xmpp.group and [line.value for line in labels] == ["Chat room"]


def test_it_lists_verified_handles_as_social_profiles_only(client: Client, alice):
    card = _card(client.get("/@alice.vcf"))

    profiles = {line.value: line.params["SERVICE-TYPE"] for line in card.contents["socialprofile"]}
    assert profiles["https://github.com/alice-l"] == ["GitHub"]
    assert profiles["https://alice.example.org/"] == ["Web"]
    assert profiles[f"{SITE_URL}/@alice"] == ["Worldbook"]
    assert not any("alice@example.org" in value for value in profiles)  # a claim only
    assert "5555550123" not in client.get("/@alice.vcf").content.decode()  # a phone number


def test_it_holds_only_what_an_anonymous_caller_may_see(client: Client, alice):
    body = client.get("/@alice.vcf").content.decode()

    assert "alice-private@example.org" not in body
    assert "alice-secret@example.org" not in body


def test_it_adds_signed_in_endpoints_for_a_signed_in_caller(client: Client, alice, bob_user):
    client.force_login(bob_user)
    card = _card(client.get("/@alice.vcf"))

    assert "sip:alice-private@example.org" in _values(card, "impp")
    assert "xmpp:alice-secret@example.org" not in _values(card, "impp")
    assert _line(card, "impp", "sip:alice-private@example.org").params["PREF"] == ["1"]


def test_it_keeps_the_uid_when_the_handle_changes(client: Client, alice):
    before = _card(client.get("/@alice.vcf")).uid.value
    entry_update(entry=alice, handle="alice2")
    after = _card(client.get("/@alice2.vcf"))

    assert after.uid.value == before
    assert f"{SITE_URL}/@alice2" in _values(after, "url")


def test_it_gives_each_entry_its_own_uid(client: Client, alice, bob_user):
    entry_create(nickname="Bob", handle="bob", owner=bob_user)

    assert _card(client.get("/@bob.vcf")).uid.value != _card(client.get("/@alice.vcf")).uid.value


def test_it_folds_long_lines_at_75_octets(client: Client, bob_user):
    nickname = "Жанна " * 20
    entry_create(nickname=nickname, handle="zhanna", owner=bob_user)

    response = client.get("/@zhanna.vcf")

    lines = response.content.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert _card(response).fn.value == nickname.strip()


def test_it_escapes_text_values(client: Client, bob_user):
    entry_create(nickname="Bob, the; builder", handle="builder", owner=bob_user)

    response = client.get("/@builder.vcf")

    assert b"FN:Bob\\, the\\; builder\r\n" in response.content
    assert _card(response).fn.value == "Bob, the; builder"


def test_it_answers_a_suspended_entry_exactly_like_a_missing_one(client: Client, suspended):
    hidden = client.get("/@mallory.vcf")
    missing = client.get("/@nobody-here.vcf")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    assert hidden["Content-Type"] == missing["Content-Type"]


def test_it_redirects_other_spellings_to_the_canonical_vcard(client: Client, alice):
    response = client.get("/@ALICE.vcf")

    assert response.status_code == 301
    assert response["Location"] == "/@alice.vcf"


def test_it_revises_rev_only_for_what_the_caller_sees(client: Client, alice):
    before = _card(client.get("/@alice.vcf")).rev.value

    with time_machine.travel(datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC), tick=False):
        endpoint_add(entry=alice, uri="sip:alice-hidden@example.org", audience="nobody")
    hidden_change = _card(client.get("/@alice.vcf")).rev.value
    with time_machine.travel(datetime(2032, 5, 4, 3, 2, 1, tzinfo=UTC), tick=False):
        endpoint_add(entry=alice, uri="sip:alice-new@example.org")
    visible_change = _card(client.get("/@alice.vcf")).rev.value

    assert hidden_change == before
    assert visible_change == "20320504T030201Z"
