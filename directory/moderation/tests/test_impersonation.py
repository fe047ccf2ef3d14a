"""Impersonation suspects: look-alikes of verified entries are queued when a nickname or
handle is created or changed; unrelated real names are not."""

from __future__ import annotations

import io

import pytest

from directory.answers import Invalidation
from directory.moderation.impersonation import (
    compact_key,
    impersonation_check,
    max_distance,
    neighbourhood,
)
from directory.moderation.models import ImpersonationSuspect, ProtectedNameKey, QueueStatus
from directory.moderation.tests.fixtures import make_user, verified_entry
from directory.services import entry_create, entry_update, handle_revoke

pytestmark = pytest.mark.django_db


@pytest.fixture
def famous(django_user_model, django_capture_on_commit_callbacks):
    """Verified entries people like to copy, their names protected as after commit."""
    celebrity = make_user(django_user_model, "celebrity")
    with django_capture_on_commit_callbacks(execute=True):
        return {
            "elon": verified_entry(celebrity, "Elon Musk", "elonmusk"),
            "vitalik": verified_entry(celebrity, "Vitalik Buterin", "vitalik"),
            "satoshi": verified_entry(celebrity, "Satoshi Nakamoto", "satoshi"),
            "ann": verified_entry(celebrity, "Ann Lee", "annlee"),
        }


@pytest.fixture
def stranger(django_user_model):
    return make_user(django_user_model, "stranger")


def _create(stranger, nickname: str, handle: str, capture):
    with capture(execute=True):
        return entry_create(nickname=nickname, handle=handle, owner=stranger)


def _suspected_of(entry) -> set[str]:
    return {
        s.resembles.handle
        for s in ImpersonationSuspect.objects.filter(entry=entry, status=QueueStatus.OPEN)
    }


@pytest.mark.parametrize(
    ("nickname", "resembles"),
    [
        ("Elon Musk", "elonmusk"),  # the same name, unverified, beside the verified one
        ("Еlоn Musk", "elonmusk"),  # Cyrillic е and о
        ("Elon Muѕk", "elonmusk"),  # Cyrillic ѕ
        ("Sаtoshi Nakamoto", "satoshi"),  # Cyrillic а
        ("Ꮩ\u13a5talik Buterin", "vitalik"),  # Cherokee Ꮩ and Ꭵ for V and i
        ("Vitalik Buteriո", "vitalik"),  # Armenian ո for n
        ("Ｅｌｏｎ Ｍｕｓｋ", "elonmusk"),  # fullwidth Latin
        ("E\u200blon Mu\u200dsk", "elonmusk"),  # zero-width space and joiner
        ("Elon\u2800Musk", "elonmusk"),  # braille blank between the words
        ("Elon\u3164Musk\u2063", "elonmusk"),  # Hangul filler, invisible separator
        ("\u2060Elon  \u00a0Musk\u180e", "elonmusk"),  # word joiner, NBSP, Mongolian sep.
        ("Elon Rnusk", "elonmusk"),  # rn for m
        ("Elon Muskk", "elonmusk"),  # one letter more
        ("Vitalik Butarin", "vitalik"),  # one letter changed
    ],
)
def test_it_flags_a_look_alike_nickname(
    famous, stranger, django_capture_on_commit_callbacks, nickname, resembles
):
    suspect = _create(stranger, nickname, "newcomer", django_capture_on_commit_callbacks)

    assert _suspected_of(suspect) == {resembles}


@pytest.mark.parametrize(
    ("handle", "resembles"),
    [
        ("elonmuskk", "elonmusk"),  # one letter more
        ("elonmusk1", "elonmusk"),  # one character more (1 looks like l)
        ("eIonmuskk", "elonmusk"),  # capital I for l, and one letter more
        ("vitallk", "vitalik"),
        ("satoshi.nakamoto", "satoshi"),  # the verified nickname as a handle
    ],
)
def test_it_flags_a_look_alike_handle(
    famous, stranger, django_capture_on_commit_callbacks, handle, resembles
):
    suspect = _create(stranger, "Someone", handle, django_capture_on_commit_callbacks)

    assert _suspected_of(suspect) == {resembles}


@pytest.mark.parametrize(
    "nickname",
    [
        "Leon Rusk",
        "Ellen Mask",
        "Elena Muskova",
        "Elon Lindqvist",
        "Vitaly Butenko",
        "Satoru Nakamura",
        "Ann Lindqvist",
        "Anna Lea",
        "Lee Ann",
        "Maria Garcia",
        "李娜",
    ],
)
def test_it_does_not_flag_unrelated_real_names(
    famous, stranger, django_capture_on_commit_callbacks, nickname
):
    suspect = _create(stranger, nickname, "newcomer", django_capture_on_commit_callbacks)

    assert _suspected_of(suspect) == set()


def test_it_flags_a_nickname_changed_into_a_look_alike(
    famous, stranger, django_capture_on_commit_callbacks
):
    entry = _create(stranger, "Plain Person", "plain", django_capture_on_commit_callbacks)
    assert _suspected_of(entry) == set()

    with django_capture_on_commit_callbacks(execute=True):
        entry_update(entry=entry, nickname="Еlon Musk")

    assert _suspected_of(entry) == {"elonmusk"}
    suspect = ImpersonationSuspect.objects.get(entry=entry)
    assert (suspect.field, suspect.suspect_value, suspect.distance) == ("nickname", "Еlon Musk", 0)


def test_it_ignores_a_name_only_an_unverified_entry_holds(
    stranger, django_user_model, django_capture_on_commit_callbacks
):
    other = make_user(django_user_model, "other")
    _create(other, "Grace Hopper", "grace", django_capture_on_commit_callbacks)

    second = _create(stranger, "Grace Hopper", "gracie", django_capture_on_commit_callbacks)

    assert _suspected_of(second) == set()


def test_it_does_not_flag_the_owner_of_the_verified_entry(
    famous, django_capture_on_commit_callbacks
):
    owner = famous["elon"].owner
    second = _create(owner, "Elon Musk", "elon-alt", django_capture_on_commit_callbacks)

    assert _suspected_of(second) == set()


def test_it_opens_one_suspect_per_pair_however_often_it_runs(
    famous, stranger, django_capture_on_commit_callbacks
):
    suspect = _create(stranger, "Elon Musk", "newcomer", django_capture_on_commit_callbacks)

    assert impersonation_check(entry_id=suspect.pk) == []
    assert ImpersonationSuspect.objects.filter(entry=suspect).count() == 1


def test_it_does_not_check_a_change_that_leaves_the_names(
    famous, stranger, django_capture_on_commit_callbacks
):
    entry = _create(stranger, "Elon Musk", "newcomer", django_capture_on_commit_callbacks)
    ImpersonationSuspect.objects.filter(entry=entry).update(status=QueueStatus.DISMISSED)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        entry_update(entry=entry, discoverable=False)

    assert not ImpersonationSuspect.objects.filter(entry=entry, status="open").exists()
    # The search sync only, besides the answer cache's invalidations.
    assert len([c for c in callbacks if not isinstance(c, Invalidation)]) == 1


def test_compact_key_and_distance_bounds():
    assert compact_key("elon rnusk") == "elonrnusk"
    assert compact_key("a.b-c_d ⠀e") == "abcde"
    assert [max_distance("x" * n) for n in (3, 5, 6, 15, 16)] == [0, 0, 1, 1, 1]


def test_neighbourhoods_of_keys_one_edit_apart_meet():
    for a, b in (("vitalik", "vitallk"), ("vitalik", "vitalikk"), ("vitalik", "vtalik")):
        assert neighbourhood(a) & neighbourhood(b)
    assert neighbourhood("annle") == {"annle"}  # short: exact only


def test_a_revoked_verification_stops_protecting_the_names(
    famous, stranger, django_capture_on_commit_callbacks
):
    elon = famous["elon"]
    assert ProtectedNameKey.objects.filter(entry=elon, key="elonrnusk").exists()

    with django_capture_on_commit_callbacks(execute=True):
        handle_revoke(handle=elon.handles.get())

    assert not ProtectedNameKey.objects.filter(entry=elon).exists()
    copy = _create(stranger, "Elon Musk", "newcomer", django_capture_on_commit_callbacks)
    assert _suspected_of(copy) == set()


def test_the_command_rebuilds_the_keys_of_every_verified_entry(famous, stranger):
    from django.core.management import call_command

    ProtectedNameKey.objects.all().delete()
    out = io.StringIO()
    call_command("moderation_protect_names", "--no-progress", stdout=out)

    assert "Protected the names of 4 verified entries" in out.getvalue()
    assert set(ProtectedNameKey.objects.values_list("entry_id", flat=True)) == {
        e.pk for e in famous.values()
    }
    copy = entry_create(nickname="Vitalik Buterin", handle="vb", owner=stranger)
    assert [s.resembles for s in impersonation_check(entry_id=copy.pk)] == [famous["vitalik"]]


def test_an_earlier_namesake_is_queued_when_the_original_gets_verified(
    stranger, django_user_model, django_capture_on_commit_callbacks
):
    early = _create(stranger, "Grace Hopper", "gracie", django_capture_on_commit_callbacks)
    grace = make_user(django_user_model, "grace")
    with django_capture_on_commit_callbacks(execute=True):
        original = verified_entry(grace, "Grace Hopper", "grace")

    assert _suspected_of(early) == {"grace"}
    assert _suspected_of(original) == set()


def test_a_verified_entry_renamed_to_an_existing_name_queues_the_earlier_one(
    famous, stranger, django_capture_on_commit_callbacks
):
    early = _create(stranger, "Ada Lovelace", "ada", django_capture_on_commit_callbacks)
    assert _suspected_of(early) == set()

    with django_capture_on_commit_callbacks(execute=True):
        entry_update(entry=famous["ann"], nickname="Ada Lovelace")

    assert _suspected_of(early) == {"annlee"}
