"""The admin console: pages load in few queries, search finds look-alikes, saves go
through the directory services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from pytest_django.asserts import assertContains

from directory.models import Endpoint, Entry, Handle
from directory.services import endpoint_add, entry_create, handle_add, handle_mark_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, django_user_model) -> Client:
    """A superuser whose session passed a second factor, as the admin requires."""
    root = django_user_model.objects.create_superuser("root", "root@example.org", "root-pw-1")
    device = StaticDevice.objects.create(user=root, name="Backup codes")
    client.force_login(root)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def many_entries(bob_user) -> list[Entry]:
    entries = []
    for n in range(12):
        entry = entry_create(nickname=f"Person {n}", handle=f"person{n}", owner=bob_user)
        handle_mark_verified(handle=handle_add(entry=entry, kind="github", raw=f"person-{n}"))
        endpoint_add(entry=entry, uri=f"sip:person{n}@example.org")
        entries.append(entry)
    return entries


def _inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _add_entry_form(**fields) -> dict[str, str]:
    data = {"nickname": "", "handle": "", "owner": "", "discoverable": "on", "status": "active"}
    data.update(fields)
    data.update(_inline_management("handles"))
    data.update(_inline_management("endpoints"))
    return data


@pytest.mark.parametrize(
    "model", ["directory/entry", "directory/handle", "directory/endpoint", "accounts/user"]
)
def test_it_loads_each_changelist_in_few_queries(
    admin_client, many_entries, django_assert_max_num_queries, model
):
    # Twelve rows, a handful of queries: no query per row.
    with django_assert_max_num_queries(7):
        response = admin_client.get(f"/admin/{model}/")

    assert response.status_code == 200


def test_it_lists_entries_with_their_columns(admin_client, many_entries):
    response = admin_client.get("/admin/directory/entry/?status__exact=active")

    assertContains(response, "@person7")
    assertContains(response, "Person 7")


def test_it_loads_an_entry_change_page_with_inlines_in_few_queries(
    admin_client, alice, django_assert_max_num_queries
):
    with django_assert_max_num_queries(9):
        response = admin_client.get(reverse("admin:directory_entry_change", args=[alice.pk]))

    assert response.status_code == 200
    assertContains(response, "alice-l")  # the handle inline
    assertContains(response, "sip:alice@example.org")  # the endpoint inline
    assertContains(response, alice.handle_skeleton)  # read-only computed field


@pytest.mark.parametrize("model", ["handle", "endpoint"])
def test_it_loads_handle_and_endpoint_change_pages(admin_client, alice, model):
    obj = (Handle if model == "handle" else Endpoint).objects.filter(entry=alice).first()

    response = admin_client.get(reverse(f"admin:directory_{model}_change", args=[obj.pk]))

    assert response.status_code == 200


@pytest.mark.parametrize("query", ["eIonmusk", "еlonmusk", "@ELONMUSK", "e1onmusk"])
def test_it_finds_an_entry_by_the_skeleton_of_the_query(admin_client, bob_user, query):
    entry_create(nickname="Elon", handle="elonmusk", owner=bob_user)
    entry_create(nickname="Someone else", handle="other", owner=bob_user)

    response = admin_client.get("/admin/directory/entry/", {"q": query})

    assertContains(response, "@elonmusk")
    assert b"@other" not in response.content


def test_it_finds_a_handle_by_the_skeleton_of_the_query(admin_client, alice):
    response = admin_client.get("/admin/directory/handle/", {"q": "aIice-I"})

    assertContains(response, "github:alice-l")


def test_it_refuses_a_look_alike_handle_with_a_form_error(admin_client, bob_user):
    entry_create(nickname="Elon", handle="elonmusk", owner=bob_user)

    response = admin_client.post(
        reverse("admin:directory_entry_add"), _add_entry_form(nickname="Fake", handle="eIonmusk")
    )

    assert response.status_code == 200
    assertContains(response, "looks too much like @elonmusk")
    assert Entry.objects.count() == 1


def test_it_refuses_an_invalid_handle_with_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:directory_entry_add"), _add_entry_form(nickname="X", handle="a b")
    )

    assert response.status_code == 200
    assertContains(response, "is not allowed")
    assert not Entry.objects.exists()


def test_it_creates_an_entry_with_handles_and_endpoints_through_the_services(
    admin_client, bob_user
):
    data = _add_entry_form(nickname="  Zoë  ", handle="@Zoe", owner=str(bob_user.pk))
    data.update(_inline_management("handles", total=1))
    data.update({"handles-0-kind": "fediverse", "handles-0-raw": "@Zoe@Mastodon.Social"})
    data.update(_inline_management("endpoints", total=1))
    data.update(
        {
            "endpoints-0-uri": "https://matrix.to/#/@zoe:Example.org",
            "endpoints-0-audience": "signed_in",
            "endpoints-0-preference": "5",
            "endpoints-0-label": "",
        }
    )

    response = admin_client.post(reverse("admin:directory_entry_add"), data)

    assert response.status_code == 302, response.content.decode()
    entry = Entry.objects.get()
    assert (entry.handle, entry.handle_canonical, entry.nickname) == ("Zoe", "zoe", "Zoë")
    assert entry.handle_skeleton and entry.owner == bob_user
    handle = entry.handles.get()
    assert (handle.canonical, handle.status) == ("Zoe@mastodon.social", "unverified")
    endpoint = entry.endpoints.get()
    assert endpoint.uri == "https://matrix.to/#/@zoe:example.org"
    assert endpoint.capabilities == ["voice", "video", "text"]  # the scheme's defaults
    assert endpoint.audience == "signed_in"


def test_it_writes_nothing_when_an_inline_endpoint_is_bad(admin_client, bob_user):
    data = _add_entry_form(nickname="Zoe", handle="zoe")
    data.update(_inline_management("endpoints", total=1))
    data.update(
        {
            "endpoints-0-uri": "javascript:alert(1)",
            "endpoints-0-audience": "everyone",
            "endpoints-0-preference": "100",
        }
    )

    response = admin_client.post(reverse("admin:directory_entry_add"), data)

    assert response.status_code == 200
    assertContains(response, "is not an endpoint scheme Worldbook supports")
    assert not Entry.objects.exists()


def test_it_changes_an_entry_through_the_services(admin_client, alice):
    url = reverse("admin:directory_entry_change", args=[alice.pk])
    page = admin_client.get(url)
    formsets = {
        name: page.context["inline_admin_formsets"][i].formset
        for i, name in enumerate(("handles", "endpoints"))
    }
    # The status is no form field: suspending is a moderator action with a reason.
    data = {"nickname": "Alice L.", "handle": "Alice_L", "discoverable": "", "status": "suspended"}
    for prefix, formset in formsets.items():
        data.update(
            _inline_management(prefix, formset.total_form_count() - 1, formset.initial_form_count())
        )
        for i, form in enumerate(formset.initial_forms):
            for name, field in form.fields.items():
                value = form.initial.get(name, field.initial)
                if isinstance(value, bool):
                    if value:
                        data[f"{prefix}-{i}-{name}"] = "on"
                elif value is not None:
                    data[f"{prefix}-{i}-{name}"] = str(getattr(value, "pk", value))
    sip = next(
        i
        for i, f in enumerate(formsets["endpoints"].initial_forms)
        if f.instance.uri == "sip:alice@example.org"
    )
    data[f"endpoints-{sip}-audience"] = "verified"
    data[f"endpoints-{sip}-DELETE"] = ""
    email = next(
        i for i, f in enumerate(formsets["handles"].initial_forms) if f.instance.kind == "email"
    )
    data[f"handles-{email}-DELETE"] = "on"

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    alice.refresh_from_db()
    assert (alice.handle, alice.handle_canonical, alice.nickname) == (
        "Alice_L",
        "alice_l",
        "Alice L.",
    )
    assert alice.status == "active" and alice.discoverable is False
    assert alice.endpoints.get(uri="sip:alice@example.org").audience == "verified"
    assert not alice.handles.filter(kind="email").exists()


def test_it_suspends_entries_with_an_action_and_a_reason(admin_client, alice, client):
    selected = {"action": "suspend", "_selected_action": [str(alice.pk)]}
    asked = admin_client.post("/admin/directory/entry/", selected)
    response = admin_client.post(
        "/admin/directory/entry/", {**selected, "apply": "yes", "reason": "Spam."}
    )

    assertContains(asked, "Reason (required)")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.status == "suspended"


def test_it_revokes_a_verification_with_an_action_and_a_reason(admin_client, alice):
    github = alice.handles.get(kind="github")

    admin_client.post(
        "/admin/directory/handle/",
        {
            "action": "revoke",
            "_selected_action": [str(github.pk)],
            "apply": "yes",
            "reason": "Proof gone.",
        },
    )

    github.refresh_from_db()
    assert github.status == "revoked"


def test_it_reports_a_verification_conflict_instead_of_failing(admin_client, alice, bob_user):
    impostor = entry_create(nickname="Not Alice", handle="notalice", owner=bob_user)
    claim = handle_add(entry=impostor, kind="github", raw="alice-l")

    response = admin_client.post(
        "/admin/directory/handle/",
        {"action": "mark_verified", "_selected_action": [str(claim.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assertContains(response, "already verified by another entry")
    claim.refresh_from_db()
    assert claim.status == "unverified"
