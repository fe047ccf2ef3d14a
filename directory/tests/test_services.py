"""Directory writes: the actions in directory.services and the database constraints behind them."""

import pytest
from django.db import IntegrityError, transaction

from directory import services
from directory.exceptions import ConflictError, HandleTaken, NormalizationError
from directory.models import Endpoint, Entry, EntryHandleSkeleton, Handle
from directory.normalization import HandleKind, normalize_directory_handle

pytestmark = pytest.mark.django_db


def test_it_creates_an_entry_with_its_handle_forms():
    entry = services.entry_create(nickname="  Alice\u200b Liddell ", handle="@Alice")
    assert (entry.nickname, entry.handle, entry.handle_canonical) == (
        "Alice Liddell",
        "Alice",
        "alice",
    )
    assert entry.handle_skeleton == normalize_directory_handle("alice").skeleton


@pytest.mark.parametrize("taken", ["elonmusk", "ELONMUSK", "eIonmusk", "elon\u200bmusk"])
def test_it_refuses_a_handle_equal_to_or_looking_like_a_taken_one(taken):
    services.entry_create(nickname="Elon", handle="elonmusk")
    with pytest.raises(HandleTaken):
        services.entry_create(nickname="Not Elon", handle=taken)
    assert Entry.objects.count() == 1


def test_it_refuses_a_latin_handle_with_a_cyrillic_letter_as_mixed_script():
    services.entry_create(nickname="Elon", handle="elonmusk")
    with pytest.raises(NormalizationError, match="Cyrillic and Latin"):
        services.entry_create(nickname="Not Elon", handle="\u0435lonmusk")
    assert Entry.objects.count() == 1


@pytest.mark.parametrize(
    ("taken", "lookalike"),
    [
        ("KIM", "kirn"),  # KIM read lower-case is kim, which looks like kirn
        ("kirn", "KIM"),
        ("Il", "iI"),  # display skeleton of one meets case-folded skeleton of the other
        ("\u0430\u0440\u0440\u04c0\u0435", "apple"),  # Cyrillic аррӀе, whole script
        ("sæter", "saeter"),
    ],
)
def test_it_compares_both_forms_of_a_handle_against_both_forms_of_taken_ones(taken, lookalike):
    services.entry_create(nickname="First", handle=taken)
    with pytest.raises(HandleTaken, match="looks too much like"):
        services.entry_create(nickname="Second", handle=lookalike)
    assert Entry.objects.count() == 1


def test_the_database_compares_the_case_folded_skeleton_too():
    first = services.entry_create(nickname="First", handle="KIM")
    second = Entry(
        nickname="Second",
        nickname_skeleton="second",
        handle="kirn",
        handle_canonical="kirn",
        handle_skeleton="kirn",
    )
    second.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        EntryHandleSkeleton.objects.create(entry=second, skeleton="kirn")
    assert set(first.handle_skeletons.values_list("skeleton", flat=True)) == {"klrn", "kirn"}


@pytest.mark.parametrize("marked", ["alic\u0323e", "ali\u0336ce", "ali\u0327ce", "\u0131\u0307ce"])
def test_it_refuses_separate_combining_accents_beside_a_taken_handle(marked):
    services.entry_create(nickname="Alice", handle="alice")
    with pytest.raises(NormalizationError, match="accent or mark"):
        services.entry_create(nickname="Not Alice", handle=marked)


def test_it_moves_the_skeletons_with_a_changed_handle():
    entry = services.entry_create(nickname="Alice", handle="alice")
    services.entry_update(entry=entry, handle="KIM")
    services.entry_create(nickname="Other Alice", handle="alice")
    with pytest.raises(HandleTaken):
        services.entry_create(nickname="Not Kim", handle="kirn")


def test_it_refuses_a_handle_of_invisible_characters_only():
    with pytest.raises(NormalizationError):
        services.entry_create(nickname="Ghost", handle="\u200b\u200c\u200d")


def test_the_database_itself_refuses_look_alike_handles():
    original = services.entry_create(nickname="Elon", handle="elonmusk")
    lookalike = normalize_directory_handle("eIonmusk")
    other = Entry.objects.create(
        nickname="x",
        handle=lookalike.display,
        handle_canonical=lookalike.canonical,
        handle_skeleton=lookalike.skeleton,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        EntryHandleSkeleton.objects.create(entry=other, skeleton=original.handle_skeleton)


def test_the_database_allows_one_verified_owner_per_handle():
    alice = services.entry_create(nickname="Alice", handle="alice")
    mallory = services.entry_create(nickname="Mallory", handle="mallory")
    mine = services.handle_add(entry=alice, kind=HandleKind.EMAIL, raw="alice@example.com")
    theirs = services.handle_add(entry=mallory, kind=HandleKind.EMAIL, raw="ALICE@example.com")
    services.handle_mark_verified(handle=mine)
    with pytest.raises(ConflictError):
        services.handle_mark_verified(handle=theirs)
    theirs.refresh_from_db()
    assert theirs.status == Handle.Status.UNVERIFIED
    with pytest.raises(IntegrityError), transaction.atomic():
        Handle.objects.filter(pk=theirs.pk).update(
            status=Handle.Status.VERIFIED, verified_at=mine.verified_at
        )


def test_it_keeps_matrix_ids_that_differ_in_case_apart():
    alice = services.entry_create(nickname="Alice", handle="alice")
    first = services.handle_add(entry=alice, kind=HandleKind.MATRIX, raw="@Alice:matrix.org")
    second = services.handle_add(entry=alice, kind=HandleKind.MATRIX, raw="@alice:Matrix.org")
    assert first.pk != second.pk
    again = services.handle_add(entry=alice, kind=HandleKind.MATRIX, raw="@alice:matrix.org")
    assert again.pk == second.pk


def test_it_adds_endpoints_in_normal_form_and_updates_the_same_uri():
    alice = services.entry_create(nickname="Alice", handle="alice")
    first = services.endpoint_add(
        entry=alice, uri="sip:alice@Example.org", preference=10, label="desk"
    )
    second = services.endpoint_add(entry=alice, uri="SIP:alice@example.org", audience="verified")
    assert first.pk == second.pk
    second.refresh_from_db()
    assert (second.uri, second.audience, second.voice, second.text) == (
        "sip:alice@example.org",
        "verified",
        True,
        False,
    )


def test_it_refuses_a_bad_audience_or_capability_without_writing():
    alice = services.entry_create(nickname="Alice", handle="alice")
    with pytest.raises(NormalizationError):
        services.endpoint_add(entry=alice, uri="sip:alice@example.org", audience="friends")
    with pytest.raises(NormalizationError):
        services.endpoint_add(entry=alice, uri="sip:alice@example.org", capabilities=["telepathy"])
    assert not Endpoint.objects.exists()


def test_it_renames_an_entry_only_to_a_free_handle():
    services.entry_create(nickname="Bob", handle="bob")
    alice = services.entry_create(nickname="Alice", handle="alice")
    with pytest.raises(HandleTaken):
        services.entry_update(entry=alice, handle="B0B")
    services.entry_update(entry=alice, handle="Alice", nickname="Alice L.")
    alice.refresh_from_db()
    assert (alice.handle, alice.nickname) == ("Alice", "Alice L.")


def test_it_refuses_values_longer_than_their_column_without_writing():
    alice = services.entry_create(nickname="Alice", handle="alice")
    with pytest.raises(NormalizationError, match="too long"):
        services.handle_add(
            entry=alice, kind=HandleKind.WEB, raw="https://example.com/" + "a" * 600
        )
    with pytest.raises(NormalizationError, match="too long"):
        services.endpoint_add(entry=alice, uri="https://meet.jit.si/" + "a" * 2100)
    assert not Handle.objects.exists() and not Endpoint.objects.exists()


@pytest.mark.parametrize("lookalike", ["elonrnusk", "elon-musk", "elon.musk", "elon_musk"])
def test_it_refuses_handles_that_differ_only_by_rn_for_m_or_separators(lookalike):
    services.entry_create(nickname="Elon", handle="elonmusk")
    with pytest.raises(HandleTaken, match="looks too much like"):
        services.entry_create(nickname="Not Elon", handle=lookalike)


@pytest.mark.parametrize(
    "reserved",
    [
        "admin", "Support", "adrnin", "r00t", "worldbook", "adm1n", "ADMIN", "supp0rt",
        "4dmin", "s3curity", "5taff", "te4m", "R00T", "w0rldb00k",
    ],
)  # fmt: skip
def test_it_refuses_reserved_handles_and_their_look_alikes(reserved):
    with pytest.raises(HandleTaken, match="reserved"):
        services.entry_create(nickname="Staff", handle=reserved)


@pytest.mark.parametrize("handle", ["alice2", "bob1984", "r2d2", "agent007", "n1colas"])
def test_ordinary_handles_with_digits_are_not_read_as_reserved_names(handle):
    assert services.entry_create(nickname="Someone", handle=handle).handle == handle


def test_it_refuses_a_handle_of_digits_alone():
    with pytest.raises(NormalizationError, match="phone number"):
        services.entry_create(nickname="Number", handle="5551234")


def test_it_refuses_a_directory_handle_that_is_another_entrys_verified_domain():
    owner = services.entry_create(nickname="Books", handle="books")
    services.handle_mark_verified(
        handle=services.handle_add(entry=owner, kind=HandleKind.DOMAIN, raw="bücher.example")
    )
    with pytest.raises(HandleTaken, match="domain"):
        services.entry_create(nickname="Squatter", handle="xn--bcher-kva.example")
    services.entry_create(nickname="Fine", handle="other.example")
